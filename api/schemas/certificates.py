from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from api.schemas.common import Comment, Kg, Message, field_rule
from api.schemas.screening import FlagRead, detail_for, flags_for
from api.schemas.tasks import TaskRead
from domain.lifecycle import Command, check_comment
from domain.model import Actor, Awaiting, Coverage, OrganicCategory, Role, Status
from persistence.models import AuditEvent, Certificate


class CertificateRead(BaseModel):
    id: str
    request_id: str
    line_no: int
    status: Status
    awaiting: Awaiting
    revision: int
    number: str | None
    # Printed on the document and in its QR code; there is none before issuance.
    verification_code: str | None
    issued_at: datetime | None
    certifier_id: str
    exporter_id: str
    importer_id: str
    hts_code: str
    product_name: str
    organic_category: OrganicCategory
    quantity_kg: Kg
    remaining_kg: Kg
    lot_numbers: list[str]
    coverage: Coverage
    valid_from: date
    valid_until: date
    # The certifier and the exporter only: the importer gets [] (DESIGN 5).
    flags: list[FlagRead]
    # When the named importer acknowledged receipt: a flag on `delivered`, not a state.
    acknowledged_at: datetime | None
    # R8: requested, reported, confirmed or missing; None where no report is due (yet).
    reconciliation: str | None
    replaces: str | None
    replaced_by: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def fields_of(cls, row: Certificate, viewer: Actor) -> dict[str, Any]:
        # R5: no number before issuance, even while issuance is allocating one.
        issued = row.issued_at is not None
        return {
            "id": row.id,
            "request_id": row.request_id,
            "line_no": row.line_no,
            "status": row.status,
            "awaiting": row.awaiting,
            "revision": row.revision,
            "number": row.number if issued else None,
            "verification_code": row.verification_code if issued else None,
            "issued_at": row.issued_at,
            "certifier_id": row.certifier_id,
            "exporter_id": row.exporter_id,
            "importer_id": row.importer_id,
            "hts_code": row.hts_code,
            "product_name": row.product_name,
            "organic_category": row.organic_category,
            "quantity_kg": row.quantity_kg,
            # Customs entries draw on it only once issued; until then the whole quantity remains.
            "remaining_kg": row.quantity_kg if row.remaining_kg is None else row.remaining_kg,
            "lot_numbers": list(row.lot_numbers),
            "coverage": row.coverage,
            "valid_from": row.valid_from,
            "valid_until": row.valid_until,
            "flags": flags_for(viewer, row.flags),
            "acknowledged_at": row.acknowledged_at,
            "reconciliation": row.reconciliation,
            "replaces": row.replaces_id,
            "replaced_by": row.replaced_by_id,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }

    @classmethod
    def of(cls, row: Certificate, viewer: Actor) -> CertificateRead:
        return cls.model_validate(cls.fields_of(row, viewer))


class CertificateDetail(CertificateRead):
    # The review tasks, shown to the certifier only: the queue is theirs, not the exporter's.
    tasks: list[TaskRead]


class EventRead(BaseModel):
    seq: int
    at: datetime
    action: str
    actor_id: str
    actor_role: Role
    from_status: Status | None
    to_status: Status | None
    detail: dict[str, Any]

    @staticmethod
    def fields_of(row: AuditEvent, viewer: Actor) -> dict[str, Any]:
        """The answer's fields, for pydantic to validate (`of`, or a page at once: `page_of`)."""
        return {
            "seq": row.seq,
            "at": row.at,
            "action": row.action,
            "actor_id": row.actor_id,
            "actor_role": row.actor_role,
            "from_status": row.from_status or None,
            "to_status": row.to_status or None,
            "detail": detail_for(viewer, row.detail),
        }

    @classmethod
    def of(cls, row: AuditEvent, viewer: Actor) -> EventRead:
        return cls.model_validate(cls.fields_of(row, viewer))


class AnswerCreate(BaseModel):
    message: Message


class WithdrawCreate(BaseModel):
    reason: Message


class DecisionCreate(BaseModel):
    decision: Literal["approve", "reject", "request_info"]
    comment: Comment = Field(default="", validate_default=True)

    @field_validator("comment", mode="after")
    @classmethod
    def _reasons_are_given(cls, comment: str, info: ValidationInfo) -> str:
        decision = info.data.get("decision")
        if decision is not None:
            field_rule(check_comment, Command(decision), comment)
        return comment


class VoidCreate(BaseModel):
    reason: Message
