"""The certifier's review: claim, release, decide, and who may do which (DESIGN 3, 4.1, 4.2)."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from tests.workflows.support import CERTIFIERS, EXPORTERS, Harness, eventually, request_input
from workflows.contracts import (
    CLAIM,
    DECIDE,
    RELEASE,
    SA_AWAITING,
    SA_CERTIFIER,
    SA_HTS,
    SA_STATUS,
    WITHDRAW,
    ClaimInput,
    DecideInput,
    ReleaseInput,
    WithdrawInput,
    certificate_workflow_id,
)


async def delivered_now(harness: Harness, certificate_id: str) -> bool:
    return await harness.status(certificate_id) == "delivered"


def refusal(exc: WorkflowUpdateFailedError) -> ApplicationError:
    cause = exc.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_happy_path_reaches_approved_and_the_certifier_organisation_is_mailed(
    harness: Harness,
) -> None:
    [cert] = await harness.submit(request_input())
    assert await harness.status(cert) == "in_review"
    task = await harness.review_task(cert)
    assert (task.state, task.assignee_id, task.kind) == ("open", None, "review")
    await harness.smtp.wait_for(1)
    assert harness.mails_to(CERTIFIERS)[0].startswith("New review task: Hass avocados")

    carmen = await harness.actor("certifier@demo.test")
    claimed = await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=task.id))
    assert (claimed.task_state, claimed.assignee) == ("claimed", carmen.user_id)
    # The projection is written before the update returns: the queue already shows the claim.
    task = await harness.review_task(cert)
    assert (task.state, task.assignee_id) == ("claimed", carmen.user_id)

    approved = await harness.command(
        cert, DECIDE, DecideInput(actor=carmen, decision="approve", comment="all in order")
    )
    assert (approved.status, approved.awaiting) == ("approved", "system")
    # The approval is readable when the update returns; issuance, whose database steps are
    # local activities of the same workflow task, may have been written with it, and the
    # delivery may have followed.
    assert await harness.status(cert) in {"approved", "issued", "delivered"}
    assert (await harness.review_task(cert)).state == "closed"
    events = await harness.events(cert)
    assert [(e.action, e.from_status, e.to_status) for e in events][:4] == [
        ("submitted", None, "submitted"),
        ("screening_passed", "submitted", "in_review"),
        ("claimed", "in_review", "in_review"),
        ("approved", "in_review", "approved"),
    ]
    assert events[3].detail == {"comment": "all in order"}
    assert events[3].actor_id == carmen.user_id

    # Issuance follows on its own, without anyone's further command.
    await eventually(partial(delivered_now, harness, cert))
    handle = harness.handle(cert)
    description = await handle.describe()
    assert description.status is WorkflowExecutionStatus.RUNNING
    attributes = description.typed_search_attributes
    assert attributes.get(SA_STATUS) == "delivered"
    assert attributes.get(SA_AWAITING) == "importer"
    assert attributes.get(SA_CERTIFIER) == "555"
    assert attributes.get(SA_HTS) == "0804400020"
    await harness.assert_replays(certificate_workflow_id(cert))


async def test_second_of_two_simultaneous_claims_gets_conflict(harness: Harness) -> None:
    [cert] = await harness.submit(request_input())
    task = await harness.review_task(cert)
    carmen = await harness.actor("certifier@demo.test")
    daniel = await harness.actor("certifier2@demo.test")

    outcomes = await asyncio.gather(
        harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=task.id)),
        harness.command(cert, CLAIM, ClaimInput(actor=daniel, task_id=task.id)),
        return_exceptions=True,
    )

    failures = [o for o in outcomes if isinstance(o, WorkflowUpdateFailedError)]
    assert len(failures) == 1, outcomes
    error = refusal(failures[0])
    assert (error.type, error.details) == ("Conflict", ({"code": "task_taken"},))
    assert error.non_retryable
    winner = next(o for o in outcomes if not isinstance(o, BaseException))
    assert (await harness.review_task(cert)).assignee_id == winner.assignee
    assert (await harness.actions(cert)).count("claimed") == 1


async def test_claim_of_a_task_that_is_not_current_conflicts(harness: Harness) -> None:
    [cert] = await harness.submit(request_input())
    carmen = await harness.actor("certifier@demo.test")
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id="not-the-task"))
    assert (refusal(caught.value).type, refusal(caught.value).details[0]) == (
        "Conflict",
        {"code": "task_not_current"},
    )


async def test_exporter_cannot_decide_and_other_certifiers_cannot_claim(harness: Harness) -> None:
    [cert] = await harness.submit(request_input())
    task = await harness.review_task(cert)
    exporter = await harness.actor("exporter@demo.test")
    stranger = await harness.actor("other.certifier@demo.test")

    with pytest.raises(WorkflowUpdateFailedError) as decided:
        await harness.command(cert, DECIDE, DecideInput(actor=exporter, decision="approve"))
    with pytest.raises(WorkflowUpdateFailedError) as claimed:
        await harness.command(cert, CLAIM, ClaimInput(actor=stranger, task_id=task.id))

    assert refusal(decided.value).type == "Forbidden"
    assert refusal(claimed.value).type == "Forbidden"
    assert await harness.actions(cert) == ["submitted", "screening_passed"]


async def test_deciding_needs_a_claim_and_release_gives_the_task_back(harness: Harness) -> None:
    [cert] = await harness.submit(request_input())
    task = await harness.review_task(cert)
    carmen = await harness.actor("certifier@demo.test")
    daniel = await harness.actor("certifier2@demo.test")

    with pytest.raises(WorkflowUpdateFailedError) as unclaimed:
        await harness.command(cert, DECIDE, DecideInput(actor=carmen, decision="reject"))
    assert refusal(unclaimed.value).details[0] == {"code": "task_not_claimed"}

    await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=task.id))
    with pytest.raises(WorkflowUpdateFailedError) as not_his:
        await harness.command(cert, RELEASE, ReleaseInput(actor=daniel, task_id=task.id))
    assert refusal(not_his.value).details[0] == {"code": "task_taken"}
    released = await harness.command(cert, RELEASE, ReleaseInput(actor=carmen, task_id=task.id))
    assert (released.task_state, released.assignee) == ("open", None)
    assert (await harness.review_task(cert)).state == "open"

    await harness.command(cert, CLAIM, ClaimInput(actor=daniel, task_id=task.id))
    rejected = await harness.command(
        cert, DECIDE, DecideInput(actor=daniel, decision="reject", comment="lot numbers missing")
    )
    assert rejected.status == "rejected"
    assert await harness.handle(cert).result() == "rejected"
    await harness.smtp.wait_for(2)
    [rejection] = harness.mails_to(EXPORTERS)
    assert rejection.startswith("Certificate request rejected")
    assert "lot numbers missing" in harness.smtp.messages[-1].get_content()
    assert await harness.actions(cert) == [
        "submitted",
        "screening_passed",
        "claimed",
        "released",
        "claimed",
        "rejected",
    ]


async def test_exporter_withdraws_a_certificate_in_review(harness: Harness) -> None:
    [cert] = await harness.submit(request_input())
    exporter = await harness.actor("exporter@demo.test")

    result = await harness.command(cert, WITHDRAW, WithdrawInput(actor=exporter, reason="sold"))

    assert (result.status, result.awaiting) == ("withdrawn", "none")
    assert await harness.status(cert) == "withdrawn"
    assert (await harness.review_task(cert)).state == "closed"
    assert (await harness.events(cert))[-1].detail == {"reason": "sold"}
    assert await harness.handle(cert).result() == "withdrawn"
    attributes = (await harness.handle(cert).describe()).typed_search_attributes
    assert (attributes.get(SA_STATUS), attributes.get(SA_AWAITING)) == ("withdrawn", "none")


async def test_a_command_that_arrives_before_the_first_step_waits_for_it(
    harness: Harness,
) -> None:
    """A worker that dies after screening wrote the review task, before its workflow task was
    recorded, is run again from the start: a claim a certifier sent meanwhile arrives with the
    workflow still `submitted`. It waits for the step instead of being refused for the state;
    a claim of a task the step does not create is then refused for what it is."""
    carmen = await harness.actor("certifier@demo.test")
    request = request_input()
    stray = ClaimInput(actor=carmen, task_id="00000000-0000-4000-8000-000000000000")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await harness.start_with_update(request, CLAIM, stray)
    # Refused at once, it would have been for the state (`invalid_state`).
    assert refusal(refused.value).details[0]["code"] == "task_not_current"
    [cert] = [line.certificate_id for line in request.lines]
    # The refusal came after the step: the review task is in the database and in the workflow.
    task = await harness.review_task(cert)
    assert (task.state, task.assignee_id) == ("open", None)
    claimed = await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=task.id))
    assert (claimed.task_state, claimed.assignee) == ("claimed", carmen.user_id)
    await harness.assert_replays(certificate_workflow_id(cert))
