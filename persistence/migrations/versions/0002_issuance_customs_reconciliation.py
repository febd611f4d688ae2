"""Issuance, customs use and reconciliation: numbers, documents, entries, actual shipments.

A replacement certificate (R6) is the same request line one revision later, so the line's
unique key gains the revision. The queue indexes become partial indexes on live tasks and the
party lists get their sort order in the index (measured with `nopic bench queue`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 12:02:18.650614
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "number_sequences",
        sa.Column("certifier_id", sa.String(length=16), nullable=False),
        sa.Column("exporter_id", sa.String(length=16), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certifier_id"],
            ["organisations.id"],
            name=op.f("fk_number_sequences_certifier_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["exporter_id"],
            ["organisations.id"],
            name=op.f("fk_number_sequences_exporter_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("certifier_id", "exporter_id", name=op.f("pk_number_sequences")),
    )
    op.create_table(
        "actual_shipments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("certificate_id", sa.String(length=36), nullable=False),
        sa.Column("report_seq", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("net_kg", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("shipped_on", sa.Date(), nullable=False),
        sa.Column("reported_by", sa.String(length=36), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_actual_shipments_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actual_shipments")),
    )
    with op.batch_alter_table("actual_shipments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_actual_shipments_certificate", ["certificate_id", "report_seq"], unique=False
        )

    op.create_table(
        "certificate_documents",
        sa.Column("certificate_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=21), nullable=False),
        sa.Column("canonical_data", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_documents_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_certificate_documents")),
        sa.UniqueConstraint("number", name=op.f("uq_certificate_documents_number")),
    )
    op.create_table(
        "customs_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("certificate_id", sa.String(length=36), nullable=False),
        sa.Column("entry_number", sa.String(length=32), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("quantity_kg", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("port_of_entry", sa.String(length=120), nullable=False),
        sa.Column("recorded_by", sa.String(length=36), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_customs_entries_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customs_entries")),
        sa.UniqueConstraint(
            "certificate_id",
            "entry_number",
            "line_number",
            name=op.f("uq_customs_entries_certificate_id"),
        ),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("verification_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("remaining_kg", sa.Numeric(precision=14, scale=3), nullable=True)
        )
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("reconciliation", sa.String(length=16), nullable=True))
        batch_op.drop_index(batch_op.f("ix_certificates_certifier_status"))
        batch_op.drop_index(batch_op.f("ix_certificates_exporter_created"))
        batch_op.create_index(
            "ix_certificates_exporter_created", ["exporter_id", "created_at", "id"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_certificates_importer_created"))
        batch_op.create_index(
            "ix_certificates_importer_created", ["importer_id", "created_at", "id"], unique=False
        )
        batch_op.drop_constraint(batch_op.f("uq_certificates_request_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_certificates_request_id"), ["request_id", "line_no", "revision"]
        )
        batch_op.create_index(
            "ix_certificates_certifier_created", ["certifier_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_certificates_certifier_status_created",
            ["certifier_id", "status", "created_at", "id"],
            unique=False,
        )

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tasks_live",
            ["certifier_id", "due_at", "id"],
            unique=False,
            sqlite_where=sa.text("state IN ('open', 'claimed')"),
            postgresql_where=sa.text("state IN ('open', 'claimed')"),
        )
        batch_op.create_index(
            "ix_tasks_live_assignee",
            ["certifier_id", "assignee_id", "due_at", "id"],
            unique=False,
            sqlite_where=sa.text("state IN ('open', 'claimed')"),
            postgresql_where=sa.text("state IN ('open', 'claimed')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_tasks_live_assignee",
            sqlite_where=sa.text("state IN ('open', 'claimed')"),
            postgresql_where=sa.text("state IN ('open', 'claimed')"),
        )
        batch_op.drop_index(
            "ix_tasks_live",
            sqlite_where=sa.text("state IN ('open', 'claimed')"),
            postgresql_where=sa.text("state IN ('open', 'claimed')"),
        )

    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_certificates_certifier_status_created")
        batch_op.drop_index("ix_certificates_certifier_created")
        batch_op.drop_constraint(batch_op.f("uq_certificates_request_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_certificates_request_id"), ["request_id", "line_no"]
        )
        batch_op.drop_index("ix_certificates_importer_created")
        batch_op.create_index(
            batch_op.f("ix_certificates_importer_created"),
            ["importer_id", "created_at"],
            unique=False,
        )
        batch_op.drop_index("ix_certificates_exporter_created")
        batch_op.create_index(
            batch_op.f("ix_certificates_exporter_created"),
            ["exporter_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_certificates_certifier_status"), ["certifier_id", "status"], unique=False
        )
        batch_op.drop_column("reconciliation")
        batch_op.drop_column("acknowledged_by")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("remaining_kg")
        batch_op.drop_column("issued_at")
        batch_op.drop_column("verification_code")
        batch_op.drop_column("revision")

    op.drop_table("customs_entries")
    op.drop_table("certificate_documents")
    with op.batch_alter_table("actual_shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_actual_shipments_certificate")

    op.drop_table("actual_shipments")
    op.drop_table("number_sequences")
