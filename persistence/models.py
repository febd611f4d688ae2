"""Tables of the projection (DESIGN 4.2). Nothing here is ever hard-deleted (R9)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

KG = Numeric(14, 3)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002
    ) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite has no BIGINT autoincrement; INTEGER PRIMARY KEY is its rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Organisation(Base):
    """A certifier (id = its 3-digit code) or a certified operation (id = its 10-digit id)."""

    __tablename__ = "organisations"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RegistryOperation(Base):
    """An operation's standing in the organic registry (INTEGRITY), used by screening R3."""

    __tablename__ = "registry_operations"
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    certifier_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    is_exporter: Mapped[bool] = mapped_column(Boolean, default=False)
    is_importer: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CertifiedProduct(Base):
    __tablename__ = "certified_products"
    __table_args__ = (UniqueConstraint("operation_id", "hts_code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    operation_id: Mapped[str] = mapped_column(ForeignKey("registry_operations.organisation_id"))
    hts_code: Mapped[str] = mapped_column(String(10))
    product_name: Mapped[str] = mapped_column(String(200))
    annual_capacity_kg: Mapped[Decimal] = mapped_column(KG)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ImportRequest(Base):
    __tablename__ = "requests"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    certifier_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    exporter_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    importer_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    coverage: Mapped[str] = mapped_column(String(24))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    country_of_origin: Mapped[str] = mapped_column(String(2))
    port_of_export: Mapped[str] = mapped_column(String(120))
    port_of_entry: Mapped[str] = mapped_column(String(120))
    shipment: Mapped[dict[str, Any]] = mapped_column(JSON)


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (
        # A replacement (R6) is the same line of the same request, one revision later.
        UniqueConstraint("request_id", "line_no", "revision"),
        # Each party's list, newest first, optionally by status (GET /api/certificates).
        Index("ix_certificates_certifier_created", "certifier_id", "created_at", "id"),
        Index(
            "ix_certificates_certifier_status_created", "certifier_id", "status", "created_at", "id"
        ),
        Index("ix_certificates_exporter_created", "exporter_id", "created_at", "id"),
        Index("ix_certificates_importer_created", "importer_id", "created_at", "id"),
        Index("ix_certificates_mass_balance", "exporter_id", "hts_code", "valid_from"),
        # Issued per hour over the last day (GET /api/admin/stats).
        Index("ix_certificates_issued_at", "issued_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    certifier_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    exporter_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    importer_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    hts_code: Mapped[str] = mapped_column(String(10))
    product_name: Mapped[str] = mapped_column(String(200))
    organic_category: Mapped[str] = mapped_column(String(24))
    quantity_kg: Mapped[Decimal] = mapped_column(KG)
    lot_numbers: Mapped[list[str]] = mapped_column(JSON)
    coverage: Mapped[str] = mapped_column(String(24))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    awaiting: Mapped[str] = mapped_column(String(16))
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    number: Mapped[str | None] = mapped_column(String(21), unique=True)
    verification_code: Mapped[str | None] = mapped_column(String(16))
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # What customs entries have left of the quantity (R7); set at issuance.
    remaining_kg: Mapped[Decimal | None] = mapped_column(KG)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(36))
    # R8: requested, reported, confirmed or missing; None where no report is due.
    reconciliation: Mapped[str | None] = mapped_column(String(16))
    replaces_id: Mapped[str | None] = mapped_column(ForeignKey("certificates.id"))
    replaced_by_id: Mapped[str | None] = mapped_column(ForeignKey("certificates.id"))
    # When and in which order of its workflow the last transition written here happened: an
    # older write never wins, and after a reset the new run's transitions (later, whatever
    # their sequence) do.
    projected_seq: Mapped[int] = mapped_column(Integer, default=0)
    projected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


# The predicate of the partial queue indexes; queries must say it the same way to use them.
LIVE_TASK = "state IN ('open', 'claimed')"


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # The certifier queue: its organisation's live tasks by due time, and a certifier's own.
        Index(
            "ix_tasks_live",
            "certifier_id",
            "due_at",
            "id",
            sqlite_where=text(LIVE_TASK),
            postgresql_where=text(LIVE_TASK),
        ),
        Index(
            "ix_tasks_live_assignee",
            "certifier_id",
            "assignee_id",
            "due_at",
            "id",
            sqlite_where=text(LIVE_TASK),
            postgresql_where=text(LIVE_TASK),
        ),
        Index("ix_tasks_queue", "certifier_id", "state", "due_at", "id"),
        Index("ix_tasks_certificate", "certificate_id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    certificate_id: Mapped[str] = mapped_column(ForeignKey("certificates.id"))
    certifier_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    projected_seq: Mapped[int] = mapped_column(Integer, default=0)
    projected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AuditEvent(Base):
    """Append-only trail (R9), keyed by workflow run and sequence so a retry writes it once.

    The run is part of the key because a reset starts a new run that numbers its transitions
    again from the reset point: those are new events, kept beside the ones they follow.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("workflow_id", "run_id", "seq"),
        Index("ix_audit_events_certificate", "certificate_id", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workflow_id: Mapped[str] = mapped_column(String(64))
    # Empty for events written before runs were recorded.
    run_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    seq: Mapped[int] = mapped_column(Integer)
    certificate_id: Mapped[str | None] = mapped_column(ForeignKey("certificates.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor_id: Mapped[str] = mapped_column(String(36))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class OutboxMessage(Base):
    """Every mail the system sends, keyed so that a retried activity sends it once."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    message_id: Mapped[str] = mapped_column(String(250))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    certificate_id: Mapped[str | None] = mapped_column(ForeignKey("certificates.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class NumberSequence(Base):
    """The last certificate number sequence used per (certifier, exporter) (R5: never reused)."""

    __tablename__ = "number_sequences"
    certifier_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    exporter_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer)


class CertificateDocument(Base):
    """The issued document: the signed canonical data and its HTML and PDF renderings."""

    __tablename__ = "certificate_documents"
    certificate_id: Mapped[str] = mapped_column(ForeignKey("certificates.id"), primary_key=True)
    number: Mapped[str] = mapped_column(String(21), unique=True)
    canonical_data: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(64))
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CustomsEntry(Base):
    """A customs entry line that used a certificate (R7); one row per (entry number, line)."""

    __tablename__ = "customs_entries"
    __table_args__ = (UniqueConstraint("certificate_id", "entry_number", "line_number"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    certificate_id: Mapped[str] = mapped_column(ForeignKey("certificates.id"))
    entry_number: Mapped[str] = mapped_column(String(32))
    line_number: Mapped[int] = mapped_column(Integer)
    quantity_kg: Mapped[Decimal] = mapped_column(KG)
    entry_date: Mapped[date] = mapped_column(Date)
    port_of_entry: Mapped[str] = mapped_column(String(120))
    recorded_by: Mapped[str] = mapped_column(String(36))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ActualShipment(Base):
    """A shipment of the exporter's reconciliation report (R8), as reported."""

    __tablename__ = "actual_shipments"
    __table_args__ = (Index("ix_actual_shipments_certificate", "certificate_id", "report_seq"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    certificate_id: Mapped[str] = mapped_column(ForeignKey("certificates.id"))
    # The workflow sequence of the report: a later report supersedes an earlier one.
    report_seq: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(64))
    net_kg: Mapped[Decimal] = mapped_column(KG)
    shipped_on: Mapped[date] = mapped_column(Date)
    reported_by: Mapped[str] = mapped_column(String(36))
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FailingStep(Base):
    """An activity whose last attempt failed and that will be tried again (DESIGN 5, stuck).

    The worker writes it when an attempt fails with a failure a retry may fix and deletes it
    when a later attempt succeeds or the failure is final; the administrators' stuck view reads
    it. Local activities leave no pending activity in Temporal, so this is where they show."""

    __tablename__ = "failing_steps"
    __table_args__ = (Index("ix_failing_steps_next_attempt", "next_attempt_at"),)
    workflow_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64))
    activity_type: Mapped[str] = mapped_column(String(64))
    local: Mapped[bool] = mapped_column(Boolean)
    attempt: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(500))
    first_failed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_failed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AdminAction(Base):
    """One remedy an administrator applied to one workflow: who, why, and what came of it."""

    __tablename__ = "admin_actions"
    __table_args__ = (Index("ix_admin_actions_workflow", "workflow_id", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    admin_id: Mapped[str] = mapped_column(String(36))
    admin_email: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(16))
    workflow_id: Mapped[str] = mapped_column(String(200))
    certificate_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)


class WebSession(Base):
    """A signed-in browser (DESIGN 6). The cookie holds a random token; only its SHA-256 is kept,
    so the table alone signs nobody in. Ending a session (logout) makes its cookie worthless at
    once; the row stays, as every record does (R9)."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class LoginFailure(Base):
    """One failed sign-in, counted against the email it named and the address it came from
    (api/throttle.py). Only a SHA-256 of each key is kept: whatever was typed into the email field
    (a password, at times) is not stored. Rows older than the throttle's window count for
    nothing and are deleted: they are no record of the trade (R9 keeps those)."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_key_at", "key_hash", "at"),
        Index("ix_login_failures_at", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
