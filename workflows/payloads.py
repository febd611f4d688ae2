"""What the workflows hand their activities, and what a certificate workflow carries.

Workflows, activities and persistence share these definitions; the API never needs them. They
live apart from the activities so the workflow sandbox never imports a database driver.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from domain.model import Awaiting, Role, Status, TaskKind, TaskState
from workflows.contracts import ActorRef, FindingRecord, TimerSettings


class TaskWrite(BaseModel):
    task_id: str
    kind: TaskKind
    state: TaskState
    assignee_id: str | None = None
    due_at: datetime
    escalated: bool = False


class EventWrite(BaseModel):
    action: str
    actor: ActorRef
    from_status: Status | None = None
    to_status: Status | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class ProjectionInput(BaseModel):
    """One transition of one certificate, written in one transaction by `project_transition`."""

    workflow_id: str
    seq: int
    certificate_id: str
    at: datetime
    status: Status
    awaiting: Awaiting
    flags: list[FindingRecord] | None = None
    task: TaskWrite | None = None
    event: EventWrite


class ScreenPartiesInput(BaseModel):
    certifier_id: str
    exporter_id: str
    importer_id: str


class ScreenLineInput(BaseModel):
    certificate_id: str
    exporter_id: str
    hts_code: str
    quantity_kg: Decimal
    year: int


class MailInput(BaseModel):
    """A mail to every active user with `role` in `organisation_id`, sent at most once per key."""

    key: str
    template: str
    organisation_id: str
    role: Role
    certificate_id: str | None = None
    context: dict[str, str] = Field(default_factory=dict)


class CertificateState(BaseModel):
    """What a certificate workflow carries across continue-as-new."""

    status: Status = Status.SUBMITTED
    seq: int = 0
    flags: list[FindingRecord] = Field(default_factory=list)
    task: TaskWrite | None = None
    # The review clock counts business time; it runs from `review_since` (None while paused)
    # on top of `review_used`, what it had counted before.
    review_used: timedelta = timedelta(0)
    review_since: datetime | None = None
    review_reminded: bool = False
    review_escalated: bool = False
    info_requested_at: datetime | None = None
    info_requested_by: str | None = None
    info_question: str = ""
    info_reminded: bool = False
    pending_mail: list[MailInput] = Field(default_factory=list)


class CertificateInput(BaseModel):
    certificate_id: str
    request_id: str
    certifier_id: str
    exporter_id: str
    importer_id: str
    hts_code: str
    quantity_kg: Decimal
    valid_from: date
    timers: TimerSettings = Field(default_factory=TimerSettings)
    party_findings: list[FindingRecord] = Field(default_factory=list)
    product_name: str = ""
    # Set only by continue-as-new: the state the previous run handed over.
    state: CertificateState | None = None
