"""Replacement certificates (R6): a copy of the original with the certifier's changes, one
revision later, linked both ways. The original row keeps every other column as it was."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict, NotFound
from domain.model import Awaiting, Status
from persistence.models import Certificate
from workflows.contracts import CertificateChanges


class ReplacementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        *,
        original_id: str,
        replacement_id: str,
        changes: CertificateChanges,
        at: datetime,
    ) -> Certificate:
        """The replacement row, written the first time; a retry gets the same row back."""
        existing = await self.session.get(Certificate, replacement_id)
        if existing is not None:
            return existing
        original = await self.session.get(Certificate, original_id)
        if original is None:
            raise NotFound(f"certificate {original_id} not found", code="certificate_not_found")
        given = changes.model_dump(exclude_none=True)
        replacement = Certificate(
            id=replacement_id,
            request_id=original.request_id,
            line_no=original.line_no,
            certifier_id=original.certifier_id,
            exporter_id=original.exporter_id,
            importer_id=original.importer_id,
            hts_code=given.get("hts_code", original.hts_code),
            product_name=given.get("product_name", original.product_name),
            organic_category=given.get("organic_category", original.organic_category),
            quantity_kg=given.get("quantity_kg", original.quantity_kg),
            lot_numbers=list(given.get("lot_numbers", original.lot_numbers)),
            coverage=original.coverage,
            valid_from=given.get("valid_from", original.valid_from),
            valid_until=given.get("valid_until", original.valid_until),
            status=Status.APPROVED,
            awaiting=Awaiting.SYSTEM,
            flags=[],
            revision=original.revision + 1,
            replaces_id=original.id,
            projected_seq=0,
            created_at=at,
            updated_at=at,
        )
        self.session.add(replacement)
        await self.session.flush()
        original.replaced_by_id = replacement.id
        await self.session.flush()
        return replacement

    async def discard(self, *, original_id: str, replacement_id: str) -> bool:
        """Undo `create` for a replacement whose workflow never started: it was never a
        certificate (no number, no event, nobody told), so nothing of the record is lost."""
        replacement = await self.session.get(Certificate, replacement_id)
        if replacement is None:
            return False
        if replacement.projected_seq != 0 or replacement.replaces_id != original_id:
            raise Conflict(
                f"certificate {replacement_id} has a life of its own", code="not_discardable"
            )
        original = await self.session.get(Certificate, original_id)
        if original is not None and original.replaced_by_id == replacement_id:
            original.replaced_by_id = None
            await self.session.flush()  # before the delete: the link points at the row
        await self.session.delete(replacement)
        await self.session.flush()
        return True
