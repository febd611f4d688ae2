"""What `nopic bench admin` times: each admin endpoint over HTTP, and each part it rests on alone.

The parts are the calls `api.admin.Operations.stuck` and `/api/admin/stats` make, with the same
arguments, from this process: the repository queries on the stack's database, the visibility
list of workflows whose workflow task fails, the task queue's pollers, and the description of a
few failing workflows. Their p50s summed against the endpoint's p50 is what the API adds: HTTP,
the token, the session, serialising the page.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    GetWorkflowExecutionHistoryReverseRequest,
)
from temporalio.client import Client

from api.admin import DESCRIBED, LISTED, SAMPLE, STALE_AFTER
from cli.bench_admin_load import ALL_RUNNING, PROBLEMS_QUERY
from cli.bench_http import percentiles
from config.settings import Settings
from persistence.repositories.operations import OperationsRepository

Call = Callable[[], Awaitable[object]]


@dataclass
class Timing:
    name: str
    samples: list[float] = field(default_factory=list)
    error: str | None = None
    # A reference beside the endpoint, not one of the calls it makes.
    reference: bool = False

    @property
    def p50(self) -> float:
        return percentiles(self.samples)[0] if self.samples else float("nan")

    @property
    def p95(self) -> float:
        return percentiles(self.samples)[1] if self.samples else float("nan")


@dataclass
class Endpoint:
    path: str
    http: Timing
    parts: list[Timing]

    @property
    def parts_p50(self) -> float:
        return sum(part.p50 for part in self.parts if not part.reference)

    @property
    def ratio(self) -> float:
        parts = self.parts_p50
        return self.http.p50 / parts if parts and self.http.samples else float("nan")


async def timed(timing: Timing, call: Call, repeat: int, stop: asyncio.Event) -> Timing:
    """`repeat` calls after one to warm up, one at a time, until done or `stop` is set; an
    error (the endpoint missing, say) ends the timing with its reason."""
    try:
        await call()
        for _ in range(repeat):
            if stop.is_set():
                break
            began = time.perf_counter()
            await call()
            timing.samples.append((time.perf_counter() - began) * 1000)
    except httpx.HTTPStatusError as exc:
        timing.error = f"HTTP {exc.response.status_code} {exc.response.text[:120]}"
    return timing


class Measure:
    def __init__(
        self,
        settings: Settings,
        client: Client,
        sessions: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        failing_ids: list[str],
    ) -> None:
        self.settings = settings
        self.client = client
        self.sessions = sessions
        self.http = http
        # The workflows stuck describes: the first few of the one cause they all share.
        self.described = failing_ids[:DESCRIBED]

    async def get(self, path: str) -> object:
        answer = await self.http.get(path)
        answer.raise_for_status()
        return answer.json()

    async def pollers(self) -> object:
        return await self.client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=self.settings.temporal_namespace,
                task_queue=TaskQueue(
                    name=self.settings.temporal_task_queue,
                    kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL,
                ),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )

    async def overdue(self) -> object:
        """The stuck view's reads of overdue tasks: counted by kind, a sample of each."""
        async with self.sessions() as session:
            repository, now = OperationsRepository(session), datetime.now(UTC)
            kinds = await repository.overdue_by_kind(now)
            return [await repository.overdue_tasks(now, kind, SAMPLE) for kind in kinds]

    async def failing_steps(self) -> object:
        """The stuck view's reads of failing steps: counted by error, a sample of each."""
        async with self.sessions() as session:
            repository = OperationsRepository(session)
            fresh_after = datetime.now(UTC) - STALE_AFTER
            kinds = await repository.failing_kinds(fresh_after)
            return [
                await repository.failing_steps(fresh_after, k.activity_type, k.error, SAMPLE)
                for k in kinds
            ]

    async def stats(self) -> object:
        async with self.sessions() as session:
            return await OperationsRepository(session).stats(datetime.now(UTC))

    async def problems_listed(self) -> object:
        return [
            execution.id
            async for execution in self.client.list_workflows(
                PROBLEMS_QUERY, limit=LISTED, page_size=LISTED
            )
        ]

    async def problems_counted(self) -> object:
        return await self.client.count_workflows(PROBLEMS_QUERY)

    async def all_counted(self) -> object:
        return await self.client.count_workflows(ALL_RUNNING)

    async def describe(self, workflow_id: str) -> object:
        description = await self.client.get_workflow_handle(workflow_id).describe()
        history = await self.client.workflow_service.get_workflow_execution_history_reverse(
            GetWorkflowExecutionHistoryReverseRequest(
                namespace=self.settings.temporal_namespace,
                execution=WorkflowExecution(workflow_id=workflow_id),
                maximum_page_size=20,
            )
        )
        return description, history

    async def described_all(self) -> object:
        return await asyncio.gather(*(self.describe(w) for w in self.described))

    async def endpoints(self, repeat: int, stop: asyncio.Event) -> list[Endpoint]:
        stuck: list[tuple[Timing, Call]] = [
            (Timing("task queue pollers (DescribeTaskQueue)"), self.pollers),
            (Timing(f"database: overdue tasks (count, {SAMPLE} oldest)"), self.overdue),
            (Timing("database: failing steps"), self.failing_steps),
            (Timing(f"visibility: list failing (up to {LISTED})"), self.problems_listed),
            (Timing(f"describe {len(self.described)} failing, at once"), self.described_all),
            (Timing("visibility: count failing", reference=True), self.problems_counted),
            (Timing("visibility: count all running", reference=True), self.all_counted),
        ]
        stats: list[tuple[Timing, Call]] = [(Timing("database: stats queries"), self.stats)]
        measured = []
        for path, parts in (("/api/admin/stuck", stuck), ("/api/admin/stats", stats)):
            over_http = await timed(
                Timing("over HTTP"), functools.partial(self.get, path), repeat, stop
            )
            endpoint = Endpoint(path, over_http, [])
            for timing, call in parts:
                endpoint.parts.append(await timed(timing, call, repeat, stop))
            measured.append(endpoint)
        return measured


def print_endpoints(endpoints: list[Endpoint], repeat: int) -> None:
    print(f"\n{repeat} calls each, one at a time, after one to warm up (ms)")
    print(f"{'':<46}{'p50':>9}{'p95':>9}{'min':>9}{'max':>9}")
    for endpoint in endpoints:
        print(f"GET {endpoint.path}")
        for timing in (endpoint.http, *endpoint.parts):
            name = f"  {timing.name}{' (not in it)' if timing.reference else ''}"
            if timing.error is not None:
                print(f"{name:<46}{timing.error}")
            elif not timing.samples:
                print(f"{name:<46}not run (stopped by Ctrl-C)")
            else:
                low, high = min(timing.samples), max(timing.samples)
                print(f"{name:<46}{timing.p50:>9.2f}{timing.p95:>9.2f}{low:>9.2f}{high:>9.2f}")
        print(f"  {'its parts, p50 summed':<44}{endpoint.parts_p50:>9.2f}")
        ratio = f"{endpoint.ratio:.1f}x" if endpoint.ratio == endpoint.ratio else "n/a"
        print(f"  {'HTTP / its parts (p50)':<44}{ratio:>9}")
