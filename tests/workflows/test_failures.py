"""Nothing that fails can hold a certificate (issue 6, point 2): a mail refused for good is
written off and flagged, a delivery refused for good leaves the certificate issued and in
force, issuance that fails for good is flagged and tried again, and while the SMTP server is
down the timers still fire on time.

The SMTP servers here are real (aiosmtpd) and refuse recipients with real reply codes; the
number sequence is exhausted in the real database. A server of its own: the tests skip time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.customs import expires_at
from domain.model import Coverage, Status
from persistence.models import NumberSequence
from tests.conftest import serving
from tests.workflows.issuing import IMPORTERS, approved, entry, outbox, reaches, record
from tests.workflows.support import (
    CERTIFIER_ORG,
    CERTIFIERS,
    EXPORTER_ORG,
    EXPORTERS,
    Harness,
    eventually,
    line,
    request_input,
    time_skipping_server,
)
from tests.workflows.test_timers import MINUTE, advance_to, fired
from workflows.contracts import TimerSettings, certificate_workflow_id

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_server() as environment:
        yield environment


@pytest.fixture
async def harness(
    env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[Harness]:
    """A worker whose SMTP server each test starts, stops and tells whom to refuse."""
    async with Harness.with_smtp_down(env, sessions, tmp_path) as running:
        yield running


async def flags(harness: Harness, cert: str) -> list[str]:
    row = await harness.certificate(cert)
    assert row is not None
    return [flag["code"] for flag in row.flags]


async def test_a_delivery_refused_for_good_leaves_the_certificate_issued_and_in_force(
    harness: Harness,
) -> None:
    with serving(harness.smtp, refused=frozenset(IMPORTERS)):
        cert = await approved(harness, coverage=Coverage.MULTIPLE_SHIPMENTS)
        await eventually(lambda: fired(harness, cert, "delivery_failed"))
        # The exporter is told, with the signed document to hand over.
        [*_, handover] = await harness.smtp.wait_for(2)

    assert await harness.status(cert) == "issued"
    assert await flags(harness, cert) == ["delivery_failed"]
    [event] = [e for e in await harness.events(cert) if e.action == "delivery_failed"]
    assert "550" in event.detail["reason"]
    assert harness.smtp.received[-1].rcpt_tos == EXPORTERS
    assert "could not be delivered" in str(handover["Subject"])
    [pdf] = list(handover.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"

    # In force: the importer, who has the document from the exporter, records an entry.
    result = await record(harness, cert, entry(kg=1000))
    assert (result.status, result.remaining_kg) == (Status.ISSUED, Decimal(17000))
    await harness.assert_replays(certificate_workflow_id(cert))


async def test_an_exporter_copy_refused_for_good_still_leaves_the_certificate_delivered(
    harness: Harness,
) -> None:
    """The copy goes in the delivery's activity, after the importer's mail: its refusal is
    written off and flagged, and the importer's delivery stands."""
    with serving(harness.smtp, refused=frozenset(EXPORTERS)):
        cert = await approved(harness)
        await eventually(lambda: fired(harness, cert, "mail_failed"))

    assert await harness.status(cert) == "delivered"
    assert await flags(harness, cert) == ["mail_failed"]
    [event] = [e for e in await harness.events(cert) if e.action == "mail_failed"]
    assert (event.detail["template"], event.detail["to"]) == ("certificate_issued_copy", "exporter")
    assert "550" in event.detail["reason"]
    assert [m.rcpt_tos for m in harness.smtp.received][-1] == IMPORTERS
    await harness.assert_replays(certificate_workflow_id(cert))


async def test_a_mail_refused_for_good_is_written_off_and_the_review_goes_on(
    harness: Harness,
) -> None:
    timers = TimerSettings(review_reminder=timedelta(hours=2), review_escalation=timedelta(hours=4))
    with serving(harness.smtp, refused=frozenset(CERTIFIERS)):
        [cert] = await harness.start_certificates(request_input(line(), timers=timers))
        await eventually(lambda: fired(harness, cert, "mail_failed"))
        assert await flags(harness, cert) == ["mail_failed"]
        [event] = [e for e in await harness.events(cert) if e.action == "mail_failed"]
        assert (event.detail["template"], event.detail["to"]) == (
            "review_task_created",
            "certifier",
        )

        # The reminder comes on time all the same (it fails too, and is written off too).
        task = await harness.review_task(cert)
        await advance_to(harness.env, task.created_at + timedelta(hours=4) + 3 * DAY)
        await eventually(lambda: fired(harness, cert, "review_escalated"))
    assert await harness.status(cert) == "in_review"
    assert await flags(harness, cert) == ["mail_failed"]  # one flag, however many mails failed
    await harness.assert_replays(certificate_workflow_id(cert))


