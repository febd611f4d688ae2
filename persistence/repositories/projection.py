"""Writes one workflow transition into the database, once (DESIGN 4.2): the certificate row, its
task, a customs entry or a reconciliation report, and the audit event, in one transaction.

A projection run as a local activity (workflows._activities) is written while its workflow
task is under way, before the server has taken that task into the history. A task that never
makes it there (it failed, or the server dropped a speculative task of an update) is run again,
and may then decide differently: another of two claims at once wins. Its writes carry a later
time (`workflow.now()` is the start of the task), so under one (workflow run, seq) the later
write replaces the earlier one, and writes of the lost attempt beyond it are taken back. A
write older than what is recorded under its key is a late one from a lost attempt: ignored.

Taking back is eager: the first change the attempt run again writes removes what the lost one
wrote beyond it, since the new attempt may not make those changes again. When it does make them
again (a worker killed mid-task runs the same code on the same history), a reader may for a
moment miss what it saw before: a claim of the review task between the two answers 404, and a
claim after it succeeds. Keeping the rows instead would leave a change the workflow never made
on show until its next change.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import TaskState
from persistence.models import (
    LIVE_TASK,
    ActualShipment,
    AuditEvent,
    Certificate,
    CustomsEntry,
    Task,
)
from workflows.payloads import ProjectionInput


def _same_change(seen: AuditEvent, change: ProjectionInput) -> None:
    """A retry writes what it wrote before. Anything else under the same key is a workflow that
    changed its own past: that must fail loudly (Temporal retries it, operators see it), not be
    taken for a retry and dropped."""
    event = change.event
    if (seen.action, seen.to_status) != (event.action, event.to_status):
        raise ProjectionConflict(
            f"{change.workflow_id} run {change.run_id or '-'} seq {change.seq}: recorded as "
            f"{seen.action} to {seen.to_status}, now {event.action} to {event.to_status}"
        )


class ProjectionConflict(Exception):
    """Two different transitions of one workflow run under one sequence number."""


class ProjectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def apply(self, change: ProjectionInput) -> bool:
        """Apply `change`; False when this (workflow run, seq) was written before.

        The audit event's unique key makes the whole write idempotent, and the guards on
        (projected_at, projected_seq) mean a late write of an older transition never
        overwrites a newer one, while a reset's new run, whose changes are later in time but
        may be lower in sequence, is applied.
        """
        seen = await self.session.scalar(
            select(AuditEvent).where(
                AuditEvent.workflow_id == change.workflow_id,
                AuditEvent.run_id == change.run_id,
                AuditEvent.seq == change.seq,
            )
        )
        if seen is not None:
            if seen.at > change.at:
                return False  # a late write of a workflow task that was run again since
            if seen.at == change.at:
                _same_change(seen, change)
                return False
            await self._take_back(seen)
        for lost in await self.session.scalars(
            select(AuditEvent).where(
                AuditEvent.workflow_id == change.workflow_id,
                AuditEvent.run_id == change.run_id,
                AuditEvent.seq > change.seq,
                AuditEvent.at < change.at,
            )
        ):
            await self._take_back(lost)
        event = change.event
        self.session.add(
            AuditEvent(
                workflow_id=change.workflow_id,
                run_id=change.run_id,
                seq=change.seq,
                certificate_id=change.certificate_id,
                at=change.at,
                actor_id=event.actor.user_id,
                actor_role=event.actor.role,
                action=event.action,
                from_status=event.from_status,
                to_status=event.to_status,
                detail=event.detail,
            )
        )
        values: dict[str, object] = {
            "status": change.status,
            "awaiting": change.awaiting,
            "updated_at": change.at,
            "projected_seq": change.seq,
            "projected_at": change.at,
        }
        if change.flags is not None:
            # JSON mode: the figures of a finding are decimals, kept exact as strings.
            values["flags"] = [f.model_dump(mode="json") for f in change.flags]
        if change.certificate is not None:
            # The workflow sends every column of the issued life each time: the newest wins.
            values.update(change.certificate.model_dump(exclude_none=True))
        await self.session.execute(
            update(Certificate)
            .where(
                Certificate.id == change.certificate_id,
                or_(
                    Certificate.projected_at.is_(None),
                    Certificate.projected_at < change.at,
                    and_(
                        Certificate.projected_at == change.at,
                        Certificate.projected_seq < change.seq,
                    ),
                ),
            )
            .values(**values)
        )
        if change.task is not None:
            await self._write_task(change)
        self._add_entry(change)
        self._add_actuals(change)
        await self.session.flush()
        return True

    async def _take_back(self, lost: AuditEvent) -> None:
        """Remove a change of a workflow task that never made it into the history, and the rows
        it added (a task, a customs entry, reported shipments); the rows it updated are
        rewritten by the later changes, whose time is later."""
        # Every row that attempt added carries its time: no attempt that reached the history
        # has the same one.
        if lost.certificate_id is not None:
            await self.session.execute(
                delete(CustomsEntry).where(
                    CustomsEntry.certificate_id == lost.certificate_id,
                    CustomsEntry.recorded_at == lost.at,
                )
            )
            await self.session.execute(
                delete(ActualShipment).where(
                    ActualShipment.certificate_id == lost.certificate_id,
                    ActualShipment.reported_at == lost.at,
                )
            )
            await self.session.execute(
                delete(Task).where(
                    Task.certificate_id == lost.certificate_id, Task.created_at == lost.at
                )
            )
        # By its id, not through the session: a concurrent write may have taken it back first.
        await self.session.execute(delete(AuditEvent).where(AuditEvent.id == lost.id))

    def _add_entry(self, change: ProjectionInput) -> None:
        if change.entry is None:
            return
        line = change.entry.entry
        self.session.add(
            CustomsEntry(
                certificate_id=change.certificate_id,
                entry_number=line.entry_number,
                line_number=line.line_number,
                quantity_kg=line.quantity_kg,
                entry_date=line.entry_date,
                port_of_entry=line.port_of_entry,
                recorded_by=change.entry.recorded_by,
                recorded_at=change.at,
            )
        )

    def _add_actuals(self, change: ProjectionInput) -> None:
        if change.actuals is None:
            return
        for shipment in change.actuals.shipments:
            self.session.add(
                ActualShipment(
                    certificate_id=change.certificate_id,
                    report_seq=change.seq,
                    reference=shipment.reference,
                    net_kg=shipment.net_kg,
                    shipped_on=shipment.date,
                    reported_by=change.actuals.reported_by,
                    reported_at=change.at,
                )
            )

    async def _supersede_tasks(self, change: ProjectionInput, task_id: str) -> None:
        """A certificate has one current task. The workflow closes one before it opens the
        next, but a run reset to an earlier workflow task (an administrator's remedy) opens its
        task anew, under another id: the old run's, still live here, is nobody's any more."""
        await self.session.execute(
            update(Task)
            .where(
                Task.certificate_id == change.certificate_id,
                Task.id != task_id,
                text(LIVE_TASK),
                Task.projected_at <= change.at,
            )
            .values(state=TaskState.CLOSED.value, closed_at=change.at)
        )

    async def _write_task(self, change: ProjectionInput) -> None:
        assert change.task is not None
        task = change.task
        closed_at = change.at if task.state is TaskState.CLOSED else None
        existing = await self.session.get(Task, task.task_id)
        if existing is None:
            certifier_id = await self.session.scalar(
                select(Certificate.certifier_id).where(Certificate.id == change.certificate_id)
            )
            if certifier_id is None:
                raise LookupError(f"certificate {change.certificate_id} is not recorded")
            self.session.add(
                Task(
                    id=task.task_id,
                    certificate_id=change.certificate_id,
                    certifier_id=certifier_id,
                    kind=task.kind,
                    state=task.state,
                    assignee_id=task.assignee_id,
                    due_at=task.due_at,
                    escalated=task.escalated,
                    created_at=change.at,
                    closed_at=closed_at,
                    projected_seq=change.seq,
                    projected_at=change.at,
                )
            )
            await self._supersede_tasks(change, task.task_id)
            return
        newest = (existing.projected_at, existing.projected_seq)
        if existing.projected_at is not None and newest >= (change.at, change.seq):
            return
        existing.state = task.state
        existing.assignee_id = task.assignee_id
        existing.due_at = task.due_at
        existing.escalated = task.escalated
        existing.closed_at = closed_at
        existing.projected_seq = change.seq
        existing.projected_at = change.at
