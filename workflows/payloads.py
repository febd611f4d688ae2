"""What the workflows hand their activities, and what a certificate workflow carries.

Workflows, activities and persistence share these definitions; the API never needs them. They
live apart from the activities so the workflow sandbox never imports a database driver.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from domain.model import Awaiting, Coverage, Role, Status, TaskKind, TaskState
from workflows.contracts import (
    ActorRef,
    CertificateChanges,
    EntryLine,
    FindingRecord,
    ShipmentActual,
    TimerSettings,
)


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


class CertificateWrite(BaseModel):
    """Columns of the certificate row a transition sets; None leaves a column as it is."""

    issued_at: datetime | None = None
    remaining_kg: Decimal | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    # R8: requested, reported, confirmed or missing.
    reconciliation: str | None = None
    replaced_by_id: str | None = None


class EntryWrite(BaseModel):
    entry: EntryLine
    recorded_by: str


class ActualsWrite(BaseModel):
    shipments: list[ShipmentActual]
    reported_by: str


class ProjectionInput(BaseModel):
    """One transition of one certificate, written in one transaction by `project_transition`."""

    workflow_id: str
    # The run that made the change: after a reset, a new run numbers its changes again.
    run_id: str = ""
    seq: int
    certificate_id: str
    at: datetime
    status: Status
    awaiting: Awaiting
    flags: list[FindingRecord] | None = None
    task: TaskWrite | None = None
    certificate: CertificateWrite | None = None
    entry: EntryWrite | None = None
    actuals: ActualsWrite | None = None
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
    """A mail to every active user with `role` in `organisation_id`, sent at most once per key.

    With `attach_document` the certificate's signed PDF goes with it (read from the database:
    payloads carry ids, never documents).
    """

    key: str
    template: str
    organisation_id: str
    role: Role
    certificate_id: str | None = None
    context: dict[str, str] = Field(default_factory=dict)
    attach_document: bool = False


class DeliveryInput(BaseModel):
    """The importer's mail with the document and, once it is out, the exporter's copy: the
    delivery step's mails in one activity."""

    delivery: MailInput
    exporter_copy: MailInput | None = None


class DeliveryOutcome(BaseModel):
    """The importer has the document; why the exporter's copy could never go, if it could not."""

    copy_failure: str | None = None


class AllocateNumberInput(BaseModel):
    certificate_id: str


class AllocatedNumber(BaseModel):
    """R5: allocated once; a retried activity gets the same number and code back."""

    number: str
    verification_code: str


class RenderDocumentInput(BaseModel):
    certificate_id: str
    issued_at: datetime


class RenderedDocument(BaseModel):
    sha256: str
    key_id: str


class CreateReplacementInput(BaseModel):
    original_id: str
    replacement_id: str
    changes: CertificateChanges
    reason: str
    at: datetime


class ReplacementRecord(BaseModel):
    """The replacement as written, for starting its own workflow."""

    certificate_id: str
    hts_code: str
    product_name: str
    quantity_kg: Decimal
    coverage: Coverage
    valid_from: date
    valid_until: date


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
    # Issued life (DESIGN 3): set at issuance, then by deliveries, entries and reconciliation.
    number: str | None = None
    issued_at: datetime | None = None
    # The importer's mail with the document, until it is sent (then the certificate is delivered).
    delivery: MailInput | None = None
    # Since the lean patch the exporter's copy goes in the same activity, after the importer's.
    delivery_copy: MailInput | None = None
    delivered_at: datetime | None = None
    # The importer's mail failed for good: the certificate stays issued, in force (DESIGN 3).
    delivery_failed: bool = False
    # Issuance that failed for good: how often, and the last reason told to the certifier.
    issuance_failures: int = 0
    issuance_failure: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledgement_reminded: bool = False
    remaining_kg: Decimal | None = None
    # "entry number/line" of every customs entry recorded (R7): what tells a repeat from a new one.
    entry_keys: list[str] = Field(default_factory=list)
    # R8: requested, reported, confirmed or missing.
    reconciliation: str | None = None
    replaced_by_id: str | None = None


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
    coverage: Coverage = Coverage.SINGLE_SHIPMENT
    valid_until: date | None = None
    # A replacement (R6) is the certifier's own correction: it starts approved, skipping review.
    replaces_id: str | None = None
    replaced_by: ActorRef | None = None
    replace_reason: str = ""
    # Set only by continue-as-new: the state the previous run handed over.
    state: CertificateState | None = None
    # The code revision the certificate's first run started at (workflows.contracts); a run
    # continued as new keeps it.
    revision: int = 0
