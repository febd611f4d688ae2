"""Checking a certificate by its number and code: the API's `/api/verify` and the public page
answer with these same facts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.verification import VerificationRead
from domain.errors import NotFound
from persistence.repositories import CertificateRepository


async def verify_certificate(session: AsyncSession, number: str, code: str) -> VerificationRead:
    """In force or not, with status and dates only; without the right code, nothing at all."""
    row = await CertificateRepository(session).by_verification(number, code)
    if row is None or row.issued_at is None:
        # The same answer for an unknown number and a wrong code: a number alone reveals nothing.
        raise NotFound("no certificate with this number and code", code="not_found")
    return VerificationRead.of(row, now=datetime.now(UTC))
