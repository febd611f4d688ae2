"""`nopic bench admin`: `/api/admin/stuck` and `/api/admin/stats` with N running workflows.

It starts a private stack (`nopic dev` on free ports in a folder of its own:
cli/bench_admin_stack.py), fills its database with N certificates and their review tasks, one
live task in sixteen past due, and a few failing steps, and starts N running workflows on its
Temporal server, parked, plus a few whose workflow task fails on every attempt, so visibility
holds N + F running executions and F of them carry `TemporalReportedProblems`
(cli/bench_admin_load.py). Then it times each endpoint over HTTP as an admin, and each call it
rests on alone (cli/bench_admin_timing.py): p50, p95, min and max, and the ratio of the HTTP
p50 to its parts' p50s summed.

Starting workflows is the long part: the embedded Temporal server (SQLite) takes 30 to 60 a
second on a 2-core machine, so the default 100,000 takes about 40 minutes. `--data-dir` keeps
the stack's folder: run again with it, the same N is measured without a new fill.

Ctrl-C stops the run: the stack is stopped (SIGTERM) and the figures of what finished printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError
from temporalio.worker import Worker

from cli.bench_admin_load import Filled, fill, reported_problems, rows, settled, start
from cli.bench_admin_stack import PrivateStack
from cli.bench_admin_timing import Endpoint, Measure, print_endpoints
from cli.bench_admin_workflows import (
    FAILING_TASK_QUEUE,
    FAILING_WORKFLOW,
    PARKED_TASK_QUEUE,
    PARKED_WORKFLOW,
    FailingCertificate,
    ParkedCertificate,
)
from cli.bench_measure import Phase
from cli.worker import connect_temporal
from config.settings import Settings
from persistence.db import create_engine, create_sessionmaker
from persistence.seed import DEMO_PASSWORD
from workflows.contracts import certificate_workflow_id

T = TypeVar("T")
ADMIN = {"username": "admin@demo.test", "password": DEMO_PASSWORD}
# A folder given to --data-dir holds this file once the bench has used it: any other folder
# with something in it may be someone's data, and is refused.
MARKER = "nopic-bench-admin"


@dataclass
class Report:
    folder: Path | None = None
    filled: Filled | None = None
    parked: Phase | None = None
    failing: Phase | None = None
    kept: list[str] = field(default_factory=list)
    marked: int | None = None
    marked_after: float = 0.0
    running: int | None = None
    endpoints: list[Endpoint] = field(default_factory=list)


STOPPING = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _stopped_by_ctrl_c(stop: asyncio.Event) -> Iterator[None]:
    """The first Ctrl-C (or SIGTERM) sets `stop`; a second one interrupts at once, as usual."""
    loop = asyncio.get_running_loop()

    def first() -> None:
        print("\nstopping: the figures of what finished follow (Ctrl-C again to abort)")
        stop.set()
        for signum in STOPPING:
            loop.remove_signal_handler(signum)

    for signum in STOPPING:
        loop.add_signal_handler(signum, first)
    try:
        yield
    finally:
        for signum in STOPPING:
            loop.remove_signal_handler(signum)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


async def _until_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """`work`'s result, or None if `stop` is set first (the work is then cancelled)."""
    running = asyncio.ensure_future(work)
    halt = asyncio.create_task(stop.wait())
    await asyncio.wait({running, halt}, return_when=asyncio.FIRST_COMPLETED)
    halt.cancel()
    if running.done():
        return running.result()
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    return None


