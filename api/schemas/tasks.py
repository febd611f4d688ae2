from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from domain.model import TaskKind, TaskState
from persistence.models import Task


class TaskRead(BaseModel):
    id: str
    kind: TaskKind
    state: TaskState
    certificate_id: str
    assignee: str | None
    due_at: datetime
    overdue: bool
    escalated: bool
    created_at: datetime
    closed_at: datetime | None

    @staticmethod
    def fields_of(task: Task, *, now: datetime) -> dict[str, Any]:
        """The answer's fields, for pydantic to validate (`of`, or a page at once: `page_of`)."""
        return {
            "id": task.id,
            "kind": task.kind,
            "state": task.state,
            "certificate_id": task.certificate_id,
            "assignee": task.assignee_id,
            "due_at": task.due_at,
            "overdue": task.state != TaskState.CLOSED and task.due_at < now,
            "escalated": task.escalated,
            "created_at": task.created_at,
            "closed_at": task.closed_at,
        }

    @classmethod
    def of(cls, task: Task, *, now: datetime) -> TaskRead:
        return cls.model_validate(cls.fields_of(task, now=now))
