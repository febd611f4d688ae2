"""Initial schema: every table, index and constraint of persistence.models.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 11:35:13.346049
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    op.create_table(
        "registry_operations",
        sa.Column("organisation_id", sa.String(length=16), nullable=False),
        sa.Column("certifier_id", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_exporter", sa.Boolean(), nullable=False),
        sa.Column("is_importer", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certifier_id"],
            ["organisations.id"],
            name=op.f("fk_registry_operations_certifier_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_registry_operations_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_registry_operations")),
    )
    op.create_index(
        op.f("ix_registry_operations_certifier_id"),
        "registry_operations",
        ["certifier_id"],
        unique=False,
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("organisation_id", sa.String(length=16), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_users_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index(op.f("ix_users_organisation_id"), "users", ["organisation_id"], unique=False)
    op.create_table(
        "certified_products",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("operation_id", sa.String(length=16), nullable=False),
        sa.Column("hts_code", sa.String(length=10), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("annual_capacity_kg", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["registry_operations.organisation_id"],
            name=op.f("fk_certified_products_operation_id_registry_operations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certified_products")),
        sa.UniqueConstraint(
            "operation_id", "hts_code", name=op.f("uq_certified_products_operation_id")
        ),
    )
    op.create_table(
        "requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("certifier_id", sa.String(length=16), nullable=False),
        sa.Column("exporter_id", sa.String(length=16), nullable=False),
        sa.Column("importer_id", sa.String(length=16), nullable=False),
        sa.Column("coverage", sa.String(length=24), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("country_of_origin", sa.String(length=2), nullable=False),
        sa.Column("port_of_export", sa.String(length=120), nullable=False),
        sa.Column("port_of_entry", sa.String(length=120), nullable=False),
        sa.Column("shipment", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certifier_id"],
            ["organisations.id"],
            name=op.f("fk_requests_certifier_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_requests_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["exporter_id"],
            ["organisations.id"],
            name=op.f("fk_requests_exporter_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["importer_id"],
            ["organisations.id"],
            name=op.f("fk_requests_importer_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
    )
    op.create_index(op.f("ix_requests_exporter_id"), "requests", ["exporter_id"], unique=False)
    op.create_table(
        "certificates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("certifier_id", sa.String(length=16), nullable=False),
        sa.Column("exporter_id", sa.String(length=16), nullable=False),
        sa.Column("importer_id", sa.String(length=16), nullable=False),
        sa.Column("hts_code", sa.String(length=10), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("organic_category", sa.String(length=24), nullable=False),
        sa.Column("quantity_kg", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("lot_numbers", sa.JSON(), nullable=False),
        sa.Column("coverage", sa.String(length=24), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("awaiting", sa.String(length=16), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("number", sa.String(length=21), nullable=True),
        sa.Column("replaces_id", sa.String(length=36), nullable=True),
        sa.Column("replaced_by_id", sa.String(length=36), nullable=True),
        sa.Column("projected_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certifier_id"],
            ["organisations.id"],
            name=op.f("fk_certificates_certifier_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["exporter_id"],
            ["organisations.id"],
            name=op.f("fk_certificates_exporter_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["importer_id"],
            ["organisations.id"],
            name=op.f("fk_certificates_importer_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by_id"],
            ["certificates.id"],
            name=op.f("fk_certificates_replaced_by_id_certificates"),
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["certificates.id"],
            name=op.f("fk_certificates_replaces_id_certificates"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_certificates_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("number", name=op.f("uq_certificates_number")),
        sa.UniqueConstraint("request_id", "line_no", name=op.f("uq_certificates_request_id")),
    )
    op.create_index(
        "ix_certificates_certifier_status", "certificates", ["certifier_id", "status"], unique=False
    )
    op.create_index(
        "ix_certificates_exporter_created",
        "certificates",
        ["exporter_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_certificates_importer_created",
        "certificates",
        ["importer_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_certificates_mass_balance",
        "certificates",
        ["exporter_id", "hts_code", "valid_from"],
        unique=False,
    )
    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.String(length=36), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_audit_events_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("workflow_id", "seq", name=op.f("uq_audit_events_workflow_id")),
    )
    op.create_index(
        "ix_audit_events_certificate", "audit_events", ["certificate_id", "at"], unique=False
    )
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("certificate_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_outbox_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("certificate_id", sa.String(length=36), nullable=False),
        sa.Column("certifier_id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("assignee_id", sa.String(length=36), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("projected_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_tasks_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_tasks_certificate_id_certificates"),
        ),
        sa.ForeignKeyConstraint(
            ["certifier_id"], ["organisations.id"], name=op.f("fk_tasks_certifier_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index("ix_tasks_certificate", "tasks", ["certificate_id"], unique=False)
    op.create_index(
        "ix_tasks_queue", "tasks", ["certifier_id", "state", "due_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_queue", table_name="tasks")
    op.drop_index("ix_tasks_certificate", table_name="tasks")
    op.drop_table("tasks")
    op.drop_table("outbox")
    op.drop_index("ix_audit_events_certificate", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_certificates_mass_balance", table_name="certificates")
    op.drop_index("ix_certificates_importer_created", table_name="certificates")
    op.drop_index("ix_certificates_exporter_created", table_name="certificates")
    op.drop_index("ix_certificates_certifier_status", table_name="certificates")
    op.drop_table("certificates")
    op.drop_index(op.f("ix_requests_exporter_id"), table_name="requests")
    op.drop_table("requests")
    op.drop_table("certified_products")
    op.drop_index(op.f("ix_users_organisation_id"), table_name="users")
    op.drop_table("users")
    op.drop_index(op.f("ix_registry_operations_certifier_id"), table_name="registry_operations")
    op.drop_table("registry_operations")
    op.drop_table("organisations")
