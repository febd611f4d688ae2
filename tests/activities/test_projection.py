"""record_request and project_transition write once, however often Temporal retries them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError

from activities.projection import ProjectionActivities
from domain.model import Awaiting, Status, TaskKind, TaskState
from persistence.models import ActualShipment, AuditEvent, Certificate, CustomsEntry, Task
from persistence.seed import demo_user_id
from tests.workflows.support import line, request_input
from workflows.contracts import SYSTEM, EntryLine, ShipmentActual
from workflows.payloads import (
    ActualsWrite,
    CertificateWrite,
    EntryWrite,
    EventWrite,
    ProjectionInput,
    TaskWrite,
)

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def screening_passed(certificate_id: str, seq: int = 2) -> ProjectionInput:
    return ProjectionInput(
        workflow_id=f"certificate-{certificate_id}",
        seq=seq,
        certificate_id=certificate_id,
        at=AT,
        status=Status.IN_REVIEW,
        awaiting=Awaiting.CERTIFIER,
        flags=[],
        task=TaskWrite(
            task_id=f"task-{certificate_id}",
            kind=TaskKind.REVIEW,
            state=TaskState.OPEN,
            due_at=AT,
        ),
        event=EventWrite(
            action="screening_passed",
            actor=SYSTEM,
            from_status=Status.SUBMITTED,
            to_status=Status.IN_REVIEW,
        ),
    )


async def count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_recording_a_request_twice_writes_it_once(sessions) -> None:
    projection = ProjectionActivities(sessions)
    request = request_input(line(), line(quantity_kg=10))

    assert await projection.record_request(request) is True
    assert await projection.record_request(request) is False

    assert await count(sessions, Certificate) == 2


async def test_a_retried_transition_is_written_once(sessions) -> None:
    projection = ProjectionActivities(sessions)
    request = request_input()
    await projection.record_request(request)
    certificate_id = request.lines[0].certificate_id

    assert await projection.project_transition(screening_passed(certificate_id)) is True
    assert await projection.project_transition(screening_passed(certificate_id)) is False

    assert await count(sessions, AuditEvent) == 1
    async with sessions() as session:
        row = await session.get(Certificate, certificate_id)
    assert row is not None
    assert (row.status, row.awaiting, row.projected_seq) == ("in_review", "certifier", 2)


async def test_a_transition_before_its_request_is_recorded_fails_until_it_is(sessions) -> None:
    projection = ProjectionActivities(sessions)
    request = request_input()
    certificate_id = request.lines[0].certificate_id

    # A retryable ApplicationError: Temporal retries it until the request's rows are there.
    with pytest.raises(ApplicationError) as caught:
        await projection.project_transition(screening_passed(certificate_id))
    assert (caught.value.type, caught.value.non_retryable) == ("ProjectionNotReady", False)
    assert isinstance(caught.value.__cause__, IntegrityError)
    await projection.record_request(request)

    assert await projection.project_transition(screening_passed(certificate_id)) is True


def entry_recorded(
    certificate_id: str, seq: int, entry_number: str, remaining: int, kg: int = 1000
) -> ProjectionInput:
    return ProjectionInput(
        workflow_id=f"certificate-{certificate_id}",
        seq=seq,
        certificate_id=certificate_id,
        at=AT,
        status=Status.DELIVERED,
        awaiting=Awaiting.IMPORTER,
        certificate=CertificateWrite(issued_at=AT, remaining_kg=Decimal(remaining)),
        entry=EntryWrite(
            entry=EntryLine(
                entry_number=entry_number,
                line_number=1,
                quantity_kg=Decimal(kg),
                entry_date=date(2026, 12, 5),
                port_of_entry="Los Angeles",
            ),
            recorded_by="importer",
        ),
        event=EventWrite(action="entry_recorded", actor=SYSTEM),
    )


async def recorded_certificate(sessions: async_sessionmaker[AsyncSession]) -> str:
    request = request_input()
    await ProjectionActivities(sessions).record_request(request)
    return request.lines[0].certificate_id


async def test_a_group_of_entries_is_written_once_in_one_call(sessions) -> None:
    projection = ProjectionActivities(sessions)
    cert = await recorded_certificate(sessions)
    group = [entry_recorded(cert, seq, f"E-{seq}", 18000 - 1000 * seq) for seq in (5, 6, 7)]

    assert await projection.project_transitions(group[:1]) == 1
    # A retried group, or one that overlaps a write already made, writes only what is new.
    assert await projection.project_transitions(group) == 2
    assert await projection.project_transitions(group) == 0

    assert await count(sessions, CustomsEntry) == 3
    assert await count(sessions, AuditEvent) == 3
    async with sessions() as session:
        row = await session.get(Certificate, cert)
    assert row is not None
    assert (row.remaining_kg, row.issued_at, row.projected_seq) == (Decimal(11000), AT, 7)


async def test_an_older_transition_written_late_adds_its_entry_but_not_its_columns(
    sessions,
) -> None:
    projection = ProjectionActivities(sessions)
    cert = await recorded_certificate(sessions)

    await projection.project_transition(entry_recorded(cert, 9, "E-9", 16000))
    await projection.project_transition(entry_recorded(cert, 8, "E-8", 17000))

    async with sessions() as session:
        row = await session.get(Certificate, cert)
        entries = (await session.scalars(select(CustomsEntry.entry_number))).all()
    assert row is not None
    assert (row.remaining_kg, row.projected_seq) == (Decimal(16000), 9)
    assert sorted(entries) == ["E-8", "E-9"]


async def test_a_reconciliation_report_is_written_with_its_sequence(sessions) -> None:
    projection = ProjectionActivities(sessions)
    cert = await recorded_certificate(sessions)
    report = ProjectionInput(
        workflow_id=f"certificate-{cert}",
        seq=12,
        certificate_id=cert,
        at=AT,
        status=Status.DELIVERED,
        awaiting=Awaiting.CERTIFIER,
        certificate=CertificateWrite(issued_at=AT, reconciliation="reported"),
        actuals=ActualsWrite(
            shipments=[
                ShipmentActual(reference="BL-1", net_kg=Decimal("17500.5"), date=date(2026, 12, 3))
            ],
            reported_by="exporter",
        ),
        event=EventWrite(action="actuals_reported", actor=SYSTEM),
    )

    assert await projection.project_transition(report) is True
    assert await projection.project_transition(report) is False

    async with sessions() as session:
        [shipment] = (await session.scalars(select(ActualShipment))).all()
        row = await session.get(Certificate, cert)
    assert (shipment.report_seq, shipment.net_kg, shipment.reported_by) == (
        12,
        Decimal("17500.5"),
        "exporter",
    )
    assert row is not None
    assert (row.reconciliation, row.awaiting) == ("reported", "certifier")


def claimed(certificate_id: str, seq: int, assignee: str, at: datetime) -> ProjectionInput:
    """A claim of the review task of `screening_passed`, as one attempt of a workflow task."""
    change = screening_passed(certificate_id, seq)
    assert change.task is not None
    task = change.task.model_copy(update={"state": TaskState.CLAIMED, "assignee_id": assignee})
    event = change.event.model_copy(update={"action": "claimed", "from_status": Status.IN_REVIEW})
    return change.model_copy(update={"at": at, "task": task, "event": event})


async def audit(sessions: async_sessionmaker[AsyncSession], cert: str) -> list[tuple[int, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEvent.seq, AuditEvent.actor_id)
            .where(AuditEvent.certificate_id == cert)
            .order_by(AuditEvent.seq)
        )
        return [(seq, actor) for seq, actor in rows]


async def test_a_workflow_task_run_again_replaces_what_its_lost_attempt_wrote(sessions) -> None:
    """Two claims at once: the attempt that never reached the history gave the task to one
    certifier, the one that did to the other. The other holds the task, one claim is
    recorded, and a late write of the lost attempt changes nothing."""
    projection = ProjectionActivities(sessions)
    cert = await recorded_certificate(sessions)
    await projection.project_transition(screening_passed(cert))
    lost = claimed(cert, 3, demo_user_id("certifier@demo.test"), AT.replace(minute=1))
    kept = claimed(cert, 3, demo_user_id("certifier2@demo.test"), AT.replace(minute=2))

    assert await projection.project_transition(lost) is True
    assert await projection.project_transition(kept) is True
    assert await projection.project_transition(lost) is False

    async with sessions() as session:
        task = await session.get(Task, f"task-{cert}")
        claims = await session.scalar(
            select(func.count()).where(AuditEvent.action == "claimed").select_from(AuditEvent)
        )
    assert task is not None
    assert (task.assignee_id, claims) == (demo_user_id("certifier2@demo.test"), 1)


async def test_changes_of_a_lost_attempt_beyond_the_one_run_again_are_taken_back(
    sessions,
) -> None:
    """A lost attempt recorded two entries (seq 5 and 6); the attempt run again recorded
    another one at seq 5 only: the lost entries and their events are gone."""
    projection = ProjectionActivities(sessions)
    cert = await recorded_certificate(sessions)
    lost = [entry_recorded(cert, seq, f"E-{seq}", 18000 - 1000 * seq) for seq in (5, 6)]
    assert await projection.project_transitions(lost) == 2
    again = entry_recorded(cert, 5, "E-50", 13000, kg=5000)
    again = again.model_copy(update={"at": AT.replace(minute=1)})

    assert await projection.project_transition(again) is True

    async with sessions() as session:
        entries = (await session.scalars(select(CustomsEntry.entry_number))).all()
        row = await session.get(Certificate, cert)
    assert entries == ["E-50"]
    assert [seq for seq, _ in await audit(sessions, cert)] == [5]
    assert row is not None
    assert (row.remaining_kg, row.projected_seq) == (Decimal(13000), 5)
