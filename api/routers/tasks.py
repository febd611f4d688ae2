"""The certifier's queue of review and reconciliation tasks: list, claim, release."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from api.commands import send_command
from api.deps import (
    CurrentUser,
    Cursor,
    IdempotencyKey,
    Limit,
    SessionDep,
    TemporalDep,
    reads_only,
)
from api.responses import SIGNED_IN, errors
from api.schemas.common import Page, page_of
from api.schemas.tasks import TaskRead
from api.security import Principal
from api.temporal import TemporalGateway
from domain.model import TaskKind, TaskState
from persistence.repositories import TaskRepository
from workflows.contracts import CLAIM, RELEASE, ActorRef, ClaimInput, ReleaseInput

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


@router.get("", responses=errors(*SIGNED_IN, 403, 422))
@reads_only
async def list_tasks(
    user: CurrentUser,
    session: SessionDep,
    kind: TaskKind | None = None,
    state: TaskState | None = None,
    assignee: Literal["me"] | None = None,
    overdue: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[TaskRead]:
    """Open and claimed tasks of the caller's organisation, soonest due first."""
    now = datetime.now(UTC)
    page = await TaskRepository(session).queue(
        user.actor,
        now=now,
        kind=kind,
        state=state,
        assigned_to_me=assignee == "me",
        overdue=overdue,
        limit=limit,
        cursor=cursor,
    )
    return page_of(TaskRead, (TaskRead.fields_of(t, now=now) for t in page.items), page.next_cursor)


async def _task_command(
    task_id: str,
    update: str,
    payload_type: type[ClaimInput] | type[ReleaseInput],
    user: Principal,
    session: AsyncSession,
    temporal: TemporalGateway,
    idempotency_key: str | None,
) -> TaskRead:
    """Claim and release: the task's workflow decides, then the projected task is answered."""
    tasks = TaskRepository(session)
    task = await tasks.get_visible(user.actor, task_id)
    payload = payload_type(actor=ActorRef.of(user.actor), task_id=task.id)
    await send_command(
        session, temporal, user, task.certificate_id, update, payload, idempotency_key
    )
    return TaskRead.of(await tasks.get_visible(user.actor, task_id), now=datetime.now(UTC))


@router.post("/{task_id}/claim", responses=errors(*SIGNED_IN, 403, 404, 409, 422))
async def claim_task(
    task_id: str,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> TaskRead:
    return await _task_command(task_id, CLAIM, ClaimInput, user, session, temporal, idempotency_key)


@router.post("/{task_id}/release", responses=errors(*SIGNED_IN, 403, 404, 409, 422))
async def release_task(
    task_id: str,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> TaskRead:
    return await _task_command(
        task_id, RELEASE, ReleaseInput, user, session, temporal, idempotency_key
    )
