"""`nopic bench lifecycle`: a certificate's whole life against the engine's own limit.

Against a running embedded stack (`make run`, `nopic dev`) with the same settings, it drives N
certificates, C at a time, over HTTP as their users would (cli/bench_lifecycle_http.py), then,
on the same Temporal server, N bare workflows with the same human steps on a worker of its own in
this process (cli/bench_bare.py). It prints both rates and their ratio, p50 and p95 of each kind
of API call, the CPU each process of the stack spent per lifecycle (from /proc), and the history
events and billable actions of a sample of certificates (counted as cli/bench_measure.py says).

Ctrl-C stops the run: the lifecycles in flight are dropped (their certificates stay where they
were) and the figures of those that finished are printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError
from temporalio.worker import Worker

from cli.bench_bare import BARE_STEP, BareInput, BareWorkflow, StepInput, deliver, issue
from cli.bench_http import percentiles
from cli.bench_lifecycle_http import CALL_KINDS, LifecycleDriver
from cli.bench_measure import (
    ACTION_RULE,
    REST_OF_MACHINE,
    HistoryCount,
    Phase,
    ProcessCpu,
    Progress,
    RunFailed,
    run_phase,
)
from cli.worker import connect_temporal
from config.settings import Settings
from workflows.contracts import certificate_workflow_id, request_workflow_id

STACK_PROCESSES = ("temporal", "worker", "api")
THIS_PROCESS = "this bench"
HISTORY_SAMPLE = 10
BARE_STEPS = ("claim", "decide", "acknowledge", "record entry")
UPDATE_TIMEOUT = timedelta(seconds=60)
# What a bare lifecycle may meet on a loaded server: it fails that one, not the run.
TEMPORAL_ERRORS = (
    RPCError,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)


@dataclass
class Histories:
    certificate: HistoryCount = field(default_factory=HistoryCount)
    request: HistoryCount = field(default_factory=HistoryCount)
    sampled: int = 0


async def _history(client: Client, workflow_id: str, into: HistoryCount) -> None:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    into.add(history.events)


async def _sample_histories(client: Client, ids: list[tuple[str, str]]) -> Histories:
    """Events and actions of evenly spread (certificate, request) workflow pairs."""
    counted = Histories()
    step = max(len(ids) // HISTORY_SAMPLE, 1)
    for certificate_id, request_id in ids[::step][:HISTORY_SAMPLE]:
        await _history(client, certificate_id, counted.certificate)
        await _history(client, request_id, counted.request)
        counted.sampled += 1
    return counted


@contextlib.contextmanager
def _stopped_by_ctrl_c(stop: asyncio.Event) -> Iterator[None]:
    """The first Ctrl-C sets `stop`; a second one interrupts at once, as usual."""
    loop = asyncio.get_running_loop()

    def first() -> None:
        print("\nstopping: the figures of what finished follow (Ctrl-C again to abort)")
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)

    loop.add_signal_handler(signal.SIGINT, first)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def _processes(settings: Settings) -> ProcessCpu:
    """The stack's processes, and this one: the HTTP clients, then the bare worker and clients."""
    stack = ProcessCpu.of_stack(settings.data_dir / "run", STACK_PROCESSES)
    return ProcessCpu({**stack.pids, THIS_PROCESS: os.getpid()})


async def _nopic_phase(
    settings: Settings, count: int, concurrency: int, stop: asyncio.Event
) -> tuple[Phase, LifecycleDriver, dict[str, float | None]]:
    cpu = _processes(settings)
    limits = httpx.Limits(max_connections=concurrency + 5)
    async with httpx.AsyncClient(base_url=settings.public_url, timeout=60, limits=limits) as http:
        driver = LifecycleDriver(http, uuid.uuid4().hex[:8])
        await driver.sign_in()
        cpu.begin()
        progress = Progress("NOP-IC", count)
        phase = await run_phase(count, concurrency, driver.live, progress, stop)
        return phase, driver, cpu.used()


async def _bare_phase(
    client: Client, settings: Settings, count: int, concurrency: int, stop: asyncio.Event
) -> tuple[Phase, list[str], dict[str, float | None]]:
    queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    # The last one warms the worker up (its sandbox imports the workflow module at the first
    # task), untimed, as the running stack is warm when the NOP-IC phase begins.
    ids = [f"{queue}-{index}" for index in range(count)] + [f"{queue}-warm-up"]
    finished: list[str] = []
    cpu = _processes(settings)

    async def live(index: int) -> None:
        try:
            handle = await client.start_workflow(
                BareWorkflow.run, BareInput(ids[index]), id=ids[index], task_queue=queue
            )
            for step in BARE_STEPS:
                await handle.execute_update(
                    BARE_STEP, StepInput(step), id=step, rpc_timeout=UPDATE_TIMEOUT
                )
            await handle.result()
        except TEMPORAL_ERRORS as exc:
            raise RunFailed(f"{ids[index]}: {exc!r}") from exc
        finished.append(ids[index])

    async with Worker(
        client, task_queue=queue, workflows=[BareWorkflow], activities=[issue, deliver]
    ):
        await live(count)
        finished.clear()
        cpu.begin()
        phase = await run_phase(count, concurrency, live, Progress("bare", count), stop)
        used = cpu.used()
    return phase, finished, used


def _per(seconds: float | None, phase: Phase) -> str:
    """Seconds per finished lifecycle; n/a for a phase not run, or a process restarted in it."""
    if seconds is None or not phase.completed:
        return "n/a"
    return f"{seconds / phase.completed:.3f}"


