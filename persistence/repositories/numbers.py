"""Certificate numbers (R5): allocated once per certificate, in sequence per (certifier, exporter).

The sequence row is incremented by one UPDATE ... RETURNING, which takes the row's write lock on
PostgreSQL (a concurrent allocation waits, then reads the committed value) and the database
write lock on SQLite, so two issuances never get the same sequence. A number, once allocated,
is never given back: a voided or replaced certificate keeps it, and the sequence only grows.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict, NotFound
from domain.numbering import format_number
from persistence.models import Certificate, NumberSequence

# No 0/O, 1/I/L: the code is read off paper and typed in by people.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class NumberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def allocate(self, certificate_id: str) -> tuple[str, str]:
        """(number, verification code) of the certificate, allocating them the first time.

        The caller owns the transaction: the number and the sequence commit together or not at
        all. Raises NotFound for an unknown certificate, ValueError when the sequence of its
        (certifier, exporter) is exhausted, Conflict when a concurrent call numbered it first.
        """
        certificate = await self.session.scalar(
            select(Certificate).where(Certificate.id == certificate_id).with_for_update()
        )
        if certificate is None:
            raise NotFound(f"certificate {certificate_id} not found", code="certificate_not_found")
        if certificate.number is not None and certificate.verification_code is not None:
            return certificate.number, certificate.verification_code
        sequence = await self._next_sequence(certificate.certifier_id, certificate.exporter_id)
        number = format_number(certificate.certifier_id, certificate.exporter_id, sequence)
        code = new_verification_code()
        # Guarded by "still without a number": on SQLite the read above holds no lock, so a
        # concurrent allocation may have committed in between; that one wins and this fails.
        numbered = await self.session.execute(
            update(Certificate)
            .where(Certificate.id == certificate_id, Certificate.number.is_(None))
            .values(number=number, verification_code=code)
            .execution_options(synchronize_session=False)
        )
        if numbered.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(
                f"certificate {certificate_id} was numbered concurrently", code="number_race"
            )
        certificate.number, certificate.verification_code = number, code
        return number, code

    async def _next_sequence(self, certifier_id: str, exporter_id: str) -> int:
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await self.session.execute(
            insert(NumberSequence)
            .values(certifier_id=certifier_id, exporter_id=exporter_id, last_sequence=0)
            .on_conflict_do_nothing()
        )
        sequence = await self.session.scalar(
            update(NumberSequence)
            .where(
                NumberSequence.certifier_id == certifier_id,
                NumberSequence.exporter_id == exporter_id,
            )
            .values(last_sequence=NumberSequence.last_sequence + 1)
            .returning(NumberSequence.last_sequence)
        )
        assert sequence is not None, "the sequence row was inserted above"
        return int(sequence)
