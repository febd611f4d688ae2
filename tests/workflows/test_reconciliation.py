"""Reconciliation (R8): the exporter reports actual net weights, a certifier of the issuing
organisation confirms them through a reconcile task in the queue."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError

from domain.model import Coverage
from tests.workflows.issuing import actual_shipments, delivered, entry, record
from tests.workflows.support import CERTIFIERS, Harness
from tests.workflows.test_customs import refusal_code
from workflows.contracts import (
    CLAIM,
    CONFIRM_ACTUALS,
    REPORT_ACTUALS,
    ClaimInput,
    CommandResult,
    ConfirmActualsInput,
    ReportActualsInput,
    ShipmentActual,
    certificate_workflow_id,
)

SHIPMENTS = [
    ShipmentActual(reference="BL-1", net_kg=Decimal("9000.5"), date=date(2026, 12, 3)),
    ShipmentActual(reference="BL-2", net_kg=Decimal(8000), date=date(2026, 12, 17)),
]


async def report(
    harness: Harness, cert: str, shipments: list[ShipmentActual] = SHIPMENTS
) -> CommandResult:
    exporter = await harness.actor("exporter@demo.test")
    return await harness.command(
        cert, REPORT_ACTUALS, ReportActualsInput(actor=exporter, shipments=shipments)
    )


async def test_reported_actuals_are_confirmed_by_the_certifier_holding_the_task(
    harness: Harness,
) -> None:
    cert = await delivered(harness, coverage=Coverage.MULTIPLE_SHIPMENTS)
    carmen = await harness.actor("certifier@demo.test")

    reported = await report(harness, cert)

    assert (reported.status, reported.awaiting, reported.task_state) == (
        "delivered",
        "certifier",
        "open",
    )
    review, reconcile = await harness.tasks(cert)
    assert (review.kind, review.state) == ("review", "closed")
    assert (reconcile.id, reconcile.kind, reconcile.certifier_id) == (
        reported.task_id,
        "reconcile",
        "555",
    )
    assert [(s.reference, s.net_kg) for s in await actual_shipments(harness, cert)] == [
        ("BL-1", Decimal("9000.5")),
        ("BL-2", Decimal(8000)),
    ]
    assert (await harness.certificate(cert)).reconciliation == "reported"  # type: ignore[union-attr]
    await harness.smtp.wait_for(4)
    assert harness.mails_to(CERTIFIERS)[-1].startswith("Actual weights reported")
    assert "17000.5 kg" in harness.smtp.messages[-1].get_content()

    with pytest.raises(WorkflowUpdateFailedError) as unclaimed:
        await harness.command(cert, CONFIRM_ACTUALS, ConfirmActualsInput(actor=carmen))
    assert refusal_code(unclaimed) == ("Conflict", "task_not_claimed")
    with pytest.raises(WorkflowUpdateFailedError) as old_task:
        await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=review.id))
    assert refusal_code(old_task) == ("Conflict", "task_not_current")
    await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=reconcile.id))
    confirmed = await harness.command(
        cert, CONFIRM_ACTUALS, ConfirmActualsInput(actor=carmen, comment="Matches the entries")
    )

    assert (confirmed.status, confirmed.awaiting, confirmed.task_state) == (
        "delivered",
        "importer",
        "closed",
    )
    assert (await harness.certificate(cert)).reconciliation == "confirmed"  # type: ignore[union-attr]
    assert (await harness.tasks(cert))[-1].state == "closed"
    with pytest.raises(WorkflowUpdateFailedError) as twice:
        await harness.command(cert, CONFIRM_ACTUALS, ConfirmActualsInput(actor=carmen))
    assert refusal_code(twice) == ("Conflict", "nothing_to_confirm")
    with pytest.raises(WorkflowUpdateFailedError) as late:
        await report(harness, cert)
    assert refusal_code(late) == ("Conflict", "already_confirmed")
    await harness.assert_replays(certificate_workflow_id(cert))


async def test_who_and_what_may_report(harness: Harness) -> None:
    single = await delivered(harness)
    several = await delivered(harness, coverage=Coverage.TIME_FRAME)
    importer = await harness.actor("importer@demo.test")

    with pytest.raises(WorkflowUpdateFailedError) as no_report:
        await report(harness, single)
    with pytest.raises(WorkflowUpdateFailedError) as not_exporter:
        await harness.command(
            several, REPORT_ACTUALS, ReportActualsInput(actor=importer, shipments=SHIPMENTS)
        )
    with pytest.raises(WorkflowUpdateFailedError) as empty:
        await report(harness, several, [])

    assert refusal_code(no_report) == ("Conflict", "no_reconciliation")
    assert refusal(not_exporter) == "Forbidden"
    assert refusal_code(empty) == ("Invalid", "invalid_actuals")
    assert await actual_shipments(harness, several) == []


def refusal(caught: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> str:
    return refusal_code(caught)[0]


async def test_a_report_awaiting_confirmation_outlives_the_use_of_the_certificate(
    harness: Harness,
) -> None:
    cert = await delivered(harness, coverage=Coverage.MULTIPLE_SHIPMENTS, quantity_kg=3000)
    carmen = await harness.actor("certifier@demo.test")
    await report(harness, cert)

    used = await record(harness, cert, entry(kg=3000))
    repeat = await record(harness, cert, entry(kg=3000))
    with pytest.raises(WorkflowUpdateFailedError) as new_entry:
        await record(harness, cert, entry("E-2", kg=1))

    assert (used.status, used.repeat) == ("used", False)
    assert (repeat.status, repeat.repeat, repeat.remaining_kg) == ("used", True, Decimal(0))
    assert refusal_code(new_entry) == ("Conflict", "not_usable")
    handle = harness.handle(cert)
    assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
    assert (await harness.certificate(cert)).awaiting == "certifier"  # type: ignore[union-attr]

    task = (await harness.tasks(cert))[-1]
    await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=task.id))
    await harness.command(cert, CONFIRM_ACTUALS, ConfirmActualsInput(actor=carmen))

    assert await handle.result() == "used"
    row = await harness.certificate(cert)
    assert row is not None
    assert (row.status, row.awaiting, row.reconciliation) == ("used", "none", "confirmed")
