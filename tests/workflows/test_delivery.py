"""Delivery while the SMTP server is down (DESIGN 4.3): the certificate stays `issued`, the
importer's mail is retried with backoff, and once the server is back exactly one message per
recipient arrives and the certificate is `delivered`. A void meanwhile stops the delivery.

A server of its own: the tests skip time over the retries' backoff.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from tests.conftest import serving
from tests.workflows.issuing import IMPORTERS, approve, claimed, outbox, reaches
from tests.workflows.support import (
    CERTIFIERS,
    EXPORTERS,
    Harness,
    eventually,
    time_skipping_server,
)
from workflows.contracts import (
    DECIDE,
    VOID,
    DecideInput,
    TimerSettings,
    VoidInput,
    certificate_workflow_id,
)

RETRY_CAP = timedelta(minutes=2)


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_server() as environment:
        yield environment


@pytest.fixture
async def flaky(
    env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[Harness]:
    """A worker whose SMTP server the test starts and stops."""
    async with Harness.with_smtp_down(env, sessions, tmp_path) as harness:
        yield harness


async def failed_attempts(harness: Harness, cert: str, template: str) -> int:
    rows = [row for row in await outbox(harness, cert) if f":{template}:" in row.key]
    return rows[0].attempts if rows and rows[0].sent_at is None else 0


async def test_deliveries_fail_while_smtp_is_down_and_arrive_once_when_it_is_back(
    flaky: Harness,
) -> None:
    timers = TimerSettings(delivery_retry_max_interval=RETRY_CAP)
    with serving(flaky.smtp):
        cert = await claimed(flaky, timers=timers)
        await flaky.smtp.wait_for(1)  # the review task's mail, sent before the outage
    await approve(flaky, cert)

    # Down: the time skipped holds several attempts at growing intervals, up to the cap.
    await flaky.env.sleep(timedelta(minutes=5))
    assert await failed_attempts(flaky, cert, "certificate_issued") >= 4
    assert await flaky.status(cert) == "issued"

    with serving(flaky.smtp):
        await flaky.env.sleep(RETRY_CAP)
        await reaches(flaky, cert, "delivered")
        await eventually(lambda: failed_attempts_done(flaky, cert))

    assert [m.rcpt_tos for m in flaky.smtp.received[1:]] == [IMPORTERS, EXPORTERS]
    [sent] = [row for row in await outbox(flaky, cert) if ":certificate_issued:" in row.key]
    assert sent.sent_at is not None
    assert sent.attempts >= 5
    assert (await flaky.actions(cert))[-2:] == ["issued", "delivered"]
    await flaky.assert_replays(certificate_workflow_id(cert))


async def failed_attempts_done(harness: Harness, cert: str) -> bool:
    return all(row.sent_at is not None for row in await outbox(harness, cert))


async def test_a_void_stops_a_delivery_that_cannot_get_through(flaky: Harness) -> None:
    with serving(flaky.smtp):
        cert = await claimed(flaky)
        await flaky.smtp.wait_for(1)
    await approve(flaky, cert)
    await reaches(flaky, cert, "issued")
    await eventually(lambda: failed_attempts(flaky, cert, "certificate_issued"))
    carmen = await flaky.actor("certifier@demo.test")

    voided = await flaky.command(cert, VOID, VoidInput(actor=carmen, reason="Issued in error"))

    assert voided.status == "voided"
    with serving(flaky.smtp):
        assert await flaky.handle(cert).result() == "voided"
        await flaky.smtp.wait_for(3)
    # The void notices went out; the certificate itself never did.
    subjects = [str(m.message["Subject"]) for m in flaky.smtp.received[1:]]
    assert all("voided" in subject for subject in subjects), subjects
    assert (await flaky.actions(cert))[-2:] == ["issued", "voided"]
    await flaky.assert_replays(certificate_workflow_id(cert))


async def activities_scheduled(harness: Harness, cert: str) -> list[str]:
    history = await harness.handle(cert).fetch_history()
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


async def test_mail_the_smtp_server_takes_at_once_costs_no_activity(flaky: Harness) -> None:
    """Revision 5: the review mail goes once, tried inside the workflow task that queued it;
    the delivery (with the exporter's copy) is the only activity, and no patch is recorded."""
    with serving(flaky.smtp):
        cert = await claimed(flaky)
        await approve(flaky, cert)
        await reaches(flaky, cert, "delivered")
        await flaky.smtp.wait_for(3)

    assert [m.rcpt_tos for m in flaky.smtp.received] == [CERTIFIERS, IMPORTERS, EXPORTERS]
    assert await activities_scheduled(flaky, cert) == ["deliver"]
    history = await flaky.handle(cert).fetch_history()
    markers = {e.marker_recorded_event_attributes.marker_name for e in history.events}
    assert "core_patch" not in markers
    assert all(row.sent_at is not None and row.attempts == 1 for row in await outbox(flaky, cert))
    await flaky.assert_replays(certificate_workflow_id(cert))


async def test_after_a_failed_try_mail_goes_straight_to_the_background(flaky: Harness) -> None:
    """The review mail fails inline while the SMTP server is down and goes to its activity; the
    question to the exporter a minute later, with the server back, is not tried inline (the
    pause) but sent by an activity of its own at once."""
    cert = await claimed(flaky)
    await eventually(lambda: activities_scheduled(flaky, cert))
    with serving(flaky.smtp):
        await flaky.env.sleep(timedelta(minutes=1))
        await flaky.smtp.wait_for(1)
        carmen = await flaky.actor("certifier@demo.test")
        ask = DecideInput(actor=carmen, decision="request_info", comment="Send the lot records")
        await flaky.command(cert, DECIDE, ask)
        await flaky.smtp.wait_for(2)

    assert await activities_scheduled(flaky, cert) == ["send_mail", "send_mail"]
    assert [m.rcpt_tos for m in flaky.smtp.received] == [CERTIFIERS, EXPORTERS]
    await flaky.assert_replays(certificate_workflow_id(cert))
