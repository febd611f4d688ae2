"""What a certificate was used for: customs entries (R7) and reported actual shipments (R8).

Both are read through the caller's scope on the certificate they belong to.
"""

from __future__ import annotations

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import Actor
from persistence.models import ActualShipment, Certificate, CustomsEntry
from persistence.repositories.pagination import (
    Page,
    check_limit,
    decode_cursor,
    decode_date,
    decode_id,
    keyset_page,
)
from persistence.repositories.scope import certificate_readable_by


class CustomsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def entries(
        self, actor: Actor, certificate_id: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[CustomsEntry]:
        """A page of the entry lines recorded against the certificate, in the order customs saw
        them; a time-frame certificate can have thousands."""
        check_limit(limit)
        query = (
            select(CustomsEntry)
            .join(Certificate, Certificate.id == CustomsEntry.certificate_id)
            .where(CustomsEntry.certificate_id == certificate_id, certificate_readable_by(actor))
        )
        if cursor is not None:
            day, number, line, last_id = decode_cursor(cursor, 4)
            query = query.where(
                tuple_(
                    CustomsEntry.entry_date,
                    CustomsEntry.entry_number,
                    CustomsEntry.line_number,
                    CustomsEntry.id,
                )
                > tuple_(decode_date(day), number, decode_id(line), decode_id(last_id))
            )
        rows = await self.session.scalars(
            query.order_by(
                CustomsEntry.entry_date,
                CustomsEntry.entry_number,
                CustomsEntry.line_number,
                CustomsEntry.id,
            ).limit(limit + 1)
        )
        return keyset_page(
            list(rows.all()),
            limit,
            lambda e: (e.entry_date.isoformat(), e.entry_number, e.line_number, e.id),
        )

    async def entry(
        self, actor: Actor, certificate_id: str, entry_number: str, line_number: int
    ) -> CustomsEntry | None:
        found: CustomsEntry | None = await self.session.scalar(
            select(CustomsEntry)
            .join(Certificate, Certificate.id == CustomsEntry.certificate_id)
            .where(
                CustomsEntry.certificate_id == certificate_id,
                CustomsEntry.entry_number == entry_number,
                CustomsEntry.line_number == line_number,
                certificate_readable_by(actor),
            )
        )
        return found

    async def actual_shipments(self, actor: Actor, certificate_id: str) -> list[ActualShipment]:
        """The shipments of the exporter's latest report; a later report supersedes earlier ones."""
        latest = (
            select(func.max(ActualShipment.report_seq))
            .where(ActualShipment.certificate_id == certificate_id)
            .scalar_subquery()
        )
        rows = await self.session.scalars(
            select(ActualShipment)
            .join(Certificate, Certificate.id == ActualShipment.certificate_id)
            .where(
                ActualShipment.certificate_id == certificate_id,
                ActualShipment.report_seq == latest,
                certificate_readable_by(actor),
            )
            .order_by(ActualShipment.shipped_on, ActualShipment.id)
        )
        return list(rows.all())
