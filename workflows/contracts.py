"""What the outside world knows of the workflows: names, ids, inputs and update payloads.

The API imports this module only, never the workflow bodies. Every input is one pydantic model
so fields can be added later without breaking recorded histories.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field
from temporalio.common import SearchAttributeKey

from domain.model import (
    Actor,
    Awaiting,
    Coverage,
    OrganicCategory,
    Role,
    Status,
)

IMPORT_REQUEST_WORKFLOW = "ImportRequestWorkflow"
# The revision of the workflow code a run was started at, carried in its input. Since revision
# 5 a run takes the paths of its revision from its input instead of recording a patch marker,
# which costs two history events (the marker and the server's TemporalChangeVersion upsert).
# Runs started before carry 0 and decide by their patches, as their recorded histories did.
INLINE_MAIL_REVISION = 5
CURRENT_REVISION = INLINE_MAIL_REVISION
CERTIFICATE_WORKFLOW = "CertificateWorkflow"
TERMINATION_NOTICE_WORKFLOW = "TerminationNoticeWorkflow"

CLAIM = "claim"
RELEASE = "release"
DECIDE = "decide"
ANSWER = "answer"
WITHDRAW = "withdraw"
ACKNOWLEDGE = "acknowledge"
RECORD_ENTRY = "record_entry"
REPORT_ACTUALS = "report_actuals"
CONFIRM_ACTUALS = "confirm_actuals"
VOID = "void"
REPLACE = "replace"

# Activities are called by name: a workflow module that imported the activity classes would pull
# the database driver into the workflow package (import-linter forbids it, even indirectly).
RECORD_REQUEST_ACTIVITY = "record_request"
PROJECT_TRANSITION_ACTIVITY = "project_transition"
# Several transitions in one transaction: customs entries arrive by the hundred.
PROJECT_TRANSITIONS_ACTIVITY = "project_transitions"
SCREEN_PARTIES_ACTIVITY = "screen_parties"
SCREEN_LINE_ACTIVITY = "screen_line"
SEND_MAIL_ACTIVITY = "send_mail"
DELIVER_ACTIVITY = "deliver"
ALLOCATE_NUMBER_ACTIVITY = "allocate_number"
RENDER_DOCUMENT_ACTIVITY = "render_document"
CREATE_REPLACEMENT_ACTIVITY = "create_replacement"
# Undoes create_replacement when the replacement's workflow could not be started (R6 atomic).
DISCARD_REPLACEMENT_ACTIVITY = "discard_replacement"

SA_STATUS = SearchAttributeKey.for_keyword("CertificateStatus")
SA_CERTIFIER = SearchAttributeKey.for_keyword("CertifierCode")
SA_EXPORTER = SearchAttributeKey.for_keyword("ExporterId")
SA_IMPORTER = SearchAttributeKey.for_keyword("ImporterId")
SA_HTS = SearchAttributeKey.for_keyword("HtsCode")
SA_AWAITING = SearchAttributeKey.for_keyword("AwaitingActor")
SEARCH_ATTRIBUTES = (SA_STATUS, SA_CERTIFIER, SA_EXPORTER, SA_IMPORTER, SA_HTS, SA_AWAITING)


def termination_notice_workflow_id(certificate_id: str) -> str:
    return f"termination-notice-{certificate_id}"


def certificate_id_of(workflow_id: str) -> str | None:
    """The certificate whose workflow this is, or None for another kind of workflow."""
    prefix = certificate_workflow_id("")
    return workflow_id.removeprefix(prefix) if workflow_id.startswith(prefix) else None


def request_workflow_id(request_id: str) -> str:
    return f"request-{request_id}"


def certificate_workflow_id(certificate_id: str) -> str:
    return f"certificate-{certificate_id}"


class ActorRef(BaseModel):
    user_id: str
    role: Role
    organisation_id: str | None = None

    @classmethod
    def of(cls, actor: Actor) -> ActorRef:
        return cls(user_id=actor.user_id, role=actor.role, organisation_id=actor.organisation_id)

    def to_actor(self) -> Actor:
        return Actor(user_id=self.user_id, role=self.role, organisation_id=self.organisation_id)


SYSTEM = ActorRef(user_id="system", role=Role.SYSTEM)


class TimerSettings(BaseModel):
    review_reminder: timedelta = timedelta(days=3)  # business time
    review_escalation: timedelta = timedelta(days=5)  # business time
    info_reminder: timedelta = timedelta(days=7)
    info_lapse: timedelta = timedelta(days=14)
    acknowledgement_reminder: timedelta = timedelta(days=2)
    # R8: how long before expiry the exporter is asked for the actual net weights.
    reconciliation_notice: timedelta = timedelta(days=7)
    delivery_retry_max_interval: timedelta = timedelta(minutes=5)


class Shipment(BaseModel):
    transport_mode: str
    bill_of_lading: str | None = None
    containers: list[str] = Field(default_factory=list)


class RequestLine(BaseModel):
    certificate_id: str
    line_no: int
    hts_code: str
    product_name: str
    organic_category: OrganicCategory
    quantity_kg: Decimal
    lot_numbers: list[str] = Field(default_factory=list)


class ImportRequestInput(BaseModel):
    request_id: str
    created_by: str
    created_at: datetime
    certifier_id: str
    exporter_id: str
    importer_id: str
    coverage: Coverage
    valid_from: date
    valid_until: date
    country_of_origin: str
    port_of_export: str
    port_of_entry: str
    shipment: Shipment
    lines: list[RequestLine]
    timers: TimerSettings = Field(default_factory=TimerSettings)
    # See CURRENT_REVISION; 0 in requests started before revisions existed.
    revision: int = 0


class FindingRecord(BaseModel):
    rule: str
    code: str
    message: str
    hard: bool
    # The figures behind the finding (mass balance: annual_capacity_kg, used_kg, requested_kg,
    # left_kg); None in findings recorded before they were kept.
    details: dict[str, Decimal] | None = None


class ClaimInput(BaseModel):
    actor: ActorRef
    task_id: str


class ReleaseInput(BaseModel):
    actor: ActorRef
    task_id: str


class DecideInput(BaseModel):
    actor: ActorRef
    decision: Literal["approve", "reject", "request_info"]
    comment: str = ""


class AnswerInput(BaseModel):
    actor: ActorRef
    message: str


class WithdrawInput(BaseModel):
    actor: ActorRef
    reason: str


class CommandResult(BaseModel):
    certificate_id: str
    status: Status
    awaiting: Awaiting
    task_id: str | None = None
    task_state: str | None = None
    assignee: str | None = None


class AcknowledgeInput(BaseModel):
    actor: ActorRef


class EntryLine(BaseModel):
    """One customs entry line that uses a certificate (R7)."""

    entry_number: str
    line_number: int
    quantity_kg: Decimal
    entry_date: date
    port_of_entry: str


class RecordEntryInput(BaseModel):
    actor: ActorRef
    entry: EntryLine


class EntryResult(BaseModel):
    certificate_id: str
    status: Status
    remaining_kg: Decimal
    # True when this (entry number, line) was recorded before: the same entry, not a new one.
    repeat: bool


class ShipmentActual(BaseModel):
    reference: str
    net_kg: Decimal
    date: date


class ReportActualsInput(BaseModel):
    actor: ActorRef
    shipments: list[ShipmentActual]


class ConfirmActualsInput(BaseModel):
    actor: ActorRef
    comment: str = ""


class VoidInput(BaseModel):
    actor: ActorRef
    reason: str


class CertificateChanges(BaseModel):
    """What a replacement may change; every field left out is copied from the original (R6)."""

    product_name: str | None = None
    hts_code: str | None = None
    organic_category: OrganicCategory | None = None
    quantity_kg: Decimal | None = None
    lot_numbers: list[str] | None = None
    valid_from: date | None = None
    valid_until: date | None = None


class ReplaceInput(BaseModel):
    actor: ActorRef
    changes: CertificateChanges
    reason: str


class ReplaceResult(BaseModel):
    certificate_id: str
    status: Status
    replacement_id: str


class TerminationNotice(BaseModel):
    """The parties of a certificate whose workflow an administrator terminated, to be told."""

    certificate_id: str
    certifier_id: str
    exporter_id: str
    importer_id: str
    number: str | None = None
    hts_code: str
    reason: str
