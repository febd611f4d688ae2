"""What `/metrics` reads from the database at each scrape: two grouped counts, both indexed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import LIVE_TASK, Certificate, Task


@dataclass(frozen=True)
class LiveTasks:
    kind: str
    state: str
    count: int
    overdue: int


class GaugeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def certificates_by_status(self) -> dict[str, int]:
        # Grouped in the order of the (certifier, status, ...) index, which holds both columns:
        # an index-only scan with no sort, instead of a scan of the table.
        rows = await self.session.execute(
            select(Certificate.certifier_id, Certificate.status, func.count())
            .group_by(Certificate.certifier_id, Certificate.status)
            .order_by(Certificate.certifier_id, Certificate.status)
        )
        counts: dict[str, int] = {}
        for _certifier, status, count in rows:
            counts[status] = counts.get(status, 0) + int(count)
        return counts

    async def live_tasks(self, now: datetime) -> list[LiveTasks]:
        """Open and claimed tasks by kind and state, and how many of them are overdue."""
        # The literal predicate of the partial queue indexes, so the planner reads only them.
        rows = await self.session.execute(
            select(
                Task.kind,
                Task.state,
                func.count(),
                func.sum(case((Task.due_at < now, 1), else_=0)),
            )
            .where(text(LIVE_TASK))
            .group_by(Task.kind, Task.state)
        )
        return [
            LiveTasks(kind, state, int(count), int(overdue or 0))
            for kind, state, count, overdue in rows
        ]