async def _sign_in(base_url: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        answer = await http.post("/api/auth/token", data=ADMIN)
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def bench_admin(
    settings: Settings,
    report: Report,
    *,
    workflows: int,
    failing: int,
    repeat: int,
    concurrency: int,
) -> int:
    stop = asyncio.Event()
    engine = create_engine(settings.database_url)
    try:
        with _stopped_by_ctrl_c(stop):
            sessions = create_sessionmaker(engine)
            client = await connect_temporal(settings)
            report.filled = await _until_stopped(fill(sessions, workflows + failing), stop)
            if report.filled is None:
                return 130
            certificates = await rows(sessions)
            parked, failed = certificates[:workflows], certificates[workflows:]
            async with (
                Worker(client, task_queue=PARKED_TASK_QUEUE, workflows=[ParkedCertificate]),
                Worker(client, task_queue=FAILING_TASK_QUEUE, workflows=[FailingCertificate]),
            ):
                report.parked = await start(
                    client, PARKED_WORKFLOW, PARKED_TASK_QUEUE, parked, concurrency, "parked", stop
                )
                if report.parked is None:
                    report.kept.append(f"{len(parked)} parked")
                if stop.is_set():
                    return 130
                report.failing = await start(
                    client,
                    FAILING_WORKFLOW,
                    FAILING_TASK_QUEUE,
                    failed,
                    concurrency,
                    "failing",
                    stop,
                )
                if report.failing is None:
                    report.kept.append(f"{len(failed)} failing")
                waited = time.monotonic()
                report.marked = await reported_problems(client, len(failed), stop)
                report.marked_after = time.monotonic() - waited
                report.running = await settled(client, len(certificates), stop)
                if stop.is_set():
                    return 130
                headers = await _sign_in(settings.public_url)
                async with httpx.AsyncClient(
                    base_url=settings.public_url, headers=headers, timeout=120
                ) as http:
                    failing_ids = [certificate_workflow_id(row.certificate_id) for row in failed]
                    measure = Measure(settings, client, sessions, http, failing_ids)
                    report.endpoints = await measure.endpoints(repeat, stop)
    finally:
        await engine.dispose()
    return 130 if stop.is_set() else 0


def _phase(name: str, phase: Phase | None) -> str:
    if phase is None:
        return f"{name}: not run"
    status = " (stopped by Ctrl-C)" if phase.interrupted else ""
    failed = (
        f", {len(phase.failures)} failed, the first: {phase.failures[0]}" if phase.failures else ""
    )
    return (
        f"{name}: {phase.completed} started in {phase.seconds:.1f} s, "
        f"{phase.rate:.1f}/s{failed}{status}"
    )


def _temporal_version(settings: Settings) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(  # our own binary, arguments as a list, no shell # nosec B603
            [settings.temporal_cli_path, "--version"], capture_output=True, text=True, timeout=10
        )
        return done.stdout.strip()
    return "temporal version unknown"


def print_report(report: Report, settings: Settings, repeat: int) -> None:
    print(
        f"\nprivate stack in {report.folder}, {os.cpu_count()} cores, {_temporal_version(settings)}"
    )
    filled = report.filled
    if filled is None:
        print("database: not filled (stopped by Ctrl-C)")
        return
    how = (
        f"in {filled.seconds:.1f} s, {filled.rate:.0f}/s"
        if filled.seconds is not None
        else "(kept from an earlier run)"
    )
    print(
        f"database: {filled.certificates} certificates and review tasks {how}; "
        f"{filled.overdue} live tasks past due, {filled.failing_steps} failing steps"
    )
    for kept in report.kept:
        print(f"workflows: {kept} running already (kept from an earlier run)")
    if report.parked is not None:
        print(_phase("parked workflows", report.parked))
    if report.failing is not None:
        print(_phase("failing workflows", report.failing))
    if report.running is not None:
        print(
            f"visibility: {report.running} running, {report.marked} with reported problems "
            f"(TemporalReportedProblems, all there {report.marked_after:.0f} s after the starts)"
        )
    if report.endpoints:
        print_endpoints(report.endpoints, repeat)


def _folder(data_dir: Path | None, stack: contextlib.ExitStack) -> Path:
    if data_dir is None:
        return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nopic-bench-admin-")))
    if data_dir.exists() and any(data_dir.iterdir()) and not (data_dir / MARKER).exists():
        raise RuntimeError(f"{data_dir} holds files of something else: give a new folder")
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).touch()
    return data_dir


def run_bench_admin(
    workflows: int, failing: int, repeat: int, concurrency: int, data_dir: Path | None
) -> int:
    # Each failed attempt of a failing workflow's task is logged with its traceback, as a
    # warning, by the SDK's Python side and again by its core: here they fail on purpose.
    logging.getLogger("temporalio.worker._workflow_instance").setLevel(logging.ERROR)
    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet))))
    report = Report()
    with contextlib.ExitStack() as cleanup:
        try:
            report.folder = _folder(data_dir, cleanup)
        except RuntimeError as exc:
            print(f"cannot run: {exc}")
            return 2
        stack = PrivateStack(report.folder)
        # Outside the measuring loop (the stack starting), SIGTERM stops the run as Ctrl-C does.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            print(f"starting a private stack in {report.folder} ...", flush=True)
            stack.start()
            code = asyncio.run(
                bench_admin(
                    stack.settings,
                    report,
                    workflows=workflows,
                    failing=failing,
                    repeat=repeat,
                    concurrency=concurrency,
                )
            )
        except KeyboardInterrupt:
            code = 130
        except (RuntimeError, httpx.HTTPError, RPCError) as exc:
            print(f"bench admin failed: {exc!r}", flush=True)
            code = 1
        finally:
            # Not to be cut short by a second Ctrl-C: a stack left running holds its ports.
            for signum in STOPPING:
                signal.signal(signum, signal.SIG_IGN)
            print("stopping the private stack ...", flush=True)
            stack.stop()
            signal.signal(signal.SIGINT, signal.default_int_handler)
        print_report(report, stack.settings, repeat)
    # The report is out. Leaving through the interpreter's finalisation can abort it while the
    # SDK's native threads of the bench's worker unwind (as bench lifecycle found).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