def _stack_total(used: dict[str, float | None]) -> float | None:
    seconds = [used.get(name) for name in STACK_PROCESSES]
    return None if None in seconds else sum(s for s in seconds if s is not None)


def _print_phase(name: str, phase: Phase | None) -> None:
    if phase is None:
        print(f"{name:<16}not run (stopped by Ctrl-C)")
        return
    status = "  (stopped by Ctrl-C)" if phase.interrupted else ""
    print(
        f"{name:<16}{phase.completed} lifecycles in {phase.seconds:.1f} s: "
        f"{phase.rate:.2f}/s{status}"
    )
    if phase.failures:
        print(f"{'':<16}{len(phase.failures)} failed, the first: {phase.failures[0]}")


def _print_history(name: str, count: HistoryCount, sampled: int) -> None:
    kinds = ", ".join(f"{kind} {n / sampled:.1f}" for kind, n in sorted(count.kinds.items()))
    print(
        f"  {name:<22}{count.events / sampled:>7.1f} events {count.actions / sampled:>6.1f} "
        f"actions  ({kinds})"
    )


def _print_calls(latencies: dict[str, list[float]]) -> None:
    print(f"\n{'API call':<14}{'calls':>7}{'p50 ms':>9}{'p95 ms':>9}")
    for kind in CALL_KINDS:
        samples = latencies.get(kind, [])
        if samples:
            p50, p95 = percentiles(samples)
            print(f"{kind:<14}{len(samples):>7}{p50 * 1000:>9.1f}{p95 * 1000:>9.1f}")
        else:
            print(f"{kind:<14}{0:>7}{'n/a':>9}{'n/a':>9}")


def _print_cpu(
    nopic: Phase, nopic_cpu: dict[str, float | None], bare: Phase, bare_cpu: dict[str, float | None]
) -> None:
    print("\nCPU seconds per lifecycle (/proc utime+stime, children included)")
    print(f"  {'':<22}{'NOP-IC':>16}{'bare':>16}")
    for name in (*STACK_PROCESSES, THIS_PROCESS, REST_OF_MACHINE):
        print(f"  {name:<22}{_per(nopic_cpu[name], nopic):>16}{_per(bare_cpu.get(name), bare):>16}")
    print(
        f"  {'stack, all three':<22}{_per(_stack_total(nopic_cpu), nopic):>16}"
        f"{_per(_stack_total(bare_cpu), bare):>16}"
    )


def _print_histories(histories: Histories, bare: HistoryCount, bare_sampled: int) -> None:
    print(f"\nHistory per lifecycle; billable actions: {ACTION_RULE}")
    if histories.sampled:
        print(f"  sample of {histories.sampled} certificates")
        _print_history("certificate workflow", histories.certificate, histories.sampled)
        _print_history("request workflow", histories.request, histories.sampled)
        both = HistoryCount(
            histories.certificate.events + histories.request.events,
            histories.certificate.actions + histories.request.actions,
            histories.certificate.kinds + histories.request.kinds,
        )
        _print_history("certificate, all", both, histories.sampled)
    if bare_sampled:
        _print_history("bare workflow", bare, bare_sampled)


async def bench_lifecycle(settings: Settings, count: int, concurrency: int) -> int:
    try:
        _processes(settings).begin()
        client = await connect_temporal(settings)
    # A missing or stale pid file, or no server: the SDK reports a refused connection as a
    # bare RuntimeError.
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"no running stack ({exc}): start `nopic dev` with the same NOPIC_ settings")
        return 1
    stop = asyncio.Event()
    with _stopped_by_ctrl_c(stop):
        nopic, driver, nopic_cpu = await _nopic_phase(settings, count, concurrency, stop)
        bare_run = not stop.is_set()
        bare, bare_ids, bare_cpu = (
            await _bare_phase(client, settings, count, concurrency, stop)
            if bare_run
            else (Phase(0, 0.0, True, []), [], {})
        )
        pairs = [
            (certificate_workflow_id(lived.certificate_id), request_workflow_id(lived.request_id))
            for lived in driver.lived
        ]
        histories = await _sample_histories(client, pairs)
        bare_history = HistoryCount()
        bare_sample = bare_ids[:: max(len(bare_ids) // HISTORY_SAMPLE, 1)][:HISTORY_SAMPLE]
        for workflow_id in bare_sample:
            await _history(client, workflow_id, bare_history)

    print(
        f"\n{count} lifecycles asked, {concurrency} at a time, on {settings.temporal_address}, "
        f"{os.cpu_count()} cores"
    )
    _print_phase("NOP-IC", nopic)
    _print_phase("bare workflow", bare if bare_run else None)
    ratio = f"{nopic.rate / bare.rate:.2f}" if bare.rate else "n/a"
    print(f"{'ratio':<16}{ratio} (NOP-IC / bare)")
    _print_calls(driver.latencies)
    _print_cpu(nopic, nopic_cpu, bare, bare_cpu)
    _print_histories(histories, bare_history, len(bare_sample))
    return 130 if stop.is_set() else 0


def run_bench_lifecycle(settings: Settings, count: int, concurrency: int) -> int:
    code = asyncio.run(bench_lifecycle(settings, count, concurrency))
    # The report is out and nothing of the stack is this process's to clean up. Leaving through
    # the interpreter's finalisation instead can abort it (PyGILState_Release, seen in CI after
    # a Ctrl-C): the Temporal SDK's native threads of the bare worker may still be unwinding.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
