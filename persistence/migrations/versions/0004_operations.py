"""Operations: failing steps as the worker sees them, the administrators' remedies, and an
index for issuance per hour.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 15:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "failing_steps",
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("activity_id", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("activity_type", sa.String(length=64), nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workflow_id", "activity_id", name=op.f("pk_failing_steps")),
    )
    op.create_index("ix_failing_steps_next_attempt", "failing_steps", ["next_attempt_at"])
    op.create_table(
        "admin_actions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("admin_id", sa.String(length=36), nullable=False),
        sa.Column("admin_email", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("certificate_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_actions")),
    )
    op.create_index("ix_admin_actions_workflow", "admin_actions", ["workflow_id", "at"])
    op.create_index("ix_certificates_issued_at", "certificates", ["issued_at"])


def downgrade() -> None:
    op.drop_index("ix_certificates_issued_at", table_name="certificates")
    op.drop_index("ix_admin_actions_workflow", table_name="admin_actions")
    op.drop_table("admin_actions")
    op.drop_index("ix_failing_steps_next_attempt", table_name="failing_steps")
    op.drop_table("failing_steps")
