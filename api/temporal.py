"""The API's side of Temporal: a lazily connected client, and commands sent as Updates.

The API starts even when Temporal is down; each call that needs it then answers 503 and the
next one tries to connect again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from config.logs import log_context
from config.settings import Settings
from config.temporal import connection_options
from domain.errors import Conflict, Unavailable
from workflows.contracts import (
    IMPORT_REQUEST_WORKFLOW,
    ImportRequestInput,
    TimerSettings,
    certificate_workflow_id,
    request_workflow_id,
)

logger = logging.getLogger(__name__)

# A poller not seen for this long is gone (a long poll lasts a minute).
POLLER_GONE = timedelta(seconds=90)
WORKER_SEEN_TTL = timedelta(seconds=10)
NOT_RUNNING = "the certificate does not accept this command in its current state"
# How often an update refused because the workflow's task is being retried is sent again.
NOT_READY_PAUSE = 0.25
# How long the check of a failing workflow task may take after an update timed out.
TASK_CHECK_TIMEOUT = timedelta(seconds=2)
BUSY = "the certificate is taking other commands: try again in a moment"
NOT_READY = "the certificate's workflow is recovering from a failed step: try again in a moment"

R = TypeVar("R", bound=BaseModel)


class WorkflowNotRunning(Conflict):
    """The certificate's workflow is finished, or not started yet: it takes no command."""

    code = "invalid_state"


