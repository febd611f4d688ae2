"""What the workflow tests share: a running worker, a demo request, reading the projection."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import WithStartWorkflowOperation, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from activities.projection import ProjectionActivities
from activities.screening import ScreeningActivities
from cli.worker import build_worker
from config.settings import Settings
from domain.model import Coverage, OrganicCategory
from persistence.models import AuditEvent, Certificate, RegistryOperation, Task
from persistence.seed import demo_user_id
from tests.conftest import SmtpServer, free_port
from tests.helpers import actor_for
from workflows.certificate import CertificateWorkflow
from workflows.contracts import (
    CERTIFICATE_WORKFLOW,
    CURRENT_REVISION,
    IMPORT_REQUEST_WORKFLOW,
    SEARCH_ATTRIBUTES,
    ActorRef,
    CommandResult,
    FindingRecord,
    ImportRequestInput,
    RequestLine,
    Shipment,
    TimerSettings,
    certificate_workflow_id,
    request_workflow_id,
)
from workflows.import_request import (
    ImportRequestWorkflow,
    certificate_input,
    certificate_search_attributes,
)
from workflows.payloads import ScreenPartiesInput

T = TypeVar("T")

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"

AVOCADOS = "0804400020"
COFFEE = "0901110015"
QUINOA = "1008500010"
OLIVE_OIL = "1509209030"  # in the HTS reference, certified for the other exporter only

CERTIFIER_ORG, EXPORTER_ORG, IMPORTER_ORG = "555", "5550000001", "5550000002"
CERTIFIERS = ["certifier2@demo.test", "certifier@demo.test"]  # as the outbox lists them
EXPORTERS = ["exporter@demo.test"]


def line(
    hts_code: str = AVOCADOS, quantity_kg: int = 18000, name: str = "Hass avocados"
) -> dict[str, Any]:
    return {"hts_code": hts_code, "quantity_kg": quantity_kg, "product_name": name}


def request_input(
    *lines: dict[str, Any],
    timers: TimerSettings | None = None,
    coverage: Coverage = Coverage.SINGLE_SHIPMENT,
    valid_from: date = date(2026, 12, 1),
    valid_until: date = date(2026, 12, 31),
) -> ImportRequestInput:
    request_id = str(uuid.uuid4())
    return ImportRequestInput(
        request_id=request_id,
        created_by=demo_user_id("exporter@demo.test"),
        created_at=datetime.fromisoformat("2026-11-20T10:00:00+00:00"),
        certifier_id=CERTIFIER_ORG,
        exporter_id=EXPORTER_ORG,
        importer_id=IMPORTER_ORG,
        coverage=coverage,
        valid_from=valid_from,
        valid_until=valid_until,
        country_of_origin="PE",
        port_of_export="Callao",
        port_of_entry="Los Angeles",
        shipment=Shipment(transport_mode="sea", bill_of_lading="MSCU1234567"),
        lines=[
            RequestLine(
                certificate_id=str(uuid.uuid4()),
                line_no=n,
                hts_code=spec["hts_code"],
                product_name=spec["product_name"],
                organic_category=OrganicCategory.ORGANIC,
                quantity_kg=Decimal(spec["quantity_kg"]),
                lot_numbers=[f"L-{n}"],
            )
            for n, spec in enumerate(lines or [line()], start=1)
        ],
        timers=timers or TimerSettings(),
        revision=CURRENT_REVISION,
    )


@asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server with our search attributes registered."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(TEST_SERVER)
    )
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={
                    key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
                    for key in SEARCH_ATTRIBUTES
                },
            )
        )
        yield env
    finally:
        await env.shutdown()


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 10.0) -> T:
    """The first truthy answer of `probe`, polled in real time (the workflow runs meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{probe} stayed falsy for {timeout}s")
        await asyncio.sleep(0.02)


@dataclass
class Harness:
    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    smtp: SmtpServer
    task_queue: str
    started: list[str] = field(default_factory=list)

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        env: WorkflowEnvironment,
        sessions: async_sessionmaker[AsyncSession],
        smtp: SmtpServer,
        data_dir: Path,
    ) -> AsyncIterator[Harness]:
        settings = Settings(
            env="test",
            data_dir=data_dir,
            jwt_secret="test",
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            smtp_timeout_seconds=5,
        )
        harness = cls(env, sessions, smtp, f"test-{uuid.uuid4()}")
        async with build_worker(env.client, settings, sessions, task_queue=harness.task_queue):
            try:
                yield harness
            finally:
                await harness.terminate_running()

    @classmethod
    @asynccontextmanager
    async def with_smtp_down(
        cls, env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], data_dir: Path
    ) -> AsyncIterator[Harness]:
        """A worker whose SMTP server is down until the test serves it (tests.conftest.serving)."""
        server = SmtpServer(host="127.0.0.1", port=free_port())
        async with cls.running(env, sessions, server, data_dir) as harness:
            yield harness

    async def terminate_running(self) -> None:
        # Left running, an approved certificate's workflow would outlive the test on the
        # shared server, with timers that later tests' time skipping would fire.
        for workflow_id in self.started:
            handle = self.env.client.get_workflow_handle(workflow_id)
            if (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
                await handle.terminate("test over")

    async def submit(self, request: ImportRequestInput) -> list[str]:
        """Start the request's workflow; the certificate ids, once all are in review or rejected."""
        await self.env.client.start_workflow(
            IMPORT_REQUEST_WORKFLOW,
            request,
            id=request_workflow_id(request.request_id),
            task_queue=self.task_queue,
        )
        ids = [line.certificate_id for line in request.lines]
        self.started += [certificate_workflow_id(i) for i in ids]
        for certificate_id in ids:
            await eventually(partial(self.screened, certificate_id))
        return ids

    async def start_certificates(self, request: ImportRequestInput) -> list[str]:
        """What ImportRequestWorkflow does, done by the test: record, screen, start each line.

        The timer tests start certificates without a parent because the time-skipping test
        server leaks a time-skipping lock whenever a child completes after its parent has
        closed: every later `env.sleep` then waits in real time.
        """
        findings = await self._record_and_screen(request)
        for request_line in request.lines:
            workflow_id = certificate_workflow_id(request_line.certificate_id)
            await self.env.client.start_workflow(
                CERTIFICATE_WORKFLOW,
                certificate_input(request, request_line, findings),
                id=workflow_id,
                task_queue=self.task_queue,
                search_attributes=certificate_search_attributes(request, request_line),
            )
            self.started.append(workflow_id)
        ids = [request_line.certificate_id for request_line in request.lines]
        for certificate_id in ids:
            await eventually(partial(self.screened, certificate_id))
        return ids

    async def _record_and_screen(self, request: ImportRequestInput) -> list[FindingRecord]:
        await ProjectionActivities(self.sessions).record_request(request)
        return await ScreeningActivities(self.sessions).screen_parties(
            ScreenPartiesInput(
                certifier_id=request.certifier_id,
                exporter_id=request.exporter_id,
                importer_id=request.importer_id,
            )
        )

    async def start_with_update(
        self, request: ImportRequestInput, update: str, payload: Any
    ) -> CommandResult:
        """Start the request's only certificate with `update` in its first workflow task, as
        a worker run again after a crash sees a command sent meanwhile."""
        findings = await self._record_and_screen(request)
        [request_line] = request.lines
        workflow_id = certificate_workflow_id(request_line.certificate_id)
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            CERTIFICATE_WORKFLOW,
            certificate_input(request, request_line, findings),
            id=workflow_id,
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=certificate_search_attributes(request, request_line),
        )
        self.started.append(workflow_id)
        result: CommandResult = await self.env.client.execute_update_with_start_workflow(
            update, payload, start_workflow_operation=start, result_type=CommandResult
        )
        return result

    async def screened(self, certificate_id: str) -> bool:
        row = await self.certificate(certificate_id)
        return row is not None and row.status != "submitted"

    def handle(self, certificate_id: str) -> WorkflowHandle[Any, Any]:
        return self.env.client.get_workflow_handle(certificate_workflow_id(certificate_id))

    async def actor(self, email: str) -> ActorRef:
        return ActorRef.of(await actor_for(self.sessions, email))

    async def command(self, certificate_id: str, update: str, payload: Any) -> CommandResult:
        result: CommandResult = await self.handle(certificate_id).execute_update(
            update, payload, id=str(uuid.uuid4()), result_type=CommandResult
        )
        return result

    async def certificate(self, certificate_id: str) -> Certificate | None:
        async with self.sessions() as session:
            return await session.get(Certificate, certificate_id)

    async def status(self, certificate_id: str) -> str:
        row = await self.certificate(certificate_id)
        assert row is not None
        return row.status

    async def actions(self, certificate_id: str) -> list[str]:
        return [e.action for e in await self.events(certificate_id)]

    async def events(self, certificate_id: str) -> list[AuditEvent]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.certificate_id == certificate_id)
                .order_by(AuditEvent.seq)
            )
            return list(rows.all())

    async def tasks(self, certificate_id: str) -> list[Task]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Task).where(Task.certificate_id == certificate_id).order_by(Task.created_at)
            )
            return list(rows.all())

    async def review_task(self, certificate_id: str) -> Task:
        tasks = await self.tasks(certificate_id)
        assert tasks, "no review task projected"
        return tasks[-1]

    async def set_registry_status(self, operation_id: str, status: str) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(RegistryOperation)
                .where(RegistryOperation.organisation_id == operation_id)
                .values(status=status)
            )

    def mails_to(self, recipients: list[str]) -> list[str]:
        """Subjects of the mails received so far by exactly these recipients."""
        return [
            str(m.message["Subject"])
            for m in self.smtp.received
            if sorted(m.rcpt_tos) == sorted(recipients)
        ]

    async def assert_replays(self, *workflow_ids: str) -> None:
        """The recorded histories replay on today's workflow code (no non-determinism)."""
        replayer = Replayer(
            workflows=[ImportRequestWorkflow, CertificateWorkflow],
            data_converter=self.env.client.data_converter,
        )
        for workflow_id in workflow_ids:
            history = await self.env.client.get_workflow_handle(workflow_id).fetch_history()
            await replayer.replay_workflow(history)
