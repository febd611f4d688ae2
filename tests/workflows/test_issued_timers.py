"""The timers of a delivered certificate (DESIGN 4.1, R8): the acknowledgement reminder, the
reconciliation notice seven days before expiry, and expiry, with and without the report.

A server of its own: these tests move its clock by weeks (see `Harness.start_certificates`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.customs import expires_at
from domain.model import Coverage
from tests.workflows.issuing import IMPORTERS, delivered, entry, record
from tests.workflows.support import CERTIFIERS, EXPORTERS, Harness, eventually, time_skipping_server
from tests.workflows.test_reconciliation import report
from tests.workflows.test_timers import MINUTE, advance_to, fired
from workflows.contracts import (
    ACKNOWLEDGE,
    CLAIM,
    CONFIRM_ACTUALS,
    AcknowledgeInput,
    ClaimInput,
    ConfirmActualsInput,
    certificate_workflow_id,
)

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_server() as environment:
        yield environment


async def test_an_unacknowledged_certificate_reminds_the_importer_once_then_expires(
    harness: Harness,
) -> None:
    cert = await delivered(harness, days=10)
    [delivery] = [e for e in await harness.events(cert) if e.action == "delivered"]
    row = await harness.certificate(cert)
    assert row is not None

    await advance_to(harness.env, delivery.at + 2 * DAY - MINUTE)
    assert not await fired(harness, cert, "acknowledgement_reminder")
    await advance_to(harness.env, delivery.at + 2 * DAY + MINUTE)
    await eventually(lambda: fired(harness, cert, "acknowledgement_reminder"))

    expiry = expires_at(row.valid_until)
    await advance_to(harness.env, expiry - MINUTE)
    assert await harness.status(cert) == "delivered"
    await advance_to(harness.env, expiry + MINUTE)
    assert await harness.handle(cert).result() == "expired"
    events = await harness.events(cert)
    assert [e.action for e in events[-3:]] == ["delivered", "acknowledgement_reminder", "expired"]
    assert expiry <= events[-1].at < expiry + MINUTE
    assert events[-1].detail == {}  # a single shipment owes no report
    row = await harness.certificate(cert)
    assert (row.status, row.reconciliation, row.flags) == ("expired", None, [])  # type: ignore[union-attr]
    await harness.smtp.wait_for(4)
    [reminder] = harness.mails_to(IMPORTERS)[1:]
    assert reminder.startswith(f"Reminder: please acknowledge certificate {row.number}")  # type: ignore[union-attr]
    await harness.assert_replays(certificate_workflow_id(cert))


async def test_an_acknowledged_certificate_is_not_reminded(harness: Harness) -> None:
    cert = await delivered(harness, days=10)
    importer = await harness.actor("importer@demo.test")
    await harness.command(cert, ACKNOWLEDGE, AcknowledgeInput(actor=importer))

    await harness.env.sleep(3 * DAY)

    assert not await fired(harness, cert, "acknowledgement_reminder")
    assert await harness.status(cert) == "delivered"


async def test_an_expiry_without_the_report_flags_the_certificate_to_its_certifier(
    harness: Harness,
) -> None:
    cert = await delivered(harness, coverage=Coverage.MULTIPLE_SHIPMENTS, days=30)
    importer = await harness.actor("importer@demo.test")
    await harness.command(cert, ACKNOWLEDGE, AcknowledgeInput(actor=importer))
    await record(harness, cert, entry(kg=5000))
    row = await harness.certificate(cert)
    assert row is not None
    expiry = expires_at(row.valid_until)

    await advance_to(harness.env, expiry - 7 * DAY - MINUTE)
    assert not await fired(harness, cert, "reconciliation_requested")
    await advance_to(harness.env, expiry - 7 * DAY + MINUTE)
    await eventually(lambda: fired(harness, cert, "reconciliation_requested"))
    row = await harness.certificate(cert)
    assert (row.reconciliation, row.awaiting) == ("requested", "exporter")  # type: ignore[union-attr]

    await advance_to(harness.env, expiry + MINUTE)
    assert await harness.handle(cert).result() == "expired"
    row = await harness.certificate(cert)
    assert row is not None
    assert (row.status, row.reconciliation, row.remaining_kg) == (
        "expired",
        "missing",
        Decimal(13000),
    )
    assert [flag["code"] for flag in row.flags] == ["reconciliation_missing"]
    last = (await harness.events(cert))[-1]
    assert (last.action, last.detail) == ("expired", {"reconciliation": "missing"})
    await harness.smtp.wait_for(5)
    assert harness.mails_to(EXPORTERS)[-1].startswith(
        f"Report the actual weights shipped under certificate {row.number}"
    )
    assert harness.mails_to(CERTIFIERS)[-1].startswith(f"Flag: certificate {row.number} expired")
    await harness.assert_replays(certificate_workflow_id(cert))


async def test_a_report_before_expiry_is_confirmed_after_it(harness: Harness) -> None:
    cert = await delivered(harness, coverage=Coverage.TIME_FRAME, days=20)
    carmen = await harness.actor("certifier@demo.test")
    row = await harness.certificate(cert)
    assert row is not None
    expiry = expires_at(row.valid_until)
    await advance_to(harness.env, expiry - 7 * DAY + MINUTE)
    await eventually(lambda: fired(harness, cert, "reconciliation_requested"))
    reported = await report(harness, cert)

    await advance_to(harness.env, expiry + MINUTE)
    await eventually(lambda: fired(harness, cert, "expired"))

    handle = harness.handle(cert)
    assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
    row = await harness.certificate(cert)
    assert row is not None
    assert (row.status, row.awaiting, row.reconciliation, row.flags) == (
        "expired",
        "certifier",
        "reported",
        [],
    )
    await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=reported.task_id or ""))
    await harness.command(cert, CONFIRM_ACTUALS, ConfirmActualsInput(actor=carmen))
    assert await handle.result() == "expired"
    row = await harness.certificate(cert)
    assert (row.awaiting, row.reconciliation) == ("none", "confirmed")  # type: ignore[union-attr]
    await harness.assert_replays(certificate_workflow_id(cert))
