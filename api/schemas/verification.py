"""What anyone may learn without signing in: whether a certificate is in force, and the key."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Literal

from pydantic import BaseModel

from domain.customs import expires_at
from domain.model import Status
from persistence.models import Certificate

IN_FORCE = frozenset({Status.ISSUED, Status.DELIVERED})


class VerificationRead(BaseModel):
    """Deliberately no parties, product or quantities: only what the code's holder must check."""

    number: str
    valid: bool
    status: Status
    valid_from: date
    valid_until: date

    @classmethod
    def of(cls, row: Certificate, *, now: datetime) -> VerificationRead:
        assert row.number is not None, "only a numbered certificate can be verified"
        status = Status(row.status)
        starts = datetime.combine(row.valid_from, time(0), tzinfo=UTC)
        return cls(
            number=row.number,
            valid=status in IN_FORCE and starts <= now < expires_at(row.valid_until),
            status=status,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
        )


class PublicKeyRead(BaseModel):
    algorithm: Literal["Ed25519"] = "Ed25519"
    key_id: str
    public_key_pem: str


class SigningKeyRead(PublicKeyRead):
    """The key documents are signed with now; `previous`: the keys it replaced, which still
    check the documents they signed (a document's seal names its key's id)."""

    previous: list[PublicKeyRead] = []
