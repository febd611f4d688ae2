from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.model import Awaiting, Status, TaskState
from persistence.db import transaction
from persistence.models import AuditEvent, Certificate, Task
from persistence.repositories.projection import ProjectionConflict
from persistence.seed import demo_user_id
from tests.persistence.factories import (
    T0,
    import_request,
    project,
    record,
    review_task,
    transition,
)
from workflows.contracts import FindingRecord
from workflows.payloads import ProjectionInput, TaskWrite

LIMA = timezone(timedelta(hours=-5))


async def _state(
    db: async_sessionmaker[AsyncSession], certificate_id: str
) -> tuple[Certificate, list[AuditEvent], list[Task]]:
    async with db() as session:
        certificate = await session.get(Certificate, certificate_id)
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.certificate_id == certificate_id)
                .order_by(AuditEvent.seq)
            )
        ).all()
        tasks = (
            await session.scalars(select(Task).where(Task.certificate_id == certificate_id))
        ).all()
    assert certificate is not None
    return certificate, list(events), list(tasks)


async def test_applying_a_transition_writes_certificate_task_and_event(db):
    [certificate_id] = await record(db, import_request())
    task = review_task(due_at=T0 + timedelta(days=5))
    flag = FindingRecord(rule="R4", code="high_use", message="90% used", hard=False)
    change = transition(certificate_id, 1, Status.IN_REVIEW, task=task, at=T0 + timedelta(1))
    change.flags = [flag]
    assert await project(db, change) is True
    certificate, events, tasks = await _state(db, certificate_id)
    assert (certificate.status, certificate.awaiting, certificate.projected_seq) == (
        Status.IN_REVIEW,
        Awaiting.CERTIFIER,
        1,
    )
    assert certificate.flags == [flag.model_dump()]
    assert certificate.updated_at == T0 + timedelta(days=1)
    assert [(e.seq, e.to_status, e.actor_role) for e in events] == [(1, "in_review", "system")]
    assert [(t.id, t.state, t.certifier_id, t.due_at) for t in tasks] == [
        (task.task_id, TaskState.OPEN, "555", task.due_at)
    ]


async def test_a_retried_transition_writes_nothing_twice(db):
    [certificate_id] = await record(db, import_request())
    change = transition(certificate_id, 1, Status.IN_REVIEW, task=review_task(due_at=T0))
    assert await project(db, change) is True
    assert await project(db, change) is False
    _, events, tasks = await _state(db, certificate_id)
    assert len(events) == 1
    assert len(tasks) == 1


async def test_a_late_older_transition_does_not_overwrite_a_newer_one(db):
    [certificate_id] = await record(db, import_request())
    task_id = "task-1"
    claimed = review_task(
        task_id=task_id,
        due_at=T0 + timedelta(days=5),
        state=TaskState.CLAIMED,
        assignee=demo_user_id("certifier@demo.test"),
    )
    opened = review_task(task_id=task_id, due_at=T0 + timedelta(days=5))
    await project(db, transition(certificate_id, 1, Status.IN_REVIEW, task=opened))
    await project(db, transition(certificate_id, 3, Status.IN_REVIEW, task=claimed))
    late = transition(certificate_id, 2, Status.SUBMITTED, task=opened, awaiting=Awaiting.SYSTEM)
    assert await project(db, late) is True
    certificate, events, tasks = await _state(db, certificate_id)
    assert (certificate.status, certificate.projected_seq) == (Status.IN_REVIEW, 3)
    assert [(t.state, t.assignee_id) for t in tasks] == [
        (TaskState.CLAIMED, demo_user_id("certifier@demo.test"))
    ]
    # The audit trail keeps every transition, whatever order they arrived in.
    assert [e.seq for e in events] == [1, 2, 3]


def in_run(change: ProjectionInput, run_id: str) -> ProjectionInput:
    return change.model_copy(update={"run_id": run_id})


