"""create_replacement (R6): the replacement certificate's row, written once however often
Temporal retries; the workflow then starts the replacement's own CertificateWorkflow."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.errors import NotFound
from domain.model import Coverage
from persistence.db import transaction
from persistence.repositories.replacements import ReplacementRepository
from workflows.contracts import CREATE_REPLACEMENT_ACTIVITY, DISCARD_REPLACEMENT_ACTIVITY
from workflows.payloads import CreateReplacementInput, ReplacementRecord


class ReplacementActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name=CREATE_REPLACEMENT_ACTIVITY)
    async def create_replacement(self, replacement: CreateReplacementInput) -> ReplacementRecord:
        async with transaction(self.sessions) as session:
            try:
                row = await ReplacementRepository(session).create(
                    original_id=replacement.original_id,
                    replacement_id=replacement.replacement_id,
                    changes=replacement.changes,
                    at=replacement.at,
                )
            except NotFound as exc:
                raise ApplicationError(exc.detail, type="NotFound", non_retryable=True) from exc
            return ReplacementRecord(
                certificate_id=row.id,
                hts_code=row.hts_code,
                product_name=row.product_name,
                quantity_kg=row.quantity_kg,
                coverage=Coverage(row.coverage),
                valid_from=row.valid_from,
                valid_until=row.valid_until,
            )

    @activity.defn(name=DISCARD_REPLACEMENT_ACTIVITY)
    async def discard_replacement(self, replacement: CreateReplacementInput) -> bool:
        """True when this call removed the row; False when there was none (a retry)."""
        async with transaction(self.sessions) as session:
            return await ReplacementRepository(session).discard(
                original_id=replacement.original_id, replacement_id=replacement.replacement_id
            )
