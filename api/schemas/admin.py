"""What administrators read and send (DESIGN 5, admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Comment, Message

StuckReason = Literal[
    "overdue_task", "failing_activity", "workflow_task_failure", "projection_lag", "no_worker"
]
RemedyName = Literal["retry", "terminate", "reset"]


class CertifierCountsRead(BaseModel):
    certifier_id: str
    name: str
    total: int
    by_state: dict[str, int]


class TaskCountsRead(BaseModel):
    open: int
    claimed: int
    overdue: int


class HourRead(BaseModel):
    hour: datetime = Field(description="Start of the hour, UTC")
    issued: int


class StatsRead(BaseModel):
    generated_at: datetime
    total: int
    by_state: dict[str, int]
    by_certifier: list[CertifierCountsRead]
    tasks: TaskCountsRead
    issued_last_day: int
    issued_per_hour: list[HourRead] = Field(description="The last 24 hours, oldest first")


class StuckWorkflowRead(BaseModel):
    workflow_id: str
    certificate_id: str | None
    since: datetime | None
    detail: str


class StuckRead(BaseModel):
    """One cause of stuck workflows: the first of them, how many, and a sample by name."""

    workflow_id: str | None = Field(description="The first workflow of the cause")
    certificate_id: str | None
    reason: StuckReason
    since: datetime | None = Field(description="Since when the oldest of them is stuck")
    detail: str
    cause: str = Field(description="Names the group in /api/admin/stuck/{cause}")
    count: int
    remedies: list[RemedyName]
    workflows: list[StuckWorkflowRead]


class StuckGroupRead(StuckRead):
    """A cause with every workflow in it (up to 1,000)."""


class RemedyBody(BaseModel):
    reason: Comment = ""


class TerminateBody(BaseModel):
    reason: Message


class BulkRemedyBody(BaseModel):
    reason: Comment = ""
    dry_run: bool = Field(
        default=True, description="Only count and name the workflows it would act on"
    )


class RemedyRead(BaseModel):
    workflow_id: str
    certificate_id: str | None
    remedy: RemedyName
    outcome: Literal["done", "skipped", "failed"]
    detail: str


class BulkRemedyRead(BaseModel):
    cause: str
    remedy: RemedyName
    dry_run: bool
    count: int
    workflows: list[str]
    results: list[RemedyRead]


class AdminActionRead(BaseModel):
    id: int
    at: datetime
    admin_id: str
    admin_email: str
    action: str
    workflow_id: str
    certificate_id: str | None
    reason: str
    outcome: str
    detail: str