async def test_a_reset_run_numbers_again_and_its_transitions_are_applied(db):
    """After an admin resets a workflow, its new run numbers transitions again from the reset
    point: later in time, lower in sequence than what the old run projected. They are new
    events, and they win; the old run's stragglers do not."""
    [certificate_id] = await record(db, import_request())
    hour = timedelta(hours=1)
    carmen, dora = demo_user_id("certifier@demo.test"), demo_user_id("certifier2@demo.test")

    def claimed_by(who: str) -> TaskWrite:
        return review_task(task_id="t", due_at=T0, state=TaskState.CLAIMED, assignee=who)

    opened = review_task(task_id="t", due_at=T0)
    old = [
        transition(certificate_id, 1, Status.IN_REVIEW, task=opened, at=T0 + hour),
        transition(certificate_id, 2, Status.IN_REVIEW, task=claimed_by(carmen), at=T0 + 2 * hour),
        transition(certificate_id, 3, Status.APPROVED, at=T0 + 3 * hour),
    ]
    for change in old:
        assert await project(db, in_run(change, "run-a")) is True

    reset = in_run(
        transition(certificate_id, 2, Status.IN_REVIEW, task=claimed_by(dora), at=T0 + 5 * hour),
        "run-b",
    )
    assert await project(db, reset) is True
    assert await project(db, reset) is False  # its retry is still a retry

    straggler = in_run(transition(certificate_id, 4, Status.ISSUED, at=T0 + 4 * hour), "run-a")
    assert await project(db, straggler) is True  # it happened: the trail keeps it

    certificate, events, tasks = await _state(db, certificate_id)
    assert (certificate.status, certificate.projected_seq) == (Status.IN_REVIEW, 2)
    assert certificate.projected_at == T0 + 5 * hour
    assert [(t.state, t.assignee_id) for t in tasks] == [(TaskState.CLAIMED, dora)]
    assert sorted((e.seq, e.run_id) for e in events) == [
        (1, "run-a"),
        (2, "run-a"),
        (2, "run-b"),
        (3, "run-a"),
        (4, "run-a"),
    ]


async def test_a_reset_run_that_opens_its_task_anew_closes_the_old_runs(db):
    """Reset to the workflow task that screened it, a run opens the review task again under an
    id of its own: the certificate has one current task, the new one."""
    [certificate_id] = await record(db, import_request())
    hour = timedelta(hours=1)
    first = transition(
        certificate_id, 1, Status.IN_REVIEW, task=review_task(task_id="old", due_at=T0), at=T0
    )
    assert await project(db, in_run(first, "run-a")) is True
    again = transition(
        certificate_id,
        1,
        Status.IN_REVIEW,
        task=review_task(task_id="new", due_at=T0),
        at=T0 + hour,
    )
    assert await project(db, in_run(again, "run-b")) is True
    _, _, tasks = await _state(db, certificate_id)
    states = {t.id: (t.state, t.closed_at) for t in tasks}
    assert states == {"old": (TaskState.CLOSED, T0 + hour), "new": (TaskState.OPEN, None)}


async def test_a_different_change_under_a_seen_key_fails_loudly(db):
    [certificate_id] = await record(db, import_request())
    first = in_run(transition(certificate_id, 1, Status.IN_REVIEW), "run-a")
    other = in_run(transition(certificate_id, 1, Status.REJECTED), "run-a")
    assert await project(db, first) is True
    with pytest.raises(ProjectionConflict, match="recorded as to_in_review"):
        await project(db, other)
    certificate, events, _ = await _state(db, certificate_id)
    assert (certificate.status, len(events)) == (Status.IN_REVIEW, 1)


async def test_closing_a_task_stamps_its_closing_time(db):
    [certificate_id] = await record(db, import_request())
    task = review_task(due_at=T0)
    await project(db, transition(certificate_id, 1, Status.IN_REVIEW, task=task))
    task.state = TaskState.CLOSED
    closed_at = T0 + timedelta(hours=7)
    await project(db, transition(certificate_id, 2, Status.APPROVED, task=task, at=closed_at))
    _, _, [row] = await _state(db, certificate_id)
    assert (row.state, row.closed_at) == (TaskState.CLOSED, closed_at)


def _event(seq: int, at: datetime) -> AuditEvent:
    return AuditEvent(
        workflow_id="clock",
        seq=seq,
        at=at,
        actor_id="system",
        actor_role="system",
        action="tick",
        detail={},
    )


async def test_utc_datetime_round_trips_aware_times_as_utc(db):
    lima_evening = datetime(2026, 11, 2, 21, 30, 15, 123456, tzinfo=LIMA)
    async with transaction(db) as session:
        session.add(_event(1, lima_evening))
        session.add(_event(2, datetime(2026, 11, 3, 1, 0, tzinfo=UTC)))
    async with db() as session:
        stored = await session.scalar(select(AuditEvent.at).where(AuditEvent.seq == 1))
        # Compared as instants, not as wall-clock text: 02:30 UTC is after 01:00 UTC.
        later = await session.scalars(
            select(AuditEvent.seq).where(AuditEvent.at > datetime(2026, 11, 3, 1, 30, tzinfo=UTC))
        )
        later_seqs = list(later.all())
    assert stored == lima_evening
    assert stored is not None
    assert stored.tzinfo == UTC
    assert (stored.day, stored.hour) == (3, 2)
    assert later_seqs == [1]


async def test_utc_datetime_refuses_naive_times(db):
    with pytest.raises(StatementError, match="naive datetime"):
        async with transaction(db) as session:
            session.add(_event(1, datetime(2026, 1, 1)))
