"""What `nopic bench admin` puts into its stack before it measures: rows and running workflows.

The database gets the certificates and review tasks of `nopic bench queue`'s fill, one live task
in sixteen left past due (the others due in a month), and a few failing steps as the worker
writes them. Temporal gets one running workflow per certificate: parked ones, and a few whose
workflow task fails on every attempt (cli/bench_admin_workflows.py).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.service import RPCError

from cli.bench import _fill as fill_queue
from cli.bench_admin_workflows import BenchCertificate
from cli.bench_measure import Phase, Progress, RunFailed, run_phase
from persistence.models import LIVE_TASK, Certificate, FailingStep, Task
from workflows.contracts import (
    SA_AWAITING,
    SA_CERTIFIER,
    SA_EXPORTER,
    SA_HTS,
    SA_IMPORTER,
    SA_STATUS,
    certificate_workflow_id,
)

# Task ids are uuid4: those starting with "0" are one in sixteen, spread over the whole fill.
STILL_OVERDUE = "id < '1'"
DUE_LATER = timedelta(days=30)
# Failing steps as the worker writes them during an SMTP outage and a database hiccup: a
# delivery refused over and over (failing_activity), and projections behind (projection_lag).
FAILING_STEPS = {"deliver": 40, "project_transition": 10}
PROBLEMS_QUERY = "TemporalReportedProblems IS NOT NULL AND ExecutionStatus = 'Running'"
PROBLEMS_WAIT_SECONDS = 300.0
ALL_RUNNING = "ExecutionStatus = 'Running'"
SETTLE_SECONDS = 60.0
BACKLOG_LIMIT = 1_000


@dataclass(frozen=True)
class Filled:
    certificates: int
    seconds: float | None  # None: the folder held this fill already
    overdue: int
    failing_steps: int

    @property
    def rate(self) -> float:
        return self.certificates / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Row:
    certificate_id: str
    search_attributes: TypedSearchAttributes


async def fill(sessions: async_sessionmaker[AsyncSession], certificates: int) -> Filled:
    """The fill, unless this database holds it already (a kept folder run again)."""
    async with sessions() as session:
        there = await session.scalar(select(func.count()).select_from(Certificate)) or 0
    seconds = None
    if there == 0:
        began = time.perf_counter()
        await fill_queue(sessions, certificates)
        await _shape(sessions)
        seconds = time.perf_counter() - began
    elif there != certificates:
        raise RuntimeError(
            f"the stack's database holds {there} certificates, not {certificates}: "
            "give --data-dir a new folder for another size"
        )
    async with sessions() as session:
        overdue = await session.scalar(
            select(func.count())
            .select_from(Task)
            .where(text(LIVE_TASK), Task.due_at < datetime.now(UTC))
        )
        steps = await session.scalar(select(func.count()).select_from(FailingStep))
    return Filled(certificates, seconds, overdue or 0, steps or 0)


async def _shape(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The fill's tasks are all due in the past: most are given a due time a month from now."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Task)
            .where(text(LIVE_TASK), text(f"NOT ({STILL_OVERDUE})"))
            .values(due_at=now + DUE_LATER)
        )
        workflow_ids = (
            await session.scalars(
                select(Certificate.id).order_by(Certificate.id).limit(sum(FAILING_STEPS.values()))
            )
        ).all()
        kinds = [kind for kind, n in FAILING_STEPS.items() for _ in range(n)]
        await session.execute(
            insert(FailingStep),
            [
                {
                    "workflow_id": certificate_workflow_id(certificate_id),
                    "activity_id": "1",
                    "run_id": "bench",
                    "activity_type": kind,
                    "local": kind != "deliver",
                    "attempt": 7,
                    "error": "SMTPRecipientsRefused: 451 4.3.0 try again later"
                    if kind == "deliver"
                    else "OperationalError: database is locked",
                    "first_failed_at": now - timedelta(hours=2),
                    "last_failed_at": now,
                    # Fresh for as long as the kept folder is likely to be measured again.
                    "next_attempt_at": now + DUE_LATER,
                }
                for certificate_id, kind in zip(workflow_ids, kinds, strict=False)
            ],
        )
    async with sessions() as session, session.begin():
        await session.execute(text("ANALYZE"))


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[Row]:
    """Every certificate, oldest first, with the search attributes its workflow would carry."""
    async with sessions() as session:
        found = await session.execute(
            select(
                Certificate.id,
                Certificate.status,
                Certificate.awaiting,
                Certificate.certifier_id,
                Certificate.exporter_id,
                Certificate.importer_id,
                Certificate.hts_code,
            ).order_by(Certificate.created_at, Certificate.id)
        )
        return [
            Row(
                certificate_id,
                TypedSearchAttributes(
                    [
                        SearchAttributePair(SA_STATUS, str(status)),
                        SearchAttributePair(SA_AWAITING, str(awaiting)),
                        SearchAttributePair(SA_CERTIFIER, certifier),
                        SearchAttributePair(SA_EXPORTER, exporter),
                        SearchAttributePair(SA_IMPORTER, importer),
                        SearchAttributePair(SA_HTS, hts),
                    ]
                ),
            )
            for certificate_id, status, awaiting, certifier, exporter, importer, hts in found
        ]


async def running(client: Client, workflow_type: str) -> int:
    query = f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Running'"
    return (await client.count_workflows(query)).count


async def backlog(client: Client, task_queue: str) -> int:
    """Workflow tasks waiting on the queue for a worker (the server's estimate)."""
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            report_stats=True,
        )
    )
    return described.stats.approximate_backlog_count


