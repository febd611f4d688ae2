"""What administrators read and write (DESIGN 5, admin): figures, failing steps, remedies.

Administrators see across organisations, but only what running the system needs: counts,
workflow and certificate ids, the errors of failing steps; never a certificate's trade data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.model import Actor, Role, Status, TaskState
from persistence.models import (
    LIVE_TASK,
    AdminAction,
    AuditEvent,
    Certificate,
    FailingStep,
    Organisation,
    Task,
)

# An error as stored and shown: long enough to say what failed, short enough for a table.
ERROR_LENGTH = 500
HOURS_SHOWN = 24


@dataclass(frozen=True)
class CertifierCounts:
    certifier_id: str
    name: str
    by_state: dict[str, int]


@dataclass(frozen=True)
class Stats:
    generated_at: datetime
    by_state: dict[str, int]
    by_certifier: list[CertifierCounts]
    tasks_by_state: dict[str, int]
    tasks_overdue: int
    # Oldest hour first; each the start of an hour and the certificates issued in it.
    issued_per_hour: list[tuple[datetime, int]] = field(default_factory=list)


@dataclass(frozen=True)
class OverdueTask:
    certificate_id: str
    task_id: str
    kind: str
    state: str
    due_at: datetime
    assignee_id: str | None


@dataclass(frozen=True)
class FailingKind:
    activity_type: str
    error: str
    count: int
    since: datetime


@dataclass(frozen=True)
class TerminatedCertificate:
    certificate_id: str
    status_before: str
    certifier_id: str
    exporter_id: str
    importer_id: str
    number: str | None
    hts_code: str
    newly: bool


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class OperationsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def stats(self, now: datetime) -> Stats:
        # One pass over the (certifier, status) index gives both the totals and each certifier's.
        rows = (
            await self.session.execute(
                select(Certificate.certifier_id, Certificate.status, func.count()).group_by(
                    Certificate.certifier_id, Certificate.status
                )
            )
        ).all()
        organisations = await self.session.execute(select(Organisation.id, Organisation.name))
        names = {str(row[0]): str(row[1]) for row in organisations}
        by_state: Counter[str] = Counter()
        per_certifier: dict[str, dict[str, int]] = {}
        for certifier_id, status, count in rows:
            by_state[status] += count
            per_certifier.setdefault(certifier_id, {})[status] = count
        tasks = (
            await self.session.execute(
                select(Task.state, func.count()).where(text(LIVE_TASK)).group_by(Task.state)
            )
        ).all()
        overdue = await self.session.scalar(
            select(func.count()).select_from(Task).where(text(LIVE_TASK), Task.due_at < now)
        )
        since = hour_of(now) - timedelta(hours=HOURS_SHOWN - 1)
        hours = [since + timedelta(hours=h) for h in range(HOURS_SHOWN)]
        # One range scan of the issuance index, counted into the day's hours.
        issued = await self.session.execute(
            select(
                *(
                    func.count().filter(
                        Certificate.issued_at >= hour,
                        Certificate.issued_at < hour + timedelta(hours=1),
                    )
                    for hour in hours
                )
            ).where(Certificate.issued_at >= since)
        )
        per_hour = list(issued.one())
        return Stats(
            generated_at=now,
            by_state={status: by_state.get(status, 0) for status in Status},
            by_certifier=[
                CertifierCounts(certifier_id, names.get(certifier_id, certifier_id), counts)
                for certifier_id, counts in sorted(per_certifier.items())
            ],
            tasks_by_state={
                TaskState.OPEN.value: 0,
                TaskState.CLAIMED.value: 0,
                **{str(row[0]): int(row[1]) for row in tasks},
            },
            tasks_overdue=overdue or 0,
            issued_per_hour=list(zip(hours, per_hour, strict=True)),
        )

    async def overdue_by_kind(self, now: datetime) -> dict[str, int]:
        """How many live tasks of each kind are past due."""
        rows = await self.session.execute(
            select(Task.kind, func.count())
            .where(text(LIVE_TASK), Task.due_at < now)
            .group_by(Task.kind)
        )
        return {str(kind): int(count) for kind, count in rows}

    async def overdue_tasks(self, now: datetime, kind: str, limit: int) -> list[OverdueTask]:
        """The `limit` most overdue live tasks of `kind`."""
        rows = await self.session.execute(
            select(Task)
            .where(text(LIVE_TASK), Task.due_at < now, Task.kind == kind)
            .order_by(Task.due_at, Task.id)
            .limit(limit)
        )
        return [
            OverdueTask(t.certificate_id, t.id, t.kind, t.state, t.due_at, t.assignee_id)
            for t in rows.scalars()
        ]

    async def failing_kinds(self, fresh_after: datetime) -> list[FailingKind]:
        """Steps failing now, by activity and error: how many, and since when the oldest.

        A step whose next attempt is due before `fresh_after` and was not written again was
        left by a worker that died or a workflow that ended, and is not counted."""
        rows = await self.session.execute(
            select(
                FailingStep.activity_type,
                FailingStep.error,
                func.count(),
                func.min(FailingStep.first_failed_at),
            )
            .where(FailingStep.next_attempt_at >= fresh_after)
            .group_by(FailingStep.activity_type, FailingStep.error)
            .order_by(func.min(FailingStep.first_failed_at))
        )
        return [FailingKind(str(a), str(e), int(n), since) for a, e, n, since in rows]

    async def failing_steps(
        self, fresh_after: datetime, activity_type: str, error: str, limit: int
    ) -> list[FailingStep]:
        """The `limit` oldest steps failing now with `error` in `activity_type`."""
        rows = await self.session.execute(
            select(FailingStep)
            .where(
                FailingStep.next_attempt_at >= fresh_after,
                FailingStep.activity_type == activity_type,
                FailingStep.error == error,
            )
            .order_by(FailingStep.first_failed_at, FailingStep.workflow_id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def failing_steps_of(self, workflow_id: str) -> list[FailingStep]:
        rows = await self.session.execute(
            select(FailingStep).where(FailingStep.workflow_id == workflow_id)
        )
        return list(rows.scalars())

    async def forget_failing_steps(self, workflow_id: str, *, local: bool | None = None) -> None:
        """Forget the failing steps of a workflow (of one kind only, if `local` is given)."""
        query = delete(FailingStep).where(FailingStep.workflow_id == workflow_id)
        if local is not None:
            query = query.where(FailingStep.local == local)
        await self.session.execute(query)

    async def certificate_status(self, certificate_id: str) -> str | None:
        return await self.session.scalar(
            select(Certificate.status).where(Certificate.id == certificate_id)
        )

    async def audit(
        self,
        admin: Actor,
        admin_email: str,
        *,
        action: str,
        workflow_id: str,
        certificate_id: str | None,
        reason: str,
        outcome: str,
        detail: str,
        now: datetime,
    ) -> None:
        self.session.add(
            AdminAction(
                at=now,
                admin_id=admin.user_id,
                admin_email=admin_email,
                action=action,
                workflow_id=workflow_id,
                certificate_id=certificate_id,
                reason=reason,
                outcome=outcome,
                detail=detail,
            )
        )

    async def actions(
        self, workflow_id: str | None, limit: int, before: int | None = None
    ) -> list[AdminAction]:
        """The remedies applied, newest first; those before the id `before` if given."""
        query = select(AdminAction).order_by(AdminAction.id.desc()).limit(limit)
        if workflow_id is not None:
            query = query.where(AdminAction.workflow_id == workflow_id)
        if before is not None:
            query = query.where(AdminAction.id < before)
        return list((await self.session.execute(query)).scalars())

    async def mark_terminated(
        self, certificate_id: str, workflow_id: str, admin: Actor, reason: str, now: datetime
    ) -> TerminatedCertificate | None:
        """The certificate as an administrator left it: `terminated`, its live task closed, and
        the event on its timeline. Repeating it changes nothing more (`newly` is then False)."""
        row = await self.session.get(Certificate, certificate_id, with_for_update=True)
        if row is None:
            return None
        before = row.status
        newly = before != Status.TERMINATED
        if newly:
            row.status, row.awaiting = Status.TERMINATED.value, "none"
            row.updated_at = row.projected_at = now
            await self.session.execute(
                update(Task)
                .where(Task.certificate_id == certificate_id, text(LIVE_TASK))
                .values(state=TaskState.CLOSED.value, closed_at=now, projected_at=now)
            )
            # Its own run id keeps it apart from the workflow's numbering of its changes.
            self.session.add(
                AuditEvent(
                    workflow_id=workflow_id,
                    run_id="terminated",
                    seq=0,
                    certificate_id=certificate_id,
                    at=now,
                    actor_id=admin.user_id,
                    actor_role=Role.ADMIN.value,
                    action="terminated",
                    from_status=before,
                    to_status=Status.TERMINATED.value,
                    detail={"reason": reason},
                )
            )
        return TerminatedCertificate(
            certificate_id=row.id,
            status_before=before,
            certifier_id=row.certifier_id,
            exporter_id=row.exporter_id,
            importer_id=row.importer_id,
            number=row.number,
            hts_code=row.hts_code,
            newly=newly,
        )


class FailingStepRecorder:
    """The worker's side: each failed attempt that will be retried, and its end."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def failed(
        self,
        *,
        workflow_id: str,
        run_id: str,
        activity_id: str,
        activity_type: str,
        local: bool,
        attempt: int,
        error: str,
        now: datetime,
        next_attempt_at: datetime,
    ) -> None:
        async with self.sessions() as session, session.begin():
            row = await session.get(FailingStep, (workflow_id, activity_id))
            if row is None:
                row = FailingStep(
                    workflow_id=workflow_id, activity_id=activity_id, first_failed_at=now
                )
                session.add(row)
            row.run_id, row.activity_type, row.local = run_id, activity_type, local
            row.attempt, row.error = attempt, error[:ERROR_LENGTH]
            row.last_failed_at, row.next_attempt_at = now, next_attempt_at

    async def cleared(self, workflow_id: str, activity_id: str) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                delete(FailingStep).where(
                    FailingStep.workflow_id == workflow_id, FailingStep.activity_id == activity_id
                )
            )
