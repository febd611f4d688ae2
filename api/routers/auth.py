"""Sign-in (OAuth2 password flow) and who the caller is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import (
    ClientAddress,
    CurrentUser,
    LoginThrottleDep,
    SessionDep,
    SettingsDep,
    reads_only,
)
from api.responses import SIGNED_IN, errors
from api.schemas.auth import MeRead, OrganisationRead, TokenRead
from api.security import authenticate, issue_token
from persistence.repositories import RegistryRepository

router = APIRouter(prefix="/api", tags=["auth"])


@router.post("/auth/token", responses=errors(401, 413, 422, 429, 503))
async def issue_access_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    throttle: LoginThrottleDep,
    address: ClientAddress,
) -> TokenRead:
    user = await authenticate(
        session, form.username, form.password, throttle=throttle, address=address
    )
    return TokenRead(
        access_token=issue_token(settings, user.id),
        expires_in=settings.jwt_ttl_minutes * 60,
    )


@router.get("/me", responses=errors(*SIGNED_IN))
@reads_only
async def read_me(user: CurrentUser, session: SessionDep) -> MeRead:
    organisation = None
    if user.organisation_id is not None:
        org = await RegistryRepository(session).organisation(user.organisation_id)
        if org is not None:
            organisation = OrganisationRead(id=org.id, name=org.name, kind=org.kind)
    return MeRead(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        organisation=organisation,
    )
