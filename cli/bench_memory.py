"""`nopic bench memory`: the worker's resident memory with N certificates waiting.

It runs a stack of its own in a scratch folder, on free ports, so that no other workflow shares
the worker: a Temporal dev server, the mail sink and one `nopic worker` process. It reads the
idle worker's RSS (the baseline), then starts N certificate workflows with the Temporal client
(their request rows recorded first, as the API does) and, once all are in review, reads it again;
then a certifier claims and approves each one, and once all are delivered (numbered, rendered,
signed and mailed to the sink) and wait for their expiry, reads it a third time.

A worker keeps at most NOPIC_WORKER_CACHED_WORKFLOWS workflows in memory (the SDK's sticky
cache); the others live in their histories and are replayed when their next event arrives, so
past that many the RSS should stop growing with N.

On a 2-core machine certificates reach review about ten a second and delivery three or four a
second, so the default 10,000 takes about an hour; `--certificates` measures fewer.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError

from activities.screening import ScreeningActivities
from api.temporal import timer_settings
from cli.bench_measure import Progress
from cli.dev import Child, prepare_database, temporal_command, wait_for_port
from cli.mail_sink import start_mail_sink
from cli.worker import connect_temporal
from config.settings import Settings
from domain.model import Actor, Coverage, OrganicCategory, Role, Status, TaskKind, TaskState
from persistence.db import create_engine, create_sessionmaker, transaction
from persistence.models import Certificate, Task
from persistence.repositories import RequestRepository
from persistence.seed import demo_user_id
from workflows.contracts import (
    CERTIFICATE_WORKFLOW,
    CLAIM,
    CURRENT_REVISION,
    DECIDE,
    ActorRef,
    ClaimInput,
    CommandResult,
    DecideInput,
    ImportRequestInput,
    RequestLine,
    Shipment,
    certificate_workflow_id,
)
from workflows.import_request import certificate_input, certificate_search_attributes
from workflows.payloads import ScreenPartiesInput

CERTIFIER, EXPORTER, IMPORTER = "555", "5550000001", "5550000002"
# What the scratch stack sets for itself, in this process and in the worker's environment.
SCRATCH_SETTINGS = (
    # The worker is `nopic worker`, which starts only with NOPIC_ENV said.
    "env",
    "data_dir",
    "database_url",
    "http_port",
    "temporal_port",
    "worker_metrics_port",
    "temporal_ui_port",
    "smtp_port",
)
# Small enough that ten thousand stay within the demo exporter's declared 500,000 kg a year
# (screening rule R4 rejects what exceeds it).
QUANTITY_KG = Decimal(10)
# A state that stops moving this long means the run went wrong: say so rather than wait forever.
STALL_SECONDS = 180.0
POLL_SECONDS = 0.5
# Updates wait for the worker's answer; under the whole run's load that can take a while.
UPDATE_TIMEOUT = timedelta(seconds=60)
# A command that timed out is sent again (same id) this many times in all before the run fails.
UPDATE_ATTEMPTS = 3


@dataclass(frozen=True)
class Rss:
    state: str
    kib: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    """The resident set of a process, from the kernel (VmRSS, in KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def request(n: int, settings: Settings) -> ImportRequestInput:
    today = datetime.now(UTC)
    return ImportRequestInput(
        request_id=str(uuid.uuid4()),
        created_by=demo_user_id("exporter@demo.test"),
        created_at=today,
        certifier_id=CERTIFIER,
        exporter_id=EXPORTER,
        importer_id=IMPORTER,
        coverage=Coverage.SINGLE_SHIPMENT,
        valid_from=today.date(),
        valid_until=today.date() + timedelta(days=30),
        country_of_origin="PE",
        port_of_export="Callao",
        port_of_entry="Los Angeles",
        shipment=Shipment(transport_mode="sea", bill_of_lading=f"MSCU{n:07d}"),
        lines=[
            RequestLine(
                certificate_id=str(uuid.uuid4()),
                line_no=1,
                hts_code="0804400020",
                product_name=f"Fresh Hass avocados lot {n}",
                organic_category=OrganicCategory.ORGANIC,
                quantity_kg=QUANTITY_KG,
                lot_numbers=[f"L-{n}"],
            )
        ],
        timers=timer_settings(settings),
        revision=CURRENT_REVISION,
    )


async def _in_state(sessions: async_sessionmaker[AsyncSession], status: Status) -> int:
    async with sessions() as session:
        by_status = select(Certificate.status, func.count()).group_by(Certificate.status)
        counts = dict((await session.execute(by_status)).tuples().all())
    if counts.get(Status.REJECTED):
        raise RuntimeError(f"{counts[Status.REJECTED]} certificates rejected: read their timeline")
    return counts.get(status, 0)


async def _until_all(
    sessions: async_sessionmaker[AsyncSession], status: Status, count: int, work: Awaitable[None]
) -> None:
    """Run `work` while showing how many certificates have reached `status`, until all have."""
    running = asyncio.ensure_future(work)
    progress = Progress(status.value, count)
    moved_at = time.monotonic()
    try:
        while progress.done < count:
            if running.done():
                running.result()  # a failure of the work ends the wait with its error
            reached = await _in_state(sessions, status)
            if reached > progress.done:
                moved_at = time.monotonic()
            for _ in range(reached - progress.done):
                progress.advance()
            if time.monotonic() - moved_at > STALL_SECONDS:
                raise RuntimeError(f"{progress.done}/{count} {status.value} for {STALL_SECONDS} s")
            await asyncio.sleep(POLL_SECONDS)
        await running
    finally:
        running.cancel()
        progress.close()


async def _each(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def gated(n: int) -> None:
        async with gate:
            await one(n)

    await asyncio.gather(*(gated(n) for n in range(count)))


async def _start_certificates(
    client: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    count: int,
    concurrency: int,
) -> None:
    # The same three parties for every request: screened once, as one request's lines are.
    findings = await ScreeningActivities(sessions).screen_parties(
        ScreenPartiesInput(certifier_id=CERTIFIER, exporter_id=EXPORTER, importer_id=IMPORTER)
    )

    async def start(n: int) -> None:
        filed = request(n, settings)
        async with transaction(sessions) as session:
            await RequestRepository(session).record(filed)
        line = filed.lines[0]
        await client.start_workflow(
            CERTIFICATE_WORKFLOW,
            certificate_input(filed, line, findings),
            id=certificate_workflow_id(line.certificate_id),
            task_queue=settings.temporal_task_queue,
            search_attributes=certificate_search_attributes(filed, line),
        )

    await _each(count, concurrency, start)


async def _approve_all(
    client: Client, sessions: async_sessionmaker[AsyncSession], concurrency: int
) -> None:
    async with sessions() as session:
        tasks = (
            await session.execute(
                select(Task.id, Task.certificate_id).where(
                    Task.kind == TaskKind.REVIEW, Task.state == TaskState.OPEN
                )
            )
        ).all()
    certifier = ActorRef.of(Actor(demo_user_id("certifier@demo.test"), Role.CERTIFIER, CERTIFIER))

    async def approve(n: int) -> None:
        task_id, certificate_id = tasks[n]
        handle = client.get_workflow_handle(certificate_workflow_id(certificate_id))
        for update, payload in (
            (CLAIM, ClaimInput(actor=certifier, task_id=task_id)),
            (DECIDE, DecideInput(actor=certifier, decision="approve")),
        ):
            # One id per command, kept when it is sent again: an update that timed out on a
            # loaded machine may have been taken, and the workflow answers its id once.
            update_id = str(uuid.uuid4())
            for attempt in range(1, UPDATE_ATTEMPTS + 1):
                try:
                    await handle.execute_update(
                        update,
                        payload,
                        id=update_id,
                        result_type=CommandResult,
                        rpc_timeout=UPDATE_TIMEOUT,
                    )
                    break
                except WorkflowUpdateRPCTimeoutOrCancelledError:
                    if attempt == UPDATE_ATTEMPTS:
                        raise

    await _each(len(tasks), concurrency, approve)


async def _worker_polling(client: Client, settings: Settings) -> None:
    described = DescribeTaskQueueRequest(
        namespace=settings.temporal_namespace,
        task_queue=TaskQueue(name=settings.temporal_task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    deadline = time.monotonic() + 60
    while not (await client.workflow_service.describe_task_queue(described)).pollers:
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not poll within 60 s")
        await asyncio.sleep(POLL_SECONDS)


async def _measure(
    settings: Settings, worker: int, count: int, concurrency: int, measured: list[Rss]
) -> None:
    """Appends each state's RSS to `measured` as it is read: a run that fails or is stopped
    later still reports what it measured."""
    client = await connect_temporal(settings)
    engine = create_engine(settings.database_url)
    try:
        sessions = create_sessionmaker(engine)
        await _worker_polling(client, settings)
        await asyncio.sleep(2)  # the first polls answered: what an idle worker holds
        measured.append(Rss("idle worker (baseline)", rss_kib(worker)))
        starting = _start_certificates(client, settings, sessions, count, concurrency)
        await _until_all(sessions, Status.IN_REVIEW, count, starting)
        measured.append(Rss(f"{count} waiting for review", rss_kib(worker)))
        await _until_all(
            sessions, Status.DELIVERED, count, _approve_all(client, sessions, concurrency)
        )
        measured.append(Rss(f"{count} delivered, waiting for expiry", rss_kib(worker)))
    finally:
        await engine.dispose()


def _scratch_stack(folder: Path) -> tuple[Settings, dict[str, str]]:
    """Settings for the scratch stack, and the same as the worker's environment: any other
    NOPIC_ setting of this shell applies to both."""
    settings = Settings(
        env="dev",
        data_dir=folder,
        database_url=f"sqlite+aiosqlite:///{folder / 'nopic.db'}",
        http_port=free_port(),
        temporal_port=free_port(),
        temporal_ui_port=free_port(),
        smtp_port=free_port(),
        worker_metrics_port=free_port(),
    )
    env = {f"NOPIC_{name.upper()}": str(getattr(settings, name)) for name in SCRATCH_SETTINGS}
    return settings, {**os.environ, **env}


def _print(measured: list[Rss], count: int, cached: int) -> None:
    idle, *loaded = measured
    print(
        f"\nworker RSS (VmRSS), {count} certificates, one worker keeping up to {cached} in memory"
    )
    print(f"{'state':<40}{'RSS MiB':>9}{'over idle MiB':>15}{'KiB per certificate':>21}")
    print(f"{idle.state:<40}{idle.kib / 1024:>9.1f}{'-':>15}{'-':>21}")
    for rss in loaded:
        over = rss.kib - idle.kib
        print(f"{rss.state:<40}{rss.kib / 1024:>9.1f}{over / 1024:>15.1f}{over / count:>21.1f}")


def run_bench_memory(count: int, concurrency: int) -> int:
    with tempfile.TemporaryDirectory(prefix="nopic-bench-memory-") as folder:
        settings, env = _scratch_stack(Path(folder))
        logs = settings.data_dir / "logs"
        logs.mkdir()
        temporal = Child("temporal", temporal_command(settings), log=logs / "temporal.log")
        worker = Child(
            "worker",
            [sys.executable, "-m", "cli.main", "worker"],
            log=logs / "worker.log",
            env=env,
        )
        sink = None
        measured: list[Rss] = []
        try:
            temporal.start()
            wait_for_port(settings.temporal_host, settings.temporal_port, 60, temporal)
            prepare_database(settings)
            sink = start_mail_sink(settings.mail_dir, settings.smtp_host, settings.smtp_port)
            worker.start()
            assert worker.process is not None
            asyncio.run(_measure(settings, worker.process.pid, count, concurrency, measured))
        except KeyboardInterrupt:
            print("\ninterrupted: stopping the worker, the mail sink and Temporal", flush=True)
            if measured:
                _print(measured, count, settings.worker_cached_workflows)
            return 130
        except Exception:
            if measured:
                print("\nthe run failed; what it measured before:", flush=True)
                _print(measured, count, settings.worker_cached_workflows)
            raise
        finally:
            worker.stop()
            if sink is not None:
                sink.stop()
            temporal.stop()
    _print(measured, count, settings.worker_cached_workflows)
    return 0
