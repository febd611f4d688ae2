"""The certifier queue: tasks of the caller's organisation, by due time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Forbidden, NotFound
from domain.model import Actor, Role, TaskKind, TaskState
from persistence.models import LIVE_TASK, Task, User
from persistence.repositories.pagination import (
    Page,
    check_limit,
    decode_cursor,
    decode_time,
    keyset_page,
)


def _certifier_org(actor: Actor) -> str:
    if actor.role is not Role.CERTIFIER or actor.organisation_id is None:
        raise Forbidden("only certifiers have a task queue", code="not_a_certifier")
    return actor.organisation_id


@dataclass(frozen=True)
class QueueCounts:
    """Live tasks of a certifier organisation by (kind, state): (how many, how many the caller
    holds). Every combination of the queue's filters is a sum over these few groups."""

    groups: dict[tuple[str, str], tuple[int, int]]

    def count(
        self, *, kind: str | None = None, state: str | None = None, mine: bool = False
    ) -> int:
        """The live tasks the queue would list with these filters."""
        return sum(
            held if mine else total
            for (group_kind, group_state), (total, held) in self.groups.items()
            if kind in (None, group_kind) and state in (None, group_state)
        )


class TaskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_visible(self, actor: Actor, task_id: str) -> Task:
        # One task is a 404 for anyone outside its certifier, like a certificate (DESIGN 5).
        found = None
        if actor.role is Role.CERTIFIER and actor.organisation_id is not None:
            found = await self.session.scalar(
                select(Task).where(Task.id == task_id, Task.certifier_id == actor.organisation_id)
            )
        if found is None:
            raise NotFound("task not found", code="task_not_found")
        return found

    async def queue(
        self,
        actor: Actor,
        *,
        now: datetime,
        kind: TaskKind | None = None,
        state: TaskState | None = None,
        assigned_to_me: bool = False,
        overdue: bool | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Task]:
        check_limit(limit)
        query = select(Task).where(Task.certifier_id == _certifier_org(actor))
        # Live tasks by the literal predicate of the partial indexes: a bound parameter would
        # keep the planner from using them.
        live = text(LIVE_TASK) if state is None else Task.state == state
        query = query.where(live)
        if kind is not None:
            query = query.where(Task.kind == kind)
        if assigned_to_me:
            query = query.where(Task.assignee_id == actor.user_id)
        if overdue is True:
            query = query.where(Task.due_at < now)
        elif overdue is False:
            query = query.where(Task.due_at >= now)
        if cursor is not None:
            due, last_id = decode_cursor(cursor, 2)
            due_at = decode_time(due)
            query = query.where(tuple_(Task.due_at, Task.id) > tuple_(due_at, last_id))
        query = query.order_by(Task.due_at, Task.id).limit(limit + 1)
        rows = list((await self.session.scalars(query)).all())
        return keyset_page(rows, limit, lambda t: (t.due_at.isoformat(), t.id))

    async def queue_counts(self, actor: Actor) -> QueueCounts:
        """The queue's counts, scoped as `queue` is: one grouped query over the live tasks.

        Counted by the database, not over a page of tasks: with thousands of live tasks a
        filter's count is the true total. The literal live predicate lets the partial
        indexes serve it, as in `queue`.
        """
        held = func.sum(case((Task.assignee_id == actor.user_id, 1), else_=0))
        query = (
            select(Task.kind, Task.state, func.count(), held)
            .where(Task.certifier_id == _certifier_org(actor), text(LIVE_TASK))
            .group_by(Task.kind, Task.state)
        )
        rows = await self.session.execute(query)
        return QueueCounts({(k, s): (int(n), int(m or 0)) for k, s, n, m in rows})

    async def assignee_names(self, actor: Actor, user_ids: Sequence[str]) -> dict[str, str]:
        """The full names of the certifiers among `user_ids` who belong to the caller's
        organisation, by id: one query for a page of the queue rather than one per row."""
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(User.id, User.full_name).where(
                User.id.in_(set(user_ids)), User.organisation_id == _certifier_org(actor)
            )
        )
        return dict(rows.all())

    async def for_certificate(self, certificate_id: str) -> list[Task]:
        rows = await self.session.scalars(
            select(Task).where(Task.certificate_id == certificate_id).order_by(Task.created_at)
        )
        return list(rows.all())
