"""The certifier's queue (DESIGN 6): `/queue`, claim and release on each row, take the next.

Reads and commands are those of `GET /api/tasks` and `POST /api/tasks/{id}/claim|release`:
`TaskRepository.queue` and `get_visible`, `send_command` with the workflow's contracts. What the
API refuses, the page refuses with the same status and words (403 for who is not a certifier)."""

from __future__ import annotations

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
    TaskRepository,
)
from persistence.repositories.pagination import MAX_LIMIT
from workflows.contracts import CLAIM, RELEASE, ActorRef, ClaimInput, ReleaseInput

router = APIRouter(
    route_class=PageRoute, dependencies=[Depends(check_csrf)], include_in_schema=False
)

# The rows of one page: the API's largest page; a module constant so a test can make it small.
PAGE_SIZE = MAX_LIMIT
TASK_COMMANDS = {"claim": CLAIM, "release": RELEASE}


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


def queue_url(kind: str | None, state: str | None, mine: bool, cursor: str | None = None) -> str:
    """The queue with these filters (and from `cursor` on): an address to share or come back to."""
    query = {k: v for k, v in (("kind", kind), ("state", state)) if v}
    if mine:
        query["mine"] = "1"
    if cursor:
        query["cursor"] = cursor
    return "/queue" + (f"?{urlencode(query)}" if query else "")


async def _rows(session: AsyncSession, user: Principal, tasks: list[Task]) -> list[dict[str, Any]]:
    """The table's rows; certificates and names read for the whole page in two queries."""
    now = datetime.now(UTC)
    certificates = await CertificateRepository(session).visible_with_exporter_names(
        user.actor, [t.certificate_id for t in tasks]
    )
    assignees = await TaskRepository(session).assignee_names(
        user.actor, [t.assignee_id for t in tasks if t.assignee_id is not None]
    )
    rows = []
    for task in tasks:
        # A task and its certificate belong to the same certifier: the task is readable, so is
        # the certificate.
        cert, exporter = certificates[task.certificate_id]
        overdue = task.due_at < now
        assignee = task.assignee_id
        rows.append(
            {
                "task": task,
                "cert": cert,
                "exporter": exporter,
                "overdue": overdue,
                "late": late_by(now - task.due_at) if overdue else None,
                "assignee": assignees.get(assignee, assignee) if assignee else None,
                "mine": assignee == user.id,
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
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    none_open: bool = False,
) -> Response:
    """One table, most urgent first (the API's order: due time, so the overdue come first), a
    page at a time by the API's cursor; the counts are the database's, over every live task."""
    user = certifier(visitor)
    tasks = TaskRepository(session)
    shown = await tasks.queue(
        user.actor,
        now=datetime.now(UTC),
        kind=kind,
        state=TaskState(state) if state else None,
        assigned_to_me=mine,
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    counts = await tasks.queue_counts(user.actor)
    filters = {
        "kind": [
            (k.value, queue_url(k.value, state, mine), counts.count(kind=k)) for k in TaskKind
        ],
        "state": [
            (s.value, queue_url(kind, s.value, mine), counts.count(state=s))
            for s in (TaskState.OPEN, TaskState.CLAIMED)
        ],
    }
    following = shown.next_cursor
    return render(
        "certifier/queue.html",
        visitor=visitor,
        rows=await _rows(session, user, shown.items),
        total=counts.count(),
        matching=counts.count(kind=kind, state=state, mine=mine),
        filtered=bool(kind or state or mine),
        kind=kind,
        state=state,
        mine=mine,
        here=queue_url(kind, state, mine, cursor),
        next_url=queue_url(kind, state, mine, following) if following else None,
        first_url=queue_url(kind, state, mine) if cursor else None,
        filters=filters,
        mine_url=queue_url(kind, state, not mine),
        mine_count=counts.count(mine=True),
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


@router.post("/queue/{task_id}/{command}")
async def claim_or_release(
    task_id: str,
    command: Literal["claim", "release"],
    visitor: VisitorDep,
    session: SessionDep,
    temporal: TemporalDep,
    back: Annotated[str, Form(max_length=500)] = "/queue",
) -> Response:
    """A row's claim or release; back to the queue as it was shown (its filters, its page)."""
    await _task_command(task_id, TASK_COMMANDS[command], visitor, session, temporal)
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