async def test_timers_fire_on_time_while_the_smtp_server_is_down(harness: Harness) -> None:
    # A day's validity with the notice an hour ahead: every retry in the skipped time runs.
    timers = TimerSettings(
        delivery_retry_max_interval=timedelta(minutes=10), reconciliation_notice=timedelta(hours=1)
    )
    cert = await approved(harness, coverage=Coverage.MULTIPLE_SHIPMENTS, days=1, timers=timers)
    await reaches(harness, cert, "issued")
    row = await harness.certificate(cert)
    assert row is not None
    expiry = expires_at(row.valid_until)

    # Down all along: the reconciliation notice and the expiry come on time.
    await advance_in_steps(harness.env, expiry - timedelta(hours=1) + MINUTE)
    await eventually(lambda: fired(harness, cert, "reconciliation_requested"))
    await advance_in_steps(harness.env, expiry + MINUTE)
    await reaches(harness, cert, "expired")
    events = await harness.events(cert)
    assert expiry <= events[-1].at < expiry + MINUTE
    assert not harness.smtp.received

    # Back: every mail queued meanwhile goes out, once; the delivery is moot and stays unsent.
    with serving(harness.smtp):
        await harness.env.sleep(timedelta(minutes=15))  # past every mail's next retry
        await eventually(lambda: completed(harness, cert), timeout=30)
    assert await harness.handle(cert).result() == "expired"
    templates = sorted(row.key.split(":")[2] for row in await outbox(harness, cert))
    sent = [row for row in await outbox(harness, cert) if row.sent_at is not None]
    assert len(harness.smtp.received) == len(sent) == len(templates) - 1
    assert "certificate_issued" in templates
    assert "certificate_issued" not in [row.key.split(":")[2] for row in sent]
    await harness.assert_replays(certificate_workflow_id(cert))


async def test_issuance_that_fails_for_good_is_flagged_and_tried_again(
    harness: Harness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await set_last_sequence(sessions, 999_999)  # R5: six digits, so no number is left
    with serving(harness.smtp):
        cert = await approved(harness)
        await eventually(lambda: fired(harness, cert, "issuance_failed"))
        assert (await harness.status(cert), await flags(harness, cert)) == (
            "approved",
            ["issuance_failed"],
        )
        [event] = [e for e in await harness.events(cert) if e.action == "issuance_failed"]
        assert "NumberSequence" in event.detail["reason"] or "sequence" in event.detail["reason"]

        await set_last_sequence(sessions, 41)
        await harness.env.sleep(timedelta(minutes=5))
        await reaches(harness, cert, "delivered")
    row = await harness.certificate(cert)
    assert row is not None
    assert row.number == f"{CERTIFIER_ORG}-{EXPORTER_ORG}-000042"
    # Said once, however often it was tried.
    assert (await harness.actions(cert)).count("issuance_failed") == 1
    await harness.assert_replays(certificate_workflow_id(cert))


async def completed(harness: Harness, cert: str) -> bool:
    status = (await harness.handle(cert).describe()).status
    return status is WorkflowExecutionStatus.COMPLETED


async def advance_in_steps(env: WorkflowEnvironment, moment: datetime) -> None:
    """Skip time a few hours at a time: the mails retrying meanwhile each run for real, and one
    skip over days of them outlasts the test server's call."""
    while (now := await env.get_current_time()) < moment:
        await env.sleep(min(moment - now, timedelta(hours=4)))


async def set_last_sequence(sessions: async_sessionmaker[AsyncSession], last: int) -> None:
    async with sessions() as session, session.begin():
        done = await session.execute(
            update(NumberSequence)
            .where(
                NumberSequence.certifier_id == CERTIFIER_ORG,
                NumberSequence.exporter_id == EXPORTER_ORG,
            )
            .values(last_sequence=last)
        )
        if done.rowcount == 0:  # type: ignore[attr-defined]
            session.add(
                NumberSequence(
                    certifier_id=CERTIFIER_ORG, exporter_id=EXPORTER_ORG, last_sequence=last
                )
            )
