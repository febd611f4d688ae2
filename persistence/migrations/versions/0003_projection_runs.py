"""Projection across workflow resets: events keyed by run, rows ordered by time and sequence.

A reset starts a new run of a workflow that numbers its transitions again from the reset point.
Keyed by (workflow id, sequence) alone those were taken for retries and dropped; keyed by run
they are new events. Rows keep when their last transition happened, so the new run's
transitions (later in time) win over the old run's (higher in sequence).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(
            sa.Column("run_id", sa.String(length=64), server_default="", nullable=False)
        )
        batch.drop_constraint("uq_audit_events_workflow_id", type_="unique")
        batch.create_unique_constraint(
            "uq_audit_events_workflow_id", ["workflow_id", "run_id", "seq"]
        )
    for table in ("certificates", "tasks"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("projected_at", sa.DateTime(timezone=True), nullable=True))
    # Rows projected before: their last write is as old as their last update.
    op.execute("UPDATE certificates SET projected_at = updated_at WHERE projected_seq > 0")
    op.execute("UPDATE tasks SET projected_at = created_at WHERE projected_seq > 0")


def downgrade() -> None:
    for table in ("tasks", "certificates"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("projected_at")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint("uq_audit_events_workflow_id", type_="unique")
        batch.create_unique_constraint("uq_audit_events_workflow_id", ["workflow_id", "seq"])
        batch.drop_column("run_id")
