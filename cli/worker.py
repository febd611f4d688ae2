"""`nopic worker`: the Temporal worker that runs the workflows and their activities."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.worker import Worker

from activities.documents import DocumentActivities
from activities.failures import FailureClassifier
from activities.mail import MailActivities
from activities.projection import ProjectionActivities
from activities.replacement import ReplacementActivities
from activities.screening import ScreeningActivities
from activities.uncancelled import FinishActivities
from cli.shutdown import run_until_stopped
from cli.telemetry import worker_runtime
from config.settings import Settings
from config.temporal import connection_options
from persistence.db import create_engine, create_sessionmaker
from persistence.keys import signing_key_pem
from persistence.repositories.operations import FailingStepRecorder
from workflows.certificate import CertificateWorkflow
from workflows.import_request import ImportRequestWorkflow
from workflows.termination import TerminationNoticeWorkflow

logger = logging.getLogger(__name__)

WORKFLOWS: tuple[type, ...] = (
    ImportRequestWorkflow,
    CertificateWorkflow,
    TerminationNoticeWorkflow,
)

# Time for activities in flight (an SMTP send, a projection) to finish on shutdown.
GRACEFUL_SHUTDOWN = timedelta(seconds=10)
# How long a workflow task waits for the worker that has the workflow cached before any worker
# may take it. The SDK's 10 s default would make the first command after a worker dies outlast
# the API's Temporal timeout (a 503); a miss costs a replay of the history, nothing more.
STICKY_TIMEOUT = timedelta(seconds=3)


async def connect_temporal(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A client of `runtime` (cli.telemetry: the worker's serves its `/metrics`), or of the
    SDK's default runtime."""
    return await Client.connect(
        settings.temporal_address,
        **connection_options(settings),
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )


def build_worker(
    client: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    task_queue: str | None = None,
    workflows: Sequence[type] = WORKFLOWS,
) -> Worker:
    """The worker of `settings`: our workflows (or those given: a test deploys a bad version)
    and every activity, classifying and recording their failures."""
    screening = ScreeningActivities(sessions)
    projection = ProjectionActivities(sessions)
    mail = MailActivities(
        sessions,
        smtp_host=settings.smtp_host,
        smtp_port=settings.smtp_port,
        smtp_timeout=settings.smtp_timeout_seconds,
        smtp_tls=settings.smtp_tls_mode,
        smtp_username=settings.smtp_username,
        smtp_password=settings.smtp_password,
        mail_from=settings.mail_from,
        public_url=settings.public_url,
    )
    documents = DocumentActivities(sessions, signing_key_pem(settings), settings.public_url)
    replacement = ReplacementActivities(sessions)
    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=workflows,
        activities=[
            screening.screen_parties,
            screening.screen_line,
            projection.record_request,
            projection.project_transition,
            projection.project_transitions,
            mail.send_mail,
            mail.deliver,
            documents.allocate_number,
            documents.render_document,
            replacement.create_replacement,
            replacement.discard_replacement,
        ],
        # The classifier outermost; inside it, activities finish even when cancelled.
        interceptors=[FailureClassifier(FailingStepRecorder(sessions)), FinishActivities()],
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
        max_cached_workflows=settings.worker_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_workflow_tasks,
    )


async def run_worker(settings: Settings) -> None:
    """Poll the task queue until SIGTERM or SIGINT, then shut down within a bound."""
    engine = create_engine(settings.database_url)
    try:
        client = await connect_temporal(settings, worker_runtime(settings))
        worker = build_worker(client, settings, create_sessionmaker(engine))
        logger.info(
            "worker polling %s on %s", settings.temporal_task_queue, settings.temporal_address
        )
        await run_until_stopped(worker)
    finally:
        await engine.dispose()
