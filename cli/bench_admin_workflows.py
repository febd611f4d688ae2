"""The workflows `nopic bench admin` keeps running: what visibility holds, and what is stuck.

A parked certificate waits forever on a condition that never holds: a running workflow in
visibility, with the search attributes of a certificate, that costs nothing once started. A
failing certificate raises a plain exception in its run, which fails the workflow task (not the
workflow) on every attempt, so the server marks it with `TemporalReportedProblems`, as it would
a certificate after a bad deploy.

Both run on workers of the bench, on task queues of their own, never on the stack's worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

PARKED_WORKFLOW = "BenchAdminParkedCertificate"
FAILING_WORKFLOW = "BenchAdminFailingCertificate"
# A queue each: the failing workflows' tasks must not wait behind the parked ones' first tasks.
PARKED_TASK_QUEUE = "nopic-bench-admin-parked"
FAILING_TASK_QUEUE = "nopic-bench-admin-failing"


@dataclass
class BenchCertificate:
    certificate_id: str


class FailingOnPurpose(Exception):
    """Not an ApplicationError: any other exception fails the workflow task, not the workflow."""


# Not sandboxed: neither workflow has code to guard, and a sandbox per new workflow would cost
# the bench's worker minutes of CPU for a hundred thousand of them.
@workflow.defn(name=PARKED_WORKFLOW, sandboxed=False)
class ParkedCertificate:
    @workflow.run
    async def run(self, _: BenchCertificate) -> None:
        await workflow.wait_condition(lambda: False)


@workflow.defn(name=FAILING_WORKFLOW, sandboxed=False)
class FailingCertificate:
    @workflow.run
    async def run(self, certificate: BenchCertificate) -> None:
        raise FailingOnPurpose(f"bench admin: {certificate.certificate_id} fails on purpose")
