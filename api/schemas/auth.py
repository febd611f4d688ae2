from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from domain.model import Role


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class OrganisationRead(BaseModel):
    id: str
    name: str
    kind: str


class MeRead(BaseModel):
    id: str
    email: str
    full_name: str
    role: Role
    organisation: OrganisationRead | None
