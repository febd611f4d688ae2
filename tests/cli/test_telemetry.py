"""The worker's runtime: `/metrics` with the Temporal SDK's series and our mail counters, and log
lines of its workflows and activities that say which workflow and certificate they are about."""

from __future__ import annotations

import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from cli.telemetry import temporal_runtime, worker_runtime
from cli.worker import build_worker
from config.logs import CERTIFICATE_WORKFLOW_PREFIX
from config.settings import Settings
from tests.conftest import SmtpServer, free_port, serving
from tests.logs import json_log
from tests.workflows.support import eventually, request_input
from workflows.contracts import (
    IMPORT_REQUEST_WORKFLOW,
    SEARCH_ATTRIBUTES,
    certificate_workflow_id,
    request_workflow_id,
)

REVIEW_MAIL = "review_task_created"


@pytest.fixture(scope="module")
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
    )
    async with env:
        yield env


def samples(text: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {
        frozenset(sample.labels.items()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def by_template(text: str, name: str, template: str) -> float:
    return sum(
        value
        for labels, value in samples(text, name).items()
        if dict(labels).get("template") == template
    )


def test_the_log_prefix_of_certificate_workflows_is_the_contracts():
    assert certificate_workflow_id("abc") == f"{CERTIFICATE_WORKFLOW_PREFIX}abc"


async def test_the_worker_serves_the_sdks_metrics_and_counts_mails_sent_and_failing(
    temporal: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
):
    port = free_port()
    address = f"127.0.0.1:{port}"
    client = await Client.connect(
        temporal.client.service_client.config.target_host,
        namespace=temporal.client.namespace,
        data_converter=pydantic_data_converter,
        runtime=temporal_runtime(address),
    )
    smtp = SmtpServer(host="127.0.0.1", port=free_port())  # not serving until told
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        jwt_secret="test",
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_timeout_seconds=2,
    )
    request = request_input()
    [certificate_id] = [line.certificate_id for line in request.lines]

    async def scrape() -> str:
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"http://{address}/metrics")
        assert answer.status_code == 200
        return answer.text

    async def counted(name: str) -> str | None:
        text = await scrape()
        return text if by_template(text, name, REVIEW_MAIL) >= 1 else None

    async def with_activity_figures() -> str | None:
        # The SDK records an activity's latency once the activity has completed, after the
        # mail inside it was counted.
        text = await scrape()
        names = {family.name for family in text_string_to_metric_families(text)}
        return text if "temporal_activity_execution_latency" in names else None

    task_queue = f"telemetry-{uuid.uuid4()}"
    with json_log() as log:
        async with build_worker(client, settings, sessions, task_queue=task_queue):
            await client.start_workflow(
                IMPORT_REQUEST_WORKFLOW,
                request,
                id=request_workflow_id(request.request_id),
                task_queue=task_queue,
            )
            failing = await eventually(lambda: counted("nopic_mail_failures_total"), timeout=30)
            with serving(smtp):
                sent = await eventually(lambda: counted("nopic_mails_sent_total"), timeout=30)
                await smtp.wait_for(1)
                figures = await eventually(with_activity_figures, timeout=30)
            await client.get_workflow_handle(certificate_workflow_id(certificate_id)).terminate(
                "test over"
            )

    assert by_template(failing, "nopic_mails_sent_total", REVIEW_MAIL) == 0
    assert by_template(sent, "nopic_mails_sent_total", REVIEW_MAIL) == 1
    sdk = {family.name for family in text_string_to_metric_families(figures)}
    assert any(name.startswith("temporal_") for name in sdk), sorted(sdk)
    assert {"temporal_worker_task_slots_available", "temporal_activity_execution_latency"} <= sdk

    mail_failed = [
        line
        for line in log.lines()
        if line.get("activity") == "send_mail" and line["level"] == "WARNING"
    ]
    assert mail_failed, log.text
    line = mail_failed[0]
    assert line["workflow_id"] == certificate_workflow_id(certificate_id)
    assert line["certificate_id"] == certificate_id
    assert line["run_id"]


def test_a_taken_metrics_port_stops_the_worker_with_the_setting_to_change(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(
            env="test", data_dir=tmp_path, jwt_secret="test", worker_metrics_port=port
        )
        with pytest.raises(SystemExit):
            worker_runtime(settings)

    assert "NOPIC_WORKER_METRICS_PORT" in caplog.text
