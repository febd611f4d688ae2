"""The certifier's queue (DESIGN 6): `/queue`, claim and release on each row, take the next.

Reads and commands are those of `GET /api/tasks` and `POST /api/tasks/{id}/claim|release`:
`TaskRepository.queue` and `get_visible`, `send_command` with the workflow's contracts. What the
API refuses, the page refuses with the same status and words (403 for who is not a certifier)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.commands import send_command
from api.deps import SessionDep, TemporalDep
from api.security import Principal
from api.web.rendering import PageRoute, render
from api.web.sessions import Visitor, VisitorDep, check_csrf
from domain.errors import Forbidden, Unauthorized
from domain.model import Role, TaskKind, TaskState
from persistence.models import Task
from persistence.repositories import (
    CertificateRepository,
    RegistryRepository,
    TaskRepository,
    UserRepository,
)
from persistence.repositories.pagination import MAX_LIMIT
from workflows.contracts import CLAIM, RELEASE, ActorRef, ClaimInput, ReleaseInput

router = APIRouter(
    route_class=PageRoute, dependencies=[Depends(check_csrf)], include_in_schema=False
)

DECISIONS = {"approve": "Approve", "request_info": "Request information", "reject": "Reject"}


def certifier(visitor: Visitor) -> Principal:
    """The signed-in certifier; anyone else is refused as `GET /api/tasks` refuses them."""
    if visitor.user is None:
        raise Unauthorized("sign in to see this page")
    if visitor.user.role is not Role.CERTIFIER:
        raise Forbidden("only certifiers have a task queue", code="not_a_certifier")
    return visitor.user


def late_by(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes >= 48 * 60:
        return f"{minutes // (24 * 60)} days late"
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60} min late"
    return f"{minutes} min late" if minutes else "under a minute late"


def queue_url(kind: str | None, state: str | None, mine: bool) -> str:
    query = {k: v for k, v in (("kind", kind), ("state", state)) if v}
    if mine:
        query["mine"] = "1"
    return "/queue" + (f"?{urlencode(query)}" if query else "")


async def _rows(session: AsyncSession, user: Principal, tasks: list[Task]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    certificates = CertificateRepository(session)
    registry = RegistryRepository(session)
    users = UserRepository(session)
    names: dict[str, str] = {}
    rows = []
    for task in tasks:
        cert = await certificates.get_visible(user.actor, task.certificate_id)
        if cert.exporter_id not in names:
            org = await registry.organisation(cert.exporter_id)
            names[cert.exporter_id] = org.name if org is not None else cert.exporter_id
        if task.assignee_id is not None and task.assignee_id not in names:
            assignee = await users.by_id(task.assignee_id)
            names[task.assignee_id] = assignee.full_name if assignee else task.assignee_id
        overdue = task.due_at < now
        rows.append(
            {
                "task": task,
                "cert": cert,
                "exporter": names[cert.exporter_id],
                "overdue": overdue,
                "late": late_by(now - task.due_at) if overdue else None,
                "assignee": names.get(task.assignee_id or ""),
                "mine": task.assignee_id == user.id,
                "flags": len(cert.flags),
            }
        )
    return rows


@router.get("/queue")
async def queue_page(
    visitor: VisitorDep,
    session: SessionDep,
    kind: TaskKind | None = None,
    state: Annotated[Literal["open", "claimed"] | None, Query()] = None,
    mine: bool = False,
    none_open: bool = False,
) -> Response:
    """One table, most urgent first (the API's order: due time, so the overdue come first)."""
    user = certifier(visitor)
    now = datetime.now(UTC)
    tasks = TaskRepository(session)
    shown = await tasks.queue(
        user.actor,
        now=now,
        kind=kind,
        state=TaskState(state) if state else None,
        assigned_to_me=mine,
        limit=MAX_LIMIT,
    )
    live = (await tasks.queue(user.actor, now=now, limit=MAX_LIMIT)).items
    counts: Counter[str] = Counter()
    for task in live:
        counts[task.kind] += 1
        counts[task.state] += 1
        counts["mine"] += task.assignee_id == user.id
    here = queue_url(kind, state, mine)
    filters = {
        "kind": [(k.value, queue_url(k.value, state, mine), counts[k.value]) for k in TaskKind],
        "state": [
            (s, queue_url(kind, s, mine), counts[s]) for s in (TaskState.OPEN, TaskState.CLAIMED)
        ],
    }
    return render(
        "certifier/queue.html",
        visitor=visitor,
        rows=await _rows(session, user, shown.items),
        more=shown.next_cursor is not None,
        total=len(live),
        kind=kind,
        state=state,
        mine=mine,
        here=here,
        filters=filters,
        mine_url=queue_url(kind, state, not mine),
        mine_count=counts["mine"],
        all_url="/queue",
        none_open=none_open,
    )


def _back(target: str) -> str:
    # Only back to a queue of this site: never a redirect to wherever a form says.
    return target if target == "/queue" or target.startswith("/queue?") else "/queue"


async def _task_command(
    task_id: str,
    update: str,
    visitor: Visitor,
    session: AsyncSession,
    temporal: TemporalDep,
) -> Task:
    """Claim or release, as `POST /api/tasks/{id}/claim|release` does it."""
    user = certifier(visitor)
    tasks = TaskRepository(session)
    task = await tasks.get_visible(user.actor, task_id)
    payload_type = ClaimInput if update == CLAIM else ReleaseInput
    payload = payload_type(actor=ActorRef.of(user.actor), task_id=task.id)
    await send_command(session, temporal, user, task.certificate_id, update, payload, None)
    return await tasks.get_visible(user.actor, task_id)


@router.post("/queue/{task_id}/claim")
async def claim(
    task_id: str,
    visitor: VisitorDep,
    session: SessionDep,
    temporal: TemporalDep,
    back: Annotated[str, Form(max_length=500)] = "/queue",
) -> Response:
    await _task_command(task_id, CLAIM, visitor, session, temporal)
    return RedirectResponse(_back(back), status_code=303)


@router.post("/queue/{task_id}/release")
async def release(
    task_id: str,
    visitor: VisitorDep,
    session: SessionDep,
    temporal: TemporalDep,
    back: Annotated[str, Form(max_length=500)] = "/queue",
) -> Response:
    await _task_command(task_id, RELEASE, visitor, session, temporal)
    return RedirectResponse(_back(back), status_code=303)


@router.post("/queue/next")
async def take_next(visitor: VisitorDep, session: SessionDep, temporal: TemporalDep) -> Response:
    """Claims the most urgent open task and opens its review page."""
    user = certifier(visitor)
    open_tasks = await TaskRepository(session).queue(
        user.actor, now=datetime.now(UTC), state=TaskState.OPEN, limit=1
    )
    if not open_tasks.items:
        return RedirectResponse("/queue?none_open=1", status_code=303)
    task = await _task_command(open_tasks.items[0].id, CLAIM, visitor, session, temporal)
    return RedirectResponse(f"/review/{task.certificate_id}", status_code=303)
