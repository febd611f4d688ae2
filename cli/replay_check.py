"""`nopic replay-check`: do the histories on the cluster replay on this code's workflows?

Run it with the new image, before its workers replace the old ones (README, Upgrading). A worker
whose workflow code takes another path than a history recorded fails that workflow's task on
every attempt, and the certificate is stuck until the code is fixed and the workflow reset; this
check finds such a change first, against the real workflows of the deployment.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from temporalio.client import Client, WorkflowExecution, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from cli.bench_measure import Progress
from cli.worker import WORKFLOWS, connect_temporal
from config.settings import Settings

ALL_REPLAY = 0
SOME_DO_NOT_REPLAY = 1
CANNOT_CHECK = 2
DEFAULT_LIMIT = 1000
# The SDK's own logger of workflow task failures: each history that does not replay is one,
# with its traceback. The report names them; the tracebacks would bury it.
_SDK_WORKFLOW_LOGGER = logging.getLogger("temporalio.worker._workflow")
# The core's message inside an activation failure ("... Failure { message: \"...\", ...").
_CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class ReplayFailure:
    workflow_id: str
    run_id: str
    error: str


def histories_query(task_queue: str, closed_days: float, now: datetime) -> str:
    """The workflows of our task queue a new worker may meet: those running, and those closed
    in the last `closed_days` days (a reset or a query reopens a closed one).

    By task queue, not by workflow type: a running workflow of a type the new code no longer
    registers would fail on those workers too, and must show here."""
    scope = f"TaskQueue = '{task_queue}'"
    if closed_days <= 0:
        return f"{scope} AND ExecutionStatus = 'Running'"
    since = (now - timedelta(days=closed_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{scope} AND (ExecutionStatus = 'Running' OR CloseTime > '{since}')"


def first_line(error: BaseException) -> str:
    """What a person needs of an error: its first line, or the core's message inside it."""
    text = str(error).strip()
    if not text:
        return type(error).__name__
    found = _CORE_MESSAGE.search(text)
    return found.group(1).replace('\\"', '"') if found else text.splitlines()[0]


@contextmanager
def _sdk_failures_unlogged() -> Iterator[None]:
    level = _SDK_WORKFLOW_LOGGER.level
    _SDK_WORKFLOW_LOGGER.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        _SDK_WORKFLOW_LOGGER.setLevel(level)


async def _histories(
    client: Client, executions: Sequence[WorkflowExecution], progress: Progress, gone: list[str]
) -> AsyncIterator[WorkflowHistory]:
    for execution in executions:
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        try:
            history = await handle.fetch_history()
        except RPCError as exc:
            # Closed long ago and removed by the namespace's retention since it was listed.
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            gone.append(execution.id)
            progress.advance()
            continue
        yield history
        progress.advance()


async def replay_histories(
    client: Client,
    executions: Sequence[WorkflowExecution],
    workflows: Sequence[type],
    namespace: str,
) -> tuple[int, list[ReplayFailure]]:
    """Each execution's history replayed on `workflows`, as the worker registers them and with
    its data converter: how many were replayed, and the ones that do not replay."""
    if not executions:
        return 0, []
    # The core warns of each failing workflow task too: errors only, for the same reason.
    quiet = LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
    replayer = Replayer(
        workflows=list(workflows),
        data_converter=pydantic_data_converter,
        namespace=namespace,
        runtime=Runtime(telemetry=TelemetryConfig(logging=quiet)),
    )
    progress = Progress("replay", len(executions))
    progress.begin()
    gone: list[str] = []
    try:
        with _sdk_failures_unlogged():
            results = await replayer.replay_workflows(
                _histories(client, executions, progress, gone), raise_on_replay_failure=False
            )
    finally:
        progress.close()
    workflow_ids = {execution.run_id: execution.id for execution in executions}
    return len(executions) - len(gone), [
        ReplayFailure(workflow_ids.get(run_id, "?"), run_id, first_line(error))
        for run_id, error in results.replay_failures.items()
    ]


def _cannot_check(what: str, error: BaseException) -> int:
    print(f"nopic replay-check cannot check: {what}: {first_line(error)}", file=sys.stderr)
    return CANNOT_CHECK


async def replay_check(
    settings: Settings,
    *,
    closed_days: float = 0,
    limit: int = DEFAULT_LIMIT,
    workflows: Sequence[type] = WORKFLOWS,
) -> int:
    """0 when every history checked replays, 1 when some do not, 2 when the check cannot run."""
    if limit < 1:
        print("nopic replay-check: --limit must be at least 1", file=sys.stderr)
        return CANNOT_CHECK
    where = (
        f"task queue {settings.temporal_task_queue!r}, namespace "
        f"{settings.temporal_namespace!r} at {settings.temporal_address}"
    )
    try:
        client = await connect_temporal(settings)
    except RuntimeError as exc:
        return _cannot_check(f"no connection to Temporal at {settings.temporal_address}", exc)
    query = histories_query(settings.temporal_task_queue, closed_days, datetime.now(UTC))
    try:
        matching = (await client.count_workflows(query)).count
        executions = [e async for e in client.list_workflows(query, limit=limit)]
    except RPCError as exc:
        return _cannot_check(f"listing the workflows of {where}", exc)
    closed = f" and those closed in the last {closed_days:g} days" if closed_days > 0 else ""
    print(f"replaying the running workflows{closed} of {where}")
    if matching > len(executions):
        print(
            f"{matching} workflows match; checking the first {len(executions)} "
            f"(--limit {matching} checks them all)"
        )
    try:
        replayed, failures = await replay_histories(
            client, executions, workflows, settings.temporal_namespace
        )
    except RPCError as exc:
        return _cannot_check("fetching a history", exc)
    for failure in failures:
        print(f"DOES NOT REPLAY {failure.workflow_id} (run {failure.run_id}): {failure.error}")
    if failures:
        print(f"{len(failures)} of {replayed} do not replay: do not deploy these workers")
        return SOME_DO_NOT_REPLAY
    print(f"replayed {replayed} {'history' if replayed == 1 else 'histories'}: all replay")
    return ALL_REPLAY


def run_replay_check(settings: Settings, *, closed_days: float, limit: int) -> NoReturn:
    """`nopic replay-check`: the check, then the process ends with its verdict as exit status.

    Without the interpreter's teardown: the SDK's threads may still call into Python while it
    finalizes, which aborts the process (SIGABRT or SIGSEGV; temporalio/sdk-python#300) and
    would replace the verdict by 134 or 139."""
    verdict = asyncio.run(replay_check(settings, closed_days=closed_days, limit=limit))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(verdict)
