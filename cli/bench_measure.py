"""What `nopic bench lifecycle` measures with: phases of concurrent runs, CPU, histories.

Billable actions are counted from a workflow's history by this rule, modelled on Temporal Cloud's
list of actions (docs.temporal.io/cloud/actions), one action per event of these kinds:

- workflow started (`WorkflowExecutionStarted`: a client start, a child start, or the new run of a
  continue-as-new), and the parent's `StartChildWorkflowExecutionInitiated`;
- activity scheduled (`ActivityTaskScheduled`), plus one per retry: an `ActivityTaskStarted`
  whose attempt is above 1 adds attempt - 1 (the history keeps only the last attempt's start);
- local activity (`MarkerRecorded` named `core_local_activity`), one per marker; the markers of
  `workflow.patched` (`core_patch`) are no action;
- timer started (`TimerStarted`);
- signal received or sent (`WorkflowExecutionSignaled`, `SignalExternalWorkflowExecutionInitiated`)
  and external cancellation requested;
- update accepted (`WorkflowExecutionUpdateAccepted`; a rejected update leaves no event and is not
  counted here, though Cloud bills it);
- search attributes upserted (`UpsertWorkflowSearchAttributes`) and memo changed
  (`WorkflowPropertiesModified`).

Workflow tasks, completions and queries are not actions and are not counted; heartbeats leave no
event and cannot be counted from a history.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

ONE_ACTION_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        EventType.EVENT_TYPE_TIMER_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
    }
)
# The kinds of action printed one by one, beside the total.
ACTION_KINDS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activities",
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "search attribute upserts",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "updates",
    EventType.EVENT_TYPE_TIMER_STARTED: "timers",
}
ACTION_RULE = (
    "one per workflow or child started, activity scheduled (plus its retries), local activity,"
    " timer, signal, update accepted, search attribute upsert and memo change"
    " (cli/bench_measure.py)"
)
# sdk-core's marker of a local activity's result (its patch markers are named core_patch).
LOCAL_ACTIVITY_MARKER = "core_local_activity"
TTY_REFRESH_SECONDS = 0.5
PIPE_REFRESH_SECONDS = 10.0


@dataclass
class HistoryCount:
    events: int = 0
    actions: int = 0
    kinds: Counter[str] = field(default_factory=Counter)

    def add(self, events: Iterable[HistoryEvent]) -> None:
        for event in events:
            self.events += 1
            if event.event_type in ONE_ACTION_EVENTS:
                self.actions += 1
            if (
                event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
            ):
                self.actions += 1
                self.kinds["local activities"] += 1
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                self.actions += max(event.activity_task_started_event_attributes.attempt - 1, 0)
            if event.event_type in ACTION_KINDS:
                self.kinds[ACTION_KINDS[event.event_type]] += 1


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and of its children it has waited for, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces: the fields that follow start after its closing ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """CPU time all cores spent busy since boot (idle and I/O wait left out), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields)
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


# Whatever else ran on the machine meanwhile: another load sharing the cores shows here.
REST_OF_MACHINE = "rest of the machine"


@dataclass
class ProcessCpu:
    """The stack's processes by the ids `nopic dev` writes, and their CPU at the start."""

    pids: dict[str, int]
    start: dict[str, float] = field(default_factory=dict)
    machine_start: float = 0.0

    @classmethod
    def of_stack(cls, run_dir: Path, names: Iterable[str]) -> ProcessCpu:
        return cls({name: int((run_dir / f"{name}.pid").read_text()) for name in names})

    def begin(self) -> None:
        self.start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.machine_start = machine_cpu_seconds()

    def used(self) -> dict[str, float | None]:
        """CPU seconds since `begin` of each process and of the rest of the machine; None for a
        process restarted meanwhile (its id is gone), and then for the rest too."""
        machine = machine_cpu_seconds() - self.machine_start
        used: dict[str, float | None] = {}
        for name, pid in self.pids.items():
            try:
                used[name] = cpu_seconds(pid) - self.start[name]
            except FileNotFoundError:
                used[name] = None
        known = [seconds for seconds in used.values() if seconds is not None]
        rest = machine - sum(known) if len(known) == len(used) else None
        used[REST_OF_MACHINE] = rest
        return used


@dataclass
class Progress:
    """One line of progress: on a terminal redrawn in place, elsewhere every few seconds."""

    label: str
    total: int
    began: float = field(default_factory=time.monotonic)
    done: int = 0
    shown_at: float = 0.0
    tty: bool = field(default_factory=sys.stdout.isatty)

    def advance(self, step: int = 1) -> None:
        self.done += step
        now = time.monotonic()
        every = TTY_REFRESH_SECONDS if self.tty else PIPE_REFRESH_SECONDS
        if now - self.shown_at >= every or self.done == self.total:
            self.shown_at = now
            self.show(now)

    def show(self, now: float) -> None:
        rate = self.done / max(now - self.began, 1e-9)
        left = f"{(self.total - self.done) / rate:.0f}" if rate else "?"
        width = 24
        bar = "#" * (width * self.done // self.total)
        line = (
            f"{self.label:<7} [{bar:<{width}}] {self.done}/{self.total}  {rate:.2f}/s  "
            f"{left} s left"
        )
        print(f"\r{line}" if self.tty else line, end="" if self.tty else "\n", flush=True)

    def begin(self) -> None:
        """A terminal shows the empty bar at once; a log waits for the first figure."""
        if self.tty:
            self.show(time.monotonic())

    def close(self) -> None:
        if self.tty:
            print(flush=True)


class RunFailed(Exception):
    """One run went wrong (an unexpected answer, a state never reached): counted, not fatal."""


@dataclass
class Phase:
    completed: int
    seconds: float
    interrupted: bool
    failures: list[str]

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


async def run_phase(
    count: int,
    concurrency: int,
    one: Callable[[int], Awaitable[None]],
    progress: Progress,
    stop: asyncio.Event,
) -> Phase:
    """`one(0)` to `one(count - 1)`, `concurrency` at a time, until done or `stop` is set; a
    stop cancels the runs in flight and the phase counts those that finished."""
    indexes = iter(range(count))
    completed = 0
    failures: list[str] = []
    began = time.monotonic()

    async def lane() -> None:
        nonlocal completed
        for index in indexes:
            try:
                await one(index)
                completed += 1
            except RunFailed as failure:
                failures.append(str(failure))
            progress.advance()

    async def lanes() -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, count)):
                group.create_task(lane())

    progress.begin()
    work = asyncio.create_task(lanes())
    halt = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({work, halt}, return_when=asyncio.FIRST_COMPLETED)
        seconds = time.monotonic() - began
    finally:
        halt.cancel()
        if not work.done():
            work.cancel()
        await asyncio.wait({work, halt})
        progress.close()
    if not work.cancelled():
        work.result()  # a run that failed fails the phase, with its own error
    return Phase(completed, seconds, stop.is_set(), failures)
