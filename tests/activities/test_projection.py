"""record_request and project_transition write once, however often Temporal retries them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.projection import ProjectionActivities
from domain.model import Awaiting, Status, TaskKind, TaskState
from persistence.models import AuditEvent, Certificate
from tests.workflows.support import line, request_input
from workflows.contracts import SYSTEM
from workflows.payloads import EventWrite, ProjectionInput, TaskWrite

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

    # A plain exception, not a non-retryable ApplicationError: Temporal retries it.
    with pytest.raises(IntegrityError):
        await projection.project_transition(screening_passed(certificate_id))
    await projection.record_request(request)

    assert await projection.project_transition(screening_passed(certificate_id)) is True
