"""What the tests of the issued life share: a certificate taken to `delivered`, customs entries,
and reading what the projection and the outbox hold."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import select

from domain.model import Coverage
from persistence.models import ActualShipment, CustomsEntry, OutboxMessage
from tests.workflows.support import Harness, eventually, line, request_input
from workflows.contracts import (
    CLAIM,
    DECIDE,
    RECORD_ENTRY,
    ActorRef,
    ClaimInput,
    DecideInput,
    EntryLine,
    EntryResult,
    RecordEntryInput,
    TimerSettings,
)

IMPORTERS = ["importer@demo.test"]


async def validity(harness: Harness, days: int) -> tuple[date, date]:
    """A validity starting today on the server's clock (which the tests move on)."""
    first = await today(harness)
    return first, first + timedelta(days=days - 1)


async def approved(harness: Harness, **options: Any) -> str:
    """A certificate started without a parent, reviewed and approved by Carmen."""
    cert = await claimed(harness, **options)
    await approve(harness, cert)
    return cert


async def approve(harness: Harness, cert: str) -> None:
    """Carmen approves: the certificate is issued in the same workflow task, then delivered."""
    carmen = await harness.actor("certifier@demo.test")
    await harness.command(cert, DECIDE, DecideInput(actor=carmen, decision="approve"))


async def claimed(
    harness: Harness,
    *,
    coverage: Coverage = Coverage.SINGLE_SHIPMENT,
    days: int = 30,
    quantity_kg: int = 18000,
    timers: TimerSettings | None = None,
) -> str:
    """A certificate started without a parent, its review task claimed by Carmen."""
    valid_from, valid_until = await validity(harness, days)
    request = request_input(
        line(quantity_kg=quantity_kg),
        coverage=coverage,
        valid_from=valid_from,
        valid_until=valid_until,
        timers=timers,
    )
    [cert] = await harness.start_certificates(request)
    carmen = await harness.actor("certifier@demo.test")
    task = await harness.review_task(cert)
    await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=task.id))
    return cert


async def has_status(harness: Harness, certificate_id: str, status: str) -> bool:
    return await harness.status(certificate_id) == status


async def reaches(harness: Harness, certificate_id: str, status: str, timeout: float = 15) -> None:
    await eventually(partial(has_status, harness, certificate_id, status), timeout)


async def delivered(harness: Harness, **options: Any) -> str:
    cert = await approved(harness, **options)
    await reaches(harness, cert, "delivered")
    return cert


# An entry made without a date is dated by `record` on the server's clock, which the tests move.
UNDATED = date.min


def entry(
    number: str = "ABC-1234567-8", line_number: int = 1, kg: int | str = 1000, on: date = UNDATED
) -> EntryLine:
    return EntryLine(
        entry_number=number,
        line_number=line_number,
        quantity_kg=Decimal(kg),
        entry_date=on,
        port_of_entry="Los Angeles",
    )


async def today(harness: Harness) -> date:
    return (await harness.env.get_current_time()).date()


async def record(
    harness: Harness, certificate_id: str, line: EntryLine, importer: ActorRef | None = None
) -> EntryResult:
    importer = importer or await harness.actor("importer@demo.test")
    if line.entry_date == UNDATED:
        line = line.model_copy(update={"entry_date": await today(harness)})
    result: EntryResult = await harness.handle(certificate_id).execute_update(
        RECORD_ENTRY,
        RecordEntryInput(actor=importer, entry=line),
        id=str(uuid.uuid4()),
        result_type=EntryResult,
    )
    return result


Row = TypeVar("Row", CustomsEntry, ActualShipment, OutboxMessage)


async def _rows_of(harness: Harness, model: type[Row], certificate_id: str) -> list[Row]:
    """A certificate's rows of one table, in the order they were written."""
    async with harness.sessions() as session:
        rows = await session.scalars(
            select(model).where(model.certificate_id == certificate_id).order_by(model.id)
        )
        return list(rows.all())


async def customs_entries(harness: Harness, certificate_id: str) -> list[CustomsEntry]:
    return await _rows_of(harness, CustomsEntry, certificate_id)


async def actual_shipments(harness: Harness, certificate_id: str) -> list[ActualShipment]:
    return await _rows_of(harness, ActualShipment, certificate_id)


async def outbox(harness: Harness, certificate_id: str) -> list[OutboxMessage]:
    return await _rows_of(harness, OutboxMessage, certificate_id)
