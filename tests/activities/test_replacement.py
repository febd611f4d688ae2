"""create_replacement (R6): a copy with the changes, one revision later, linked both ways, once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError

from activities.projection import ProjectionActivities
from activities.replacement import ReplacementActivities
from domain.model import OrganicCategory
from persistence.models import Certificate
from tests.workflows.support import request_input
from workflows.contracts import CertificateChanges
from workflows.payloads import CreateReplacementInput

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


async def recorded(sessions: async_sessionmaker[AsyncSession]) -> str:
    request = request_input()
    await ProjectionActivities(sessions).record_request(request)
    return request.lines[0].certificate_id


def replacement_of(original: str, replacement: str, **changes: object) -> CreateReplacementInput:
    return CreateReplacementInput(
        original_id=original,
        replacement_id=replacement,
        changes=CertificateChanges.model_validate(changes),
        reason="Weighbridge ticket",
        at=AT,
    )


async def test_the_replacement_copies_the_original_with_the_changes_once(sessions) -> None:
    original = await recorded(sessions)
    activities = ReplacementActivities(sessions)
    payload = replacement_of(
        original,
        "11111111-2222-3333-4444-555555555555",
        quantity_kg=Decimal(15000),
        organic_category=OrganicCategory.HUNDRED_PERCENT,
        valid_until=date(2026, 12, 20),
    )

    first = await activities.create_replacement(payload)
    again = await activities.create_replacement(payload)

    assert first == again
    assert (first.quantity_kg, first.valid_until, first.hts_code) == (
        Decimal(15000),
        date(2026, 12, 20),
        "0804400020",
    )
    async with sessions() as session:
        old = await session.get(Certificate, original)
        new = await session.get(Certificate, payload.replacement_id)
        total = await session.scalar(select(func.count()).select_from(Certificate))
    assert old is not None
    assert new is not None
    assert total == 2
    assert (old.replaced_by_id, old.status, old.quantity_kg) == (
        new.id,
        "submitted",
        Decimal(18000),
    )
    assert (new.replaces_id, new.revision, new.status, new.awaiting) == (
        original,
        1,
        "approved",
        "system",
    )
    assert (new.request_id, new.line_no, new.lot_numbers) == (
        old.request_id,
        old.line_no,
        old.lot_numbers,
    )
    assert (new.organic_category, new.number, new.created_at) == ("100_percent_organic", None, AT)


async def test_replacing_a_certificate_that_does_not_exist_fails_for_good(sessions) -> None:
    with pytest.raises(ApplicationError) as caught:
        await ReplacementActivities(sessions).create_replacement(
            replacement_of("no-such-certificate", "11111111-2222-3333-4444-555555555555")
        )
    assert (caught.value.type, caught.value.non_retryable) == ("NotFound", True)