class TemporalGateway:
    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self.settings = settings
        self._client = client
        self._lock = asyncio.Lock()
        self._worker_seen = float("-inf")

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                self._client = await self._connect()
        return self._client

    async def _connect(self) -> Client:
        timeout = self.settings.temporal_rpc_timeout
        try:
            return await asyncio.wait_for(
                Client.connect(
                    self.settings.temporal_address,
                    **connection_options(self.settings),
                    data_converter=pydantic_data_converter,
                    connect_timeout=timeout,
                ),
                timeout.total_seconds(),
            )
        # The SDK reports a refused or failed connection as a bare RuntimeError.
        except (RuntimeError, OSError, TimeoutError, RPCError) as exc:
            logger.warning(
                "Temporal at %s is not reachable: %s", self.settings.temporal_address, exc
            )
            raise Unavailable("the workflow engine is not reachable") from exc

    async def healthy(self, timeout: timedelta) -> bool:
        try:
            client = await self.client()
            return await client.service_client.check_health(timeout=timeout)
        except (Unavailable, RPCError, TimeoutError):
            return False

    async def workers_last_seen(self) -> datetime | None:
        """When a worker last polled the task queue for workflow tasks; None if none is known."""
        client = await self.client()
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=self.settings.temporal_namespace,
                task_queue=TaskQueue(
                    name=self.settings.temporal_task_queue,
                    kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL,
                ),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            timeout=self.settings.temporal_rpc_timeout,
        )
        seen = [poller.last_access_time.ToDatetime(tzinfo=UTC) for poller in response.pollers]
        return max(seen, default=None)

    async def require_worker(self, certificate_id: str) -> None:
        """Refuse a command at once (503) when no worker polls the task queue: its update
        would wait for the whole timeout and then fail all the same. A certificate whose
        workflow is not running gets its 409 as with a worker. A worker seen is believed for
        WORKER_SEEN_TTL, so this costs one call in a while, not one per command."""
        if time.monotonic() - self._worker_seen < WORKER_SEEN_TTL.total_seconds():
            return
        try:
            seen = await self.workers_last_seen()
            if seen is not None and datetime.now(UTC) - seen <= POLLER_GONE:
                self._worker_seen = time.monotonic()
                return
            client = await self.client()
            handle = client.get_workflow_handle(certificate_workflow_id(certificate_id))
            running = (await handle.describe(rpc_timeout=self.settings.temporal_rpc_timeout)).status
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                raise WorkflowNotRunning(NOT_RUNNING) from exc
            raise Unavailable("the workflow engine did not answer") from exc
        if running is not WorkflowExecutionStatus.RUNNING:
            raise WorkflowNotRunning(NOT_RUNNING)
        raise Unavailable(
            "no worker is running: the command cannot be carried out until one is started",
            code="no_worker",
        )

    async def start_request(self, request: ImportRequestInput) -> None:
        """Start the request's workflow, once: a retried POST finds it started or finished."""
        client = await self.client()
        # After the request workflow finished, the reuse policy refuses a second run, so a
        # retry never fans out again; the caller then answers the rows of the first.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await client.start_workflow(
                IMPORT_REQUEST_WORKFLOW,
                request,
                id=request_workflow_id(request.request_id),
                task_queue=self.settings.temporal_task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                rpc_timeout=self.settings.temporal_rpc_timeout,
            )

    async def command(
        self,
        certificate_id: str,
        update: str,
        payload: BaseModel,
        *,
        update_id: str,
        result_type: type[R],
    ) -> R:
        """Send one person's command to the certificate's workflow and wait for its outcome.

        The workflow's validator refuses what the state machine does not allow (mapped to
        403/409 in api.errors); the handler returns once the transition is in the database.
        """
        with log_context(certificate_id=certificate_id):
            client = await self.client()
            handle = client.get_workflow_handle(certificate_workflow_id(certificate_id))
            deadline = time.monotonic() + self.settings.temporal_rpc_timeout_seconds
            while True:
                try:
                    result: R = await handle.execute_update(
                        update,
                        payload,
                        id=update_id,
                        rpc_timeout=self.settings.temporal_rpc_timeout,
                        result_type=result_type,
                    )
                except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
                    # The server may hold an update until the deadline instead of refusing it
                    # while the workflow's task fails: say so, not that the engine is down.
                    if await self._task_failing(handle):
                        raise Unavailable(NOT_READY) from exc
                    raise
                except RPCError as exc:
                    # No running workflow: the certificate is finished, or still waiting for
                    # its workflow to be started by the request's; no person's command is
                    # allowed in either state.
                    if exc.status is RPCStatusCode.NOT_FOUND:
                        raise WorkflowNotRunning(NOT_RUNNING) from exc
                    if workflow_not_ready(exc):
                        # The workflow task failed or timed out (its worker was killed, say)
                        # and the server refuses updates until a worker has run it again.
                        refusal = NOT_READY
                    elif exc.status is RPCStatusCode.RESOURCE_EXHAUSTED:
                        # The server takes a few updates of one workflow at a time (a broker
                        # sending hundreds of entries at once): the others wait their turn.
                        refusal = BUSY
                    else:
                        raise
                    # The same update id makes sending it again safe.
                    if time.monotonic() + NOT_READY_PAUSE > deadline:
                        raise Unavailable(refusal) from exc
                    await asyncio.sleep(NOT_READY_PAUSE)
                    continue
                return result

    async def _task_failing(self, handle: WorkflowHandle[object, object]) -> bool:
        """Whether the workflow's task has failed and is being tried again (attempt > 1)."""
        try:
            described = await handle.describe(rpc_timeout=TASK_CHECK_TIMEOUT)
        except RPCError:
            return False
        pending = described.raw_description.pending_workflow_task
        return pending.attempt > 1


def workflow_not_ready(exc: RPCError) -> bool:
    """Whether the server refused an update because the workflow's task is being retried
    (FAILED_PRECONDITION with a WorkflowNotReadyFailure): a passing state, not a refusal."""
    if exc.status is not RPCStatusCode.FAILED_PRECONDITION:
        return False
    return any(
        detail.type_url.endswith("WorkflowNotReadyFailure") for detail in exc.grpc_status.details
    )


def timer_settings(settings: Settings) -> TimerSettings:
    return TimerSettings(
        review_reminder=timedelta(days=settings.review_reminder_business_days),
        review_escalation=timedelta(days=settings.review_escalation_business_days),
        info_reminder=timedelta(days=settings.info_reminder_days),
        info_lapse=timedelta(days=settings.info_lapse_days),
        acknowledgement_reminder=timedelta(days=settings.acknowledgement_reminder_days),
        reconciliation_notice=timedelta(days=settings.reconciliation_notice_days),
        delivery_retry_max_interval=timedelta(seconds=settings.delivery_retry_max_seconds),
    )