async def start(
    client: Client,
    workflow_type: str,
    task_queue: str,
    certificates: list[Row],
    concurrency: int,
    label: str,
    stop: asyncio.Event,
) -> Phase | None:
    """Start a workflow per certificate, `concurrency` at a time; None if all were running
    already. One that runs already (a kept folder) is kept, and counted as started.

    The starts wait while the bench's worker is BACKLOG_LIMIT workflow tasks behind: left to
    themselves they outrun it, and the embedded server, with a backlog of tens of thousands of
    tasks, hands them out a few a second (seen at 100,000: the failing workflows queued behind
    99,000 parked ones never ran)."""
    if await running(client, workflow_type) == len(certificates):
        return None
    room = asyncio.Event()
    room.set()

    async def watch() -> None:
        while True:
            if await backlog(client, task_queue) > BACKLOG_LIMIT:
                room.clear()
            else:
                room.set()
            await asyncio.sleep(1)

    async def one(index: int) -> None:
        row = certificates[index]
        await room.wait()
        try:
            await client.start_workflow(
                workflow_type,
                BenchCertificate(row.certificate_id),
                id=certificate_workflow_id(row.certificate_id),
                task_queue=task_queue,
                search_attributes=row.search_attributes,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
        except RPCError as exc:
            raise RunFailed(f"{row.certificate_id}: {exc.message}") from exc

    progress = Progress(label, len(certificates))
    watching = asyncio.create_task(watch())
    try:
        return await run_phase(len(certificates), concurrency, one, progress, stop)
    finally:
        watching.cancel()


async def settled(client: Client, expected: int, stop: asyncio.Event) -> int:
    """Wait until visibility counts every workflow running (the server writes visibility after
    the start, and falls behind under a long burst), or its count stops moving for a minute."""
    count, moved_at = -1, time.monotonic()
    while not stop.is_set() and time.monotonic() - moved_at < SETTLE_SECONDS:
        now = (await client.count_workflows(ALL_RUNNING)).count
        if now >= expected:
            return now
        if now != count:
            count, moved_at = now, time.monotonic()
        await asyncio.sleep(2)
    return count


async def reported_problems(client: Client, expected: int, stop: asyncio.Event) -> int:
    """Wait until the server marks every failing workflow (after a few failed attempts of its
    workflow task), at most PROBLEMS_WAIT_SECONDS; how many it marked."""
    deadline = time.monotonic() + PROBLEMS_WAIT_SECONDS
    marked = 0
    while not stop.is_set() and time.monotonic() < deadline:
        marked = (await client.count_workflows(PROBLEMS_QUERY)).count
        if marked >= expected:
            break
        await asyncio.sleep(2)
    return marked
