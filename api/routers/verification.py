"""Public: anyone holding a certificate's number and code checks it; the key that signs them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, SettingsDep
from api.responses import errors
from api.schemas.verification import PublicKeyRead, SigningKeyRead, VerificationRead
from api.verification import verify_certificate
from domain.signing import key_id
from persistence.keys import public_keys

router = APIRouter(prefix="/api", tags=["verification"])


@router.get("/verify/{number}", responses=errors(404, 422, 503))
async def verify(
    number: str,
    code: Annotated[str, Query(min_length=1, max_length=64)],
    session: SessionDep,
) -> VerificationRead:
    """In force or not, with status and dates only; without the right code, nothing at all."""
    return await verify_certificate(session, number, code)


@router.get("/keys/signing")
async def signing_key(settings: SettingsDep) -> SigningKeyRead:
    """The public half of the key documents are signed with, to check a signature offline, and
    the keys it replaced, for the documents they signed."""
    keys = public_keys(settings)
    return SigningKeyRead(
        key_id=key_id(keys.current),
        public_key_pem=keys.current.decode("ascii"),
        previous=[
            PublicKeyRead(key_id=key_id(pem), public_key_pem=pem.decode("ascii"))
            for pem in keys.previous
        ],
    )
