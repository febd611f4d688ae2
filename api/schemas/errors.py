"""The one body of every error answer (DESIGN 5), and of the health probe."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    field: str = Field(description="Where the invalid value is, e.g. lines.0.quantity_kg.")
    message: str


class ErrorBody(BaseModel):
    detail: str = Field(description="What went wrong, for a person.")
    code: str = Field(description="What went wrong, for a program: e.g. task_taken, not_issued.")
    errors: list[FieldError] | None = Field(
        default=None, description="With 422 for an invalid request: each invalid field."
    )


Probe = Literal["ok", "unavailable"]


class HealthRead(BaseModel):
    status: Probe
    database: Probe
    temporal: Probe


class HealthUnavailable(ErrorBody, HealthRead):
    """503: which of the database and Temporal did not answer."""
