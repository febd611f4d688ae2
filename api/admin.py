"""The administrators' view of what is stuck, and the remedies (DESIGN 5, admin).

What is stuck is found without describing every workflow: the database gives the tasks past
their escalation and the steps failing now (the worker writes each failed attempt of an
activity, local or not: activities.failures), a visibility query gives the workflows whose
workflow tasks fail (the server's `TemporalReportedProblems` search attribute), and the task
queue's pollers say whether any worker is there. Only the workflows of a workflow-task failure
are described, a few per cause, for the error and since when.

Items are grouped by cause: three hundred deliveries refused by the same SMTP error are one line
with a count, and one remedy for all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import (
    GetWorkflowExecutionHistoryReverseRequest,
    ResetActivityRequest,
    ResetWorkflowExecutionRequest,
)
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.security import Principal
from api.temporal import POLLER_GONE, TemporalGateway
from config.settings import Settings
from domain.errors import Conflict, NotFound
from persistence.models import FailingStep
from persistence.repositories.operations import OperationsRepository, TerminatedCertificate
from workflows.contracts import (
    PROJECT_TRANSITION_ACTIVITY,
    PROJECT_TRANSITIONS_ACTIVITY,
    RECORD_REQUEST_ACTIVITY,
    TERMINATION_NOTICE_WORKFLOW,
    TerminationNotice,
    certificate_id_of,
    certificate_workflow_id,
    termination_notice_workflow_id,
)

logger = logging.getLogger(__name__)

Reason = Literal[
    "overdue_task", "failing_activity", "workflow_task_failure", "projection_lag", "no_worker"
]
Remedy = Literal["retry", "terminate", "reset"]

PROJECTIONS = frozenset(
    {PROJECT_TRANSITION_ACTIVITY, PROJECT_TRANSITIONS_ACTIVITY, RECORD_REQUEST_ACTIVITY}
)
# A failing step whose next attempt is this far past and not written again was left by a worker
# that died or a workflow that ended: longer than the longest activity attempt (2 minutes).
STALE_AFTER = timedelta(minutes=3)
# Workflows of one cause, at most, that a page names, and that one bulk remedy acts on.
SAMPLE = 20
BULK_LIMIT = 1000
# Workflow-task failures listed from visibility at most in one look; beyond, counted.
LISTED = 1000
# Workflows described per cause of workflow-task failure, for the error and the time.
DESCRIBED = 5
PROBLEMS = "TemporalReportedProblems"
REMEDIES: dict[str, tuple[Remedy, ...]] = {
    "overdue_task": ("terminate",),
    "failing_activity": ("retry", "terminate"),
    "projection_lag": ("retry", "terminate"),
    "workflow_task_failure": ("reset", "terminate"),
    "no_worker": (),
}


@dataclass(frozen=True)
class Stuck:
    workflow_id: str
    certificate_id: str | None
    reason: Reason
    since: datetime | None
    detail: str


@dataclass
class StuckGroup:
    """Workflows stuck for one cause: the first of them, how many, and a few more by name."""

    cause: str
    reason: Reason
    since: datetime | None
    detail: str
    count: int
    workflows: list[Stuck] = field(default_factory=list)

    @property
    def remedies(self) -> tuple[Remedy, ...]:
        return REMEDIES[self.reason]


@dataclass(frozen=True)
class RemedyOutcome:
    workflow_id: str
    certificate_id: str | None
    outcome: Literal["done", "skipped", "failed"]
    detail: str


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "unknown"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]


def _certificate_of(workflow_id: str) -> str | None:
    return certificate_id_of(workflow_id)


class Operations:
    """What `/api/admin` does, over the database session of the request and Temporal."""

    def __init__(
        self,
        gateway: TemporalGateway,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        self.gateway = gateway
        self.settings = settings
        self.sessions = sessions

    @asynccontextmanager
    async def _repository(self) -> AsyncIterator[OperationsRepository]:
        """One short transaction: a remedy writes between calls to Temporal, and SQLite has
        one writer, so no transaction is held across a call to another service."""
        async with self.sessions() as session, session.begin():
            yield OperationsRepository(session)

    # --- what is stuck -------------------------------------------------------------------

    async def stuck(self, now: datetime, reason: Reason | None = None) -> list[StuckGroup]:
        """Every cause of stuck workflows, most urgent reason first, oldest first within one."""
        wanted = {reason} if reason else set(REMEDIES)
        groups: list[StuckGroup] = []
        client = await self.gateway.client()
        if "no_worker" in wanted:
            groups += await self._no_worker(now)
        if "overdue_task" in wanted:
            groups += await self._overdue(now)
        if wanted & {"failing_activity", "projection_lag"}:
            groups += [g for g in await self._failing(now) if g.reason in wanted]
        if "workflow_task_failure" in wanted:
            groups += await self._workflow_task_failures(client)
        order = list(REMEDIES)
        oldest = datetime.max.replace(tzinfo=UTC)
        groups.sort(key=lambda g: (order.index(g.reason), g.since or oldest, g.cause))
        return groups

    async def group(self, cause: str, now: datetime) -> StuckGroup:
        """One cause with every workflow in it (up to BULK_LIMIT), for a page or a remedy."""
        reason = cause.split(":", 1)[0]
        if reason not in REMEDIES:
            raise NotFound("no such cause of stuck workflows", code="cause_not_found")
        client = await self.gateway.client()
        if reason == "workflow_task_failure":
            candidates = await self._workflow_task_failures(client, everyone=cause)
        elif reason == "overdue_task":
            candidates = await self._overdue(now, everyone=True)
        elif reason == "no_worker":
            candidates = await self._no_worker(now)
        else:
            candidates = await self._failing(now, everyone=cause)
        for group in candidates:
            if group.cause == cause:
                return group
        raise NotFound("no workflow is stuck for this cause (any more)", code="cause_not_found")

    async def _no_worker(self, now: datetime) -> list[StuckGroup]:
        queue = self.settings.temporal_task_queue
        seen = await self.gateway.workers_last_seen()
        if seen is not None and now - seen < POLLER_GONE:
            return []
        detail = (
            f"no worker is polling the task queue {queue!r} "
            f"(last seen: {when(seen)}): commands answer 503 and no timer or mail goes on "
            "until a worker is started"
        )
        item = Stuck("", None, "no_worker", seen, detail)
        return [StuckGroup(f"no_worker:{queue}", "no_worker", seen, detail, 1, [item])]

    async def _overdue(self, now: datetime, *, everyone: bool = False) -> list[StuckGroup]:
        limit = BULK_LIMIT if everyone else SAMPLE
        groups = []
        async with self._repository() as repository:
            for kind, counted in sorted((await repository.overdue_by_kind(now)).items()):
                some = await repository.overdue_tasks(now, kind, limit)
                if not some:
                    continue  # taken up since it was counted
                count = max(counted, len(some))
                items = [
                    Stuck(
                        certificate_workflow_id(t.certificate_id),
                        t.certificate_id,
                        "overdue_task",
                        t.due_at,
                        f"{kind} task {'held by a certifier' if t.assignee_id else 'not claimed'}"
                        f", due {when(t.due_at)}, {_late(now - t.due_at)} late",
                    )
                    for t in some
                ]
                detail = (
                    f"{count} {kind} task{'s' if count != 1 else ''} past due, the oldest since "
                    f"{when(some[0].due_at)}: a certifier must take them up (the certifier "
                    "organisation has been reminded and escalated to)"
                )
                groups.append(
                    StuckGroup(
                        f"overdue_task:{kind}", "overdue_task", some[0].due_at, detail, count, items
                    )
                )
        return groups

    async def _failing(self, now: datetime, *, everyone: str | None = None) -> list[StuckGroup]:
        fresh_after = now - STALE_AFTER
        groups = []
        async with self._repository() as repository:
            for kind in await repository.failing_kinds(fresh_after):
                reason: Reason = (
                    "projection_lag" if kind.activity_type in PROJECTIONS else "failing_activity"
                )
                cause = f"{reason}:{kind.activity_type}:{_digest(kind.activity_type, kind.error)}"
                if everyone is not None and cause != everyone:
                    continue
                limit = BULK_LIMIT if everyone else SAMPLE
                steps = await repository.failing_steps(
                    fresh_after, kind.activity_type, kind.error, limit
                )
                if not steps:
                    continue
                items = [
                    Stuck(
                        step.workflow_id,
                        _certificate_of(step.workflow_id),
                        reason,
                        step.first_failed_at,
                        _step_detail(step),
                    )
                    for step in steps
                ]
                # Counted a moment before the sample was read: a step that began to fail in
                # between is in the sample, and counts.
                count = max(kind.count, len(items))
                detail = _group_detail(steps[0])
                if count > 1:
                    detail = f"{count} workflows: {detail}"
                groups.append(StuckGroup(cause, reason, kind.since, detail, count, items))
        return groups

    async def _workflow_task_failures(
        self, client: Client, *, everyone: str | None = None
    ) -> list[StuckGroup]:
        query = f"{PROBLEMS} IS NOT NULL AND ExecutionStatus = 'Running'"
        found: dict[str, list[str]] = {}
        listed = 0
        executions = client.list_workflows(
            query, limit=LISTED, page_size=LISTED, rpc_timeout=self.settings.temporal_rpc_timeout
        )
        async for execution in executions:
            problems = execution.search_attributes.get(PROBLEMS) or []
            cause = next((str(p) for p in problems if str(p).startswith("cause=")), "cause=unknown")
            found.setdefault(cause.removeprefix("cause="), []).append(execution.id)
            listed += 1
        groups = []
        for kind, workflow_ids in sorted(found.items()):
            cause = f"workflow_task_failure:{kind}"
            if everyone is not None and cause != everyone:
                continue
            described = await asyncio.gather(
                *(self._describe_failing_task(client, w) for w in workflow_ids[:DESCRIBED])
            )
            items = [
                Stuck(w, _certificate_of(w), "workflow_task_failure", since, detail)
                for w, (since, detail) in zip(workflow_ids, described, strict=False)
            ]
            # The rest by name only: describing each would cost a call per workflow.
            items += [
                Stuck(
                    w,
                    _certificate_of(w),
                    "workflow_task_failure",
                    None,
                    f"workflow task failing ({kind})",
                )
                for w in workflow_ids[DESCRIBED : (BULK_LIMIT if everyone else SAMPLE)]
            ]
            times = [since for since, _ in described if since is not None]
            first = described[0][1] if described else ""
            count = len(workflow_ids)
            detail = (
                f"{count} workflow{'s' if count != 1 else ''} whose workflow task fails on every "
                f"attempt ({kind}), e.g. {first}. After a bad deploy: deploy the fix, then reset "
                "them to their last good workflow task"
            )
            groups.append(
                StuckGroup(
                    cause, "workflow_task_failure", min(times, default=None), detail, count, items
                )
            )
        if listed >= LISTED:
            logger.warning(
                "more than %d workflows with failing workflow tasks; listed %d", LISTED, listed
            )
        return groups

    async def _describe_failing_task(
        self, client: Client, workflow_id: str
    ) -> tuple[datetime | None, str]:
        """Since when the workflow task fails, and the last failure's message."""
        try:
            description = await client.get_workflow_handle(workflow_id).describe(
                rpc_timeout=self.settings.temporal_rpc_timeout
            )
            pending = description.raw_description.pending_workflow_task
            history = await client.workflow_service.get_workflow_execution_history_reverse(
                GetWorkflowExecutionHistoryReverseRequest(
                    namespace=self.settings.temporal_namespace,
                    execution=WorkflowExecution(workflow_id=workflow_id),
                    maximum_page_size=20,
                ),
                timeout=self.settings.temporal_rpc_timeout,
            )
        except RPCError as exc:
            return None, f"could not be described: {exc.message}"
        message, failed_at = "", None
        for event in history.history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                message = _first_line(event.workflow_task_failed_event_attributes.failure.message)
                failed_at = event.event_time.ToDatetime(tzinfo=UTC)
                break
        since = (
            pending.original_scheduled_time.ToDatetime(tzinfo=UTC)
            if pending.HasField("original_scheduled_time")
            else failed_at
        )
        attempt = pending.attempt if pending.attempt else "several"
        return since, f"workflow task failed {attempt} times, last: {message or 'no message'}"

    # --- remedies ------------------------------------------------------------------------

    async def remedy(
        self, remedy: Remedy, workflow_id: str, reason: str, admin: Principal, now: datetime
    ) -> RemedyOutcome:
        client = await self.gateway.client()
        try:
            if remedy == "retry":
                return await self._retry(client, workflow_id)
            if remedy == "reset":
                return await self._reset(client, workflow_id, reason, admin.email)
            return await self._terminate(client, workflow_id, reason, admin, now)
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                raise NotFound("no such workflow", code="workflow_not_found") from exc
            raise

    async def _retry(self, client: Client, workflow_id: str) -> RemedyOutcome:
        certificate_id = _certificate_of(workflow_id)
        description = await client.get_workflow_handle(workflow_id).describe(
            rpc_timeout=self.settings.temporal_rpc_timeout
        )
        if description.status is not WorkflowExecutionStatus.RUNNING:
            return RemedyOutcome(
                workflow_id, certificate_id, "skipped", "the workflow is not running"
            )
        failing = [
            a
            for a in description.raw_description.pending_activities
            if a.attempt > 1 or a.HasField("last_failure")
        ]
        for pending in failing:
            await client.workflow_service.reset_activity(
                ResetActivityRequest(
                    namespace=self.settings.temporal_namespace,
                    execution=WorkflowExecution(workflow_id=workflow_id),
                    id=pending.activity_id,
                    identity="nopic-admin",
                ),
                timeout=self.settings.temporal_rpc_timeout,
            )
        # The next attempt starts at 1 again: it records itself anew if it fails.
        async with self._repository() as repository:
            steps = await repository.failing_steps_of(workflow_id)
            if failing:
                await repository.forget_failing_steps(workflow_id, local=False)
        if failing:
            names = ", ".join(sorted({a.activity_type.name for a in failing}))
            return RemedyOutcome(workflow_id, certificate_id, "done", f"{names} started again now")
        if any(step.local for step in steps):
            names = ", ".join(sorted({s.activity_type for s in steps}))
            return RemedyOutcome(
                workflow_id,
                certificate_id,
                "skipped",
                f"{names} runs inside the worker (a local activity), which tries it again at "
                "least once a minute by itself; it goes on as soon as its cause is fixed",
            )
        return RemedyOutcome(workflow_id, certificate_id, "skipped", "no activity of it is failing")

    async def _reset(
        self, client: Client, workflow_id: str, reason: str, admin_email: str
    ) -> RemedyOutcome:
        certificate_id = _certificate_of(workflow_id)
        description = await client.get_workflow_handle(workflow_id).describe(
            rpc_timeout=self.settings.temporal_rpc_timeout
        )
        if description.status is not WorkflowExecutionStatus.RUNNING:
            return RemedyOutcome(
                workflow_id, certificate_id, "skipped", "the workflow is not running"
            )
        pending = description.raw_description.pending_workflow_task
        problems = (description.search_attributes or {}).get(PROBLEMS)
        if not problems and pending.attempt <= 1:
            return RemedyOutcome(
                workflow_id, certificate_id, "skipped", "its workflow tasks do not fail"
            )
        last_good = None
        async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                last_good = event.event_id
        if last_good is None:
            return RemedyOutcome(
                workflow_id,
                certificate_id,
                "skipped",
                "no workflow task of it ever completed: there is nothing good to reset to; "
                "terminate it instead",
            )
        reset = await client.workflow_service.reset_workflow_execution(
            ResetWorkflowExecutionRequest(
                namespace=self.settings.temporal_namespace,
                workflow_execution=WorkflowExecution(workflow_id=workflow_id),
                reason=f"{admin_email}: {reason}"[:1000],
                workflow_task_finish_event_id=last_good,
                request_id=str(uuid.uuid4()),
            ),
            timeout=self.settings.temporal_rpc_timeout,
        )
        return RemedyOutcome(
            workflow_id,
            certificate_id,
            "done",
            f"reset to event {last_good}, its last good workflow task; new run {reset.run_id}",
        )

    async def _terminate(
        self, client: Client, workflow_id: str, reason: str, admin: Principal, now: datetime
    ) -> RemedyOutcome:
        certificate_id = _certificate_of(workflow_id)
        handle = client.get_workflow_handle(workflow_id)
        description = await handle.describe(rpc_timeout=self.settings.temporal_rpc_timeout)
        running = description.status is WorkflowExecutionStatus.RUNNING
        if running:
            await handle.terminate(
                reason=f"terminated by {admin.email}: {reason}"[:1000],
                rpc_timeout=self.settings.temporal_rpc_timeout,
            )
        async with self._repository() as repository:
            await repository.forget_failing_steps(workflow_id)
        if certificate_id is None:
            detail = "terminated" if running else "already ended"
            return RemedyOutcome(workflow_id, None, "done" if running else "skipped", detail)
        async with self._repository() as repository:
            marked = await repository.mark_terminated(
                certificate_id, workflow_id, admin.actor, reason, now
            )
        if marked is None:
            return RemedyOutcome(
                workflow_id,
                certificate_id,
                "done" if running else "skipped",
                "terminated; the certificate has no row in the database",
            )
        if not running and not marked.newly:
            return RemedyOutcome(workflow_id, certificate_id, "skipped", "already terminated")
        if not running and description.status is not WorkflowExecutionStatus.TERMINATED:
            # A workflow that ended on its own keeps the status it ended in.
            raise Conflict(
                f"the workflow has already ended ({_status_name(description.status)})",
                code="workflow_ended",
            )
        await self._tell_parties(client, marked, reason)
        return RemedyOutcome(
            workflow_id,
            certificate_id,
            "done",
            f"terminated; the certificate was {marked.status_before} and is now terminated; "
            "its parties are being told",
        )

    async def _tell_parties(
        self, client: Client, marked: TerminatedCertificate, reason: str
    ) -> None:
        notice = TerminationNotice(
            certificate_id=marked.certificate_id,
            certifier_id=marked.certifier_id,
            exporter_id=marked.exporter_id,
            importer_id=marked.importer_id,
            number=marked.number,
            hts_code=marked.hts_code,
            reason=reason,
        )
        # Told once: a notice that ran already refuses a second run, and that is the answer.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await client.start_workflow(
                TERMINATION_NOTICE_WORKFLOW,
                notice,
                id=termination_notice_workflow_id(marked.certificate_id),
                task_queue=self.settings.temporal_task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                rpc_timeout=self.settings.temporal_rpc_timeout,
            )


def _status_name(status: WorkflowExecutionStatus | None) -> str:
    return status.name.lower() if status is not None else "unknown"


def _late(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(1, round(delta.total_seconds() / 60))} min"
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.0f} days"


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:300]


def _step_detail(step: FailingStep) -> str:
    kind = "local activity" if step.local else "activity"
    return (
        f"{step.activity_type} ({kind}) failed {step.attempt} "
        f"time{'s' if step.attempt != 1 else ''} since {when(step.first_failed_at)}, "
        f"last: {_first_line(step.error)}; "
        f"next attempt at {when(step.next_attempt_at)}"
    )


def _group_detail(step: FailingStep) -> str:
    if step.activity_type in PROJECTIONS:
        return (
            "the database is behind the workflow: its changes cannot be written "
            f"({step.activity_type}: {_first_line(step.error)}); they are tried again until "
            "the database takes them"
        )
    return f"{step.activity_type} keeps failing and is retried: {_first_line(step.error)}"
