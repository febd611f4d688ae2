"""The bare workflow of `nopic bench lifecycle`: a certificate's human steps and nothing else.

Started, then two updates (claim, decide), two no-op activities (issue, deliver), then two
updates (acknowledge, record an entry): the least a workflow engine must do for one certificate,
measured on the same server in the same run. The third update waits for the deliveries to be
done, as the importer waits for the certificate before acknowledging it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

BARE_WORKFLOW = "BenchBareWorkflow"
BARE_STEP = "step"
BARE_ACTIVITIES = ("bench_bare_issue", "bench_bare_deliver")
STEPS_BEFORE_ACTIVITIES = 2
STEPS = 4


@dataclass
class BareInput:
    label: str


@dataclass
class StepInput:
    name: str


@activity.defn(name=BARE_ACTIVITIES[0])
async def issue(_: BareInput) -> None:
    """Nothing: the bare workflow measures the engine, not the work."""


@activity.defn(name=BARE_ACTIVITIES[1])
async def deliver(_: BareInput) -> None:
    """Nothing: the bare workflow measures the engine, not the work."""


@workflow.defn(name=BARE_WORKFLOW)
class BareWorkflow:
    def __init__(self) -> None:
        self.steps = 0
        self.delivered = False

    @workflow.run
    async def run(self, request: BareInput) -> int:
        await workflow.wait_condition(lambda: self.steps >= STEPS_BEFORE_ACTIVITIES)
        for name in BARE_ACTIVITIES:
            await workflow.execute_activity(
                name, request, start_to_close_timeout=timedelta(seconds=30)
            )
        self.delivered = True
        await workflow.wait_condition(lambda: self.steps >= STEPS)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.steps

    @workflow.update(name=BARE_STEP)
    async def step(self, _: StepInput) -> int:
        if self.steps >= STEPS_BEFORE_ACTIVITIES:
            await workflow.wait_condition(lambda: self.delivered)
        self.steps += 1
        return self.steps
