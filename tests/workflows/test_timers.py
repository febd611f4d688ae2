"""Durable timers: review reminder and escalation in business time, with the review clock
paused while the exporter owes an answer; information-request reminder and lapse (DESIGN 4.1).

The time-skipping server jumps over the days; each test takes well under a second of real time.
These tests have a server of their own and start certificates without a parent: see
`Harness.start_certificates` for the test server's bug that this avoids.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.projection import ProjectionActivities
from domain.calendar import add_business_time
from domain.model import Role, Status
from tests.workflows.support import (
    CERTIFIERS,
    EXPORTERS,
    Harness,
    eventually,
    request_input,
    time_skipping_server,
)
from workflows.contracts import (
    ANSWER,
    CERTIFICATE_WORKFLOW,
    CLAIM,
    DECIDE,
    AnswerInput,
    ClaimInput,
    DecideInput,
    certificate_workflow_id,
)
from workflows.import_request import certificate_input, certificate_search_attributes
from workflows.payloads import CertificateState, MailInput

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
MONDAY, WEDNESDAY, FRIDAY = 0, 2, 4


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_server() as environment:
        yield environment


async def advance_to(env: WorkflowEnvironment, moment: datetime) -> None:
    await env.sleep(moment - await env.get_current_time())


async def next_weekday_noon(env: WorkflowEnvironment, weekday: int) -> datetime:
    now = await env.get_current_time()
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    days = (weekday - noon.weekday()) % 7 or 7
    return noon + days * DAY


async def fired(harness: Harness, certificate_id: str, action: str) -> bool:
    return action in await harness.actions(certificate_id)


async def test_review_reminder_and_escalation_fire_at_business_day_times(
    harness: Harness,
) -> None:
    # Submitted on a Friday at noon: 3 business days end on Wednesday noon, 5 on Friday noon.
    await advance_to(harness.env, await next_weekday_noon(harness.env, FRIDAY))
    [cert] = await harness.start_certificates(request_input())
    submitted = (await harness.events(cert))[-1].at
    reminder_at = add_business_time(submitted, 3 * DAY)
    escalation_at = add_business_time(submitted, 5 * DAY)
    assert (reminder_at.weekday(), reminder_at - submitted) == (WEDNESDAY, 5 * DAY)
    assert (escalation_at.weekday(), escalation_at - submitted) == (FRIDAY, 7 * DAY)
    assert (await harness.review_task(cert)).due_at == escalation_at

    await advance_to(harness.env, reminder_at - MINUTE)
    assert not await fired(harness, cert, "review_reminder")
    await advance_to(harness.env, reminder_at + MINUTE)
    await eventually(lambda: fired(harness, cert, "review_reminder"))
    reminder = (await harness.events(cert))[-1]
    assert reminder_at <= reminder.at < reminder_at + MINUTE
    assert (reminder.actor_role, reminder.to_status) == ("system", "in_review")

    await advance_to(harness.env, escalation_at - MINUTE)
    assert not (await harness.review_task(cert)).escalated
    await advance_to(harness.env, escalation_at + MINUTE)
    await eventually(lambda: fired(harness, cert, "review_escalated"))
    assert (await harness.review_task(cert)).escalated
    await harness.smtp.wait_for(3)
    subjects = harness.mails_to(CERTIFIERS)
    assert [s.split(":")[0] for s in subjects] == ["New review task", "Reminder", "Escalated"]
    assert await harness.actions(cert) == [
        "submitted",
        "screening_passed",
        "review_reminder",
        "review_escalated",
    ]


async def test_unanswered_information_request_is_reminded_then_lapses(harness: Harness) -> None:
    [cert] = await harness.start_certificates(request_input())
    carmen = await harness.actor("certifier@demo.test")
    task = await harness.review_task(cert)
    await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=task.id))
    asked = await harness.command(
        cert, DECIDE, DecideInput(actor=carmen, decision="request_info", comment="Lot analysis?")
    )
    assert (asked.status, asked.awaiting) == ("info_requested", "exporter")
    asked_at = (await harness.events(cert))[-1].at

    await advance_to(harness.env, asked_at + 7 * DAY - MINUTE)
    assert not await fired(harness, cert, "info_reminder")
    await advance_to(harness.env, asked_at + 7 * DAY + MINUTE)
    await eventually(lambda: fired(harness, cert, "info_reminder"))
    assert await harness.status(cert) == "info_requested"

    await advance_to(harness.env, asked_at + 14 * DAY + MINUTE)
    await eventually(lambda: fired(harness, cert, "lapsed"))
    assert await harness.status(cert) == "withdrawn"
    assert await harness.handle(cert).result() == "withdrawn"
    # Fourteen days in review time would have reminded and escalated: the clock stood still.
    assert await harness.actions(cert) == [
        "submitted",
        "screening_passed",
        "claimed",
        "info_requested",
        "info_reminder",
        "lapsed",
    ]
    await harness.smtp.wait_for(4)
    subjects = harness.mails_to(EXPORTERS)
    assert [s.split(":")[0] for s in subjects] == [
        "Your certifier needs more information",
        "Reminder",
        "Request withdrawn, no answer",
    ]
    assert "Lot analysis?" in harness.smtp.messages[1].get_content()
    await harness.assert_replays(certificate_workflow_id(cert))


async def test_answer_reopens_review_for_the_asker_with_the_clock_time_left(
    harness: Harness,
) -> None:
    # Monday noon to Tuesday noon in review (1 business day), then six days waiting for the
    # exporter, which do not count: 2 business days after the answer the reminder is due.
    await advance_to(harness.env, await next_weekday_noon(harness.env, MONDAY))
    [cert] = await harness.start_certificates(request_input())
    carmen = await harness.actor("certifier@demo.test")
    exporter = await harness.actor("exporter@demo.test")
    first_task = await harness.review_task(cert)
    await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=first_task.id))
    await harness.env.sleep(DAY)
    await harness.command(
        cert, DECIDE, DecideInput(actor=carmen, decision="request_info", comment="Which farm?")
    )
    await harness.env.sleep(6 * DAY)
    assert not await fired(harness, cert, "review_reminder")

    answered = await harness.command(cert, ANSWER, AnswerInput(actor=exporter, message="Farm 7"))

    assert (answered.status, answered.task_state, answered.assignee) == (
        "in_review",
        "claimed",
        carmen.user_id,
    )
    answered_at = (await harness.events(cert))[-1].at
    old, new = await harness.tasks(cert)
    assert (old.id, old.state) == (first_task.id, "closed")
    assert new.id == answered.task_id != old.id
    used = timedelta(days=1)
    assert abs(new.due_at - add_business_time(answered_at, 5 * DAY - used)) < MINUTE
    reminder_at = add_business_time(answered_at, 3 * DAY - used)
    await advance_to(harness.env, reminder_at - MINUTE)
    assert not await fired(harness, cert, "review_reminder")
    await advance_to(harness.env, reminder_at + MINUTE)
    await eventually(lambda: fired(harness, cert, "review_reminder"))
    await harness.smtp.wait_for(4)
    assert [s.split(":")[0] for s in harness.mails_to(CERTIFIERS)] == [
        "New review task",
        "The exporter answered",
        "Reminder",
    ]
    await harness.assert_replays(certificate_workflow_id(cert))


async def test_a_continued_run_resumes_from_the_state_it_was_handed(harness: Harness) -> None:
    # What continue-as-new hands over: an information request asked 13 days ago, reminded, and
    # one mail still to send. The new run sends it, then lapses the request a day later.
    request = request_input()
    [request_line] = request.lines
    cert = request_line.certificate_id
    await ProjectionActivities(harness.sessions).record_request(request)
    now = await harness.env.get_current_time()
    carmen = await harness.actor("certifier@demo.test")
    workflow_id = certificate_workflow_id(cert)
    state = CertificateState(
        status=Status.INFO_REQUESTED,
        seq=7,
        review_used=timedelta(hours=20),
        info_requested_at=now - 13 * DAY,
        info_requested_by=carmen.user_id,
        info_question="Which farm?",
        info_reminded=True,
        pending_mail=[
            MailInput(
                key=f"{workflow_id}:7:info_reminder",
                template="info_reminder",
                organisation_id="5550000001",
                role=Role.EXPORTER,
                certificate_id=cert,
                context={"product_name": "Hass avocados", "hts_code": "0804400020"}
                | {"comment": "Which farm?", "requested_at": "then", "lapse_at": "soon"},
            )
        ],
    )
    handle = await harness.env.client.start_workflow(
        CERTIFICATE_WORKFLOW,
        certificate_input(request, request_line, []).model_copy(update={"state": state}),
        id=workflow_id,
        task_queue=harness.task_queue,
        search_attributes=certificate_search_attributes(request, request_line),
    )
    harness.started.append(workflow_id)

    [reminder] = await harness.smtp.wait_for(1)
    assert str(reminder["Subject"]).startswith("Reminder: your certifier is waiting")
    assert await harness.actions(cert) == []  # nothing replayed into the timeline

    await advance_to(harness.env, now + DAY)
    assert await handle.result() == "withdrawn"
    [lapsed] = await harness.events(cert)
    assert (lapsed.seq, lapsed.action, lapsed.from_status) == (8, "lapsed", "info_requested")
    assert await harness.status(cert) == "withdrawn"
