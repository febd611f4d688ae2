"""Public: anyone holding a certificate's number and code checks it; the key that signs them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, SettingsDep
from api.responses import errors
from api.schemas.verification import SigningKeyRead, VerificationRead
from domain.errors import NotFound
from domain.signing import key_id, public_key_pem
from persistence.keys import signing_key_pem
from persistence.repositories import CertificateRepository

router = APIRouter(prefix="/api", tags=["verification"])


@router.get("/verify/{number}", responses=errors(404, 422, 503))
async def verify(
    number: str,
    code: Annotated[str, Query(min_length=1, max_length=64)],
    session: SessionDep,
) -> VerificationRead:
    """In force or not, with status and dates only; without the right code, nothing at all."""
    row = await CertificateRepository(session).by_verification(number, code)
    if row is None or row.issued_at is None:
        # The same answer for an unknown number and a wrong code: a number alone reveals nothing.
        raise NotFound("no certificate with this number and code", code="not_found")
    return VerificationRead.of(row, now=datetime.now(UTC))


@router.get("/keys/signing")
async def signing_key(settings: SettingsDep) -> SigningKeyRead:
    """The public half of the key documents are signed with, to check a signature offline."""
    public = public_key_pem(signing_key_pem(settings))
    return SigningKeyRead(key_id=key_id(public), public_key_pem=public.decode("ascii"))
