"""Customs use (R7): entries against a delivered certificate, repeats, quantity, `used`."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.model import Coverage
from tests.workflows.issuing import customs_entries, delivered, entry, record
from tests.workflows.support import Harness
from tests.workflows.test_review import refusal
from workflows.contracts import (
    RECORD_ENTRY,
    SA_STATUS,
    RecordEntryInput,
    certificate_workflow_id,
)


def refusal_code(caught: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> tuple[str, str]:
    error = refusal(caught.value)
    return str(error.type), error.details[0]["code"] if error.details else ""


async def test_a_single_shipment_certificate_is_used_by_its_first_entry(harness: Harness) -> None:
    cert = await delivered(harness)

    result = await record(harness, cert, entry(kg=12000))

    assert (result.status, result.remaining_kg, result.repeat) == ("used", Decimal(6000), False)
    assert await harness.handle(cert).result() == "used"
    row = await harness.certificate(cert)
    assert row is not None
    assert (row.status, row.remaining_kg, row.awaiting) == ("used", Decimal(6000), "none")
    [recorded] = await customs_entries(harness, cert)
    assert (recorded.entry_number, recorded.line_number, recorded.quantity_kg) == (
        "ABC-1234567-8",
        1,
        Decimal(12000),
    )
    events = await harness.events(cert)
    assert [(e.action, e.to_status) for e in events[-2:]] == [
        ("entry_recorded", "delivered"),
        ("used", "used"),
    ]
    description = await harness.handle(cert).describe()
    assert description.typed_search_attributes.get(SA_STATUS) == "used"
    await harness.assert_replays(certificate_workflow_id(cert))


async def test_a_certificate_is_used_once_its_quantity_is_exhausted(harness: Harness) -> None:
    cert = await delivered(harness, coverage=Coverage.MULTIPLE_SHIPMENTS, quantity_kg=3000)

    first = await record(harness, cert, entry("E-1", kg=1000))
    second = await record(harness, cert, entry("E-2", kg="2000.000"))

    assert (first.status, first.remaining_kg) == ("delivered", Decimal(2000))
    assert (second.status, second.remaining_kg) == ("used", Decimal(0))
    assert await harness.handle(cert).result() == "used"
    assert len(await customs_entries(harness, cert)) == 2
    assert (await harness.certificate(cert)).remaining_kg == 0  # type: ignore[union-attr]


async def test_the_same_entry_line_recorded_again_is_one_entry(harness: Harness) -> None:
    cert = await delivered(harness, coverage=Coverage.TIME_FRAME)

    # Two brokers' clicks at once, then a retry with a different weight: still the one entry.
    together = await asyncio.gather(
        record(harness, cert, entry(kg=1000)), record(harness, cert, entry(kg=1000))
    )
    again = await record(harness, cert, entry(kg=5000))
    other_line = await record(harness, cert, entry(line_number=2, kg=500))

    assert sorted(r.repeat for r in together) == [False, True]
    assert (again.repeat, again.remaining_kg, again.status) == (True, Decimal(17000), "delivered")
    assert (other_line.repeat, other_line.remaining_kg) == (False, Decimal(16500))
    assert [(e.line_number, e.quantity_kg) for e in await customs_entries(harness, cert)] == [
        (1, Decimal(1000)),
        (2, Decimal(500)),
    ]
    assert (await harness.actions(cert)).count("entry_recorded") == 2
    assert (await harness.certificate(cert)).remaining_kg == Decimal(16500)  # type: ignore[union-attr]


async def test_an_entry_over_the_remaining_quantity_is_refused_and_changes_nothing(
    harness: Harness,
) -> None:
    cert = await delivered(harness, coverage=Coverage.MULTIPLE_SHIPMENTS)
    await record(harness, cert, entry("E-1", kg=10000))
    before = await harness.actions(cert)

    with pytest.raises(WorkflowUpdateFailedError) as over:
        await record(harness, cert, entry("E-2", kg="8000.001"))
    with pytest.raises(WorkflowUpdateFailedError) as zero:
        await record(harness, cert, entry("E-3", kg=0))

    assert refusal_code(over) == ("Conflict", "over_quantity")
    assert refusal_code(zero) == ("Invalid", "invalid_quantity")
    assert await harness.actions(cert) == before
    assert len(await customs_entries(harness, cert)) == 1
    assert (await harness.certificate(cert)).remaining_kg == Decimal(8000)  # type: ignore[union-attr]
    # The refused entry was never recorded: the same line with a weight that fits is new.
    accepted = await record(harness, cert, entry("E-2", kg=8000))
    assert (accepted.repeat, accepted.status) == (False, "used")


async def test_only_the_named_importer_records_entries(harness: Harness) -> None:
    cert = await delivered(harness, coverage=Coverage.MULTIPLE_SHIPMENTS)
    await record(harness, cert, entry(kg=10))

    for email in ("exporter@demo.test", "other.importer@demo.test"):
        actor = await harness.actor(email)
        # Neither a new entry nor a repeat of a recorded one: the answer would tell them both.
        for line in (entry(kg=10), entry("NEW", kg=10)):
            with pytest.raises(WorkflowUpdateFailedError) as caught:
                await harness.command(cert, RECORD_ENTRY, RecordEntryInput(actor=actor, entry=line))
            assert refusal(caught.value).type == "Forbidden"
    assert len(await customs_entries(harness, cert)) == 1
