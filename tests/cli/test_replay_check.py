"""`nopic replay-check` against a real Temporal dev server: the histories of real certificates
replay on today's workflows, and do not on a deploy whose workflow code takes another path."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from cli.replay_check import (
    ALL_REPLAY,
    CANNOT_CHECK,
    SOME_DO_NOT_REPLAY,
    first_line,
    histories_query,
    replay_check,
)
from cli.worker import WORKFLOWS
from config.settings import Settings

# The API tests' dev server and settings (a task queue of this test alone); their bad deploy.
from tests.api.conftest import auth, settings, temporal_client, temporal_env  # noqa: F401
from tests.api.flow import Auth, review_task, submit
from tests.api.test_admin import BadDeploy, stack
from tests.conftest import free_port
from workflows.certificate import CertificateWorkflow
from workflows.contracts import certificate_workflow_id, request_workflow_id


def test_the_query_takes_running_workflows_and_those_closed_lately() -> None:
    now = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    assert histories_query("nopic", 0, now) == (
        "TaskQueue = 'nopic' AND ExecutionStatus = 'Running'"
    )
    assert histories_query("nopic", 2, now) == (
        "TaskQueue = 'nopic' AND "
        "(ExecutionStatus = 'Running' OR CloseTime > '2026-12-05T03:00:00Z')"
    )


def test_a_failure_is_said_by_the_cores_message_or_its_first_line() -> None:
    core = RuntimeError(
        "Workflow activation completion failed: Failure { failure: Some(Failure { message: "
        '"Workflow class X is not registered on this worker, \\"Y\\"", source: "", '
        'stack_trace: "  File a.py\\n" }) }\nand more'
    )
    assert first_line(core) == 'Workflow class X is not registered on this worker, "Y"'
    assert first_line(ValueError("first\nsecond")) == "first"
    assert first_line(ValueError()) == "ValueError"


async def test_no_temporal_is_a_clear_refusal_not_a_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nobody = Settings(env="test", data_dir=tmp_path, temporal_port=free_port())
    assert await replay_check(nobody) == CANNOT_CHECK
    said = capsys.readouterr()
    assert f"cannot check: no connection to Temporal at {nobody.temporal_address}" in said.err
    assert "replay" not in said.out


async def test_histories_replay_on_todays_code_and_not_on_a_bad_deploy(
    settings: Settings,  # noqa: F811
    sessions: async_sessionmaker[AsyncSession],
    temporal_client: Client,  # noqa: F811
    auth: Auth,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with stack(settings, sessions, temporal_client) as api:
        request = await submit(api, auth)
        certificate_id = request["certificates"][0]["id"]
        await review_task(api, auth, certificate_id)
        await temporal_client.get_workflow_handle(request_workflow_id(request["id"])).result()
    capsys.readouterr()

    # The request's workflow has finished; the certificate's waits for its review.
    assert await replay_check(settings) == ALL_REPLAY
    assert "replayed 1 history: all replay" in capsys.readouterr().out
    assert await replay_check(settings, closed_days=1) == ALL_REPLAY
    assert "replayed 2 histories: all replay" in capsys.readouterr().out

    bad = [w for w in WORKFLOWS if w is not CertificateWorkflow] + [BadDeploy]
    assert await replay_check(settings, closed_days=1, workflows=bad) == SOME_DO_NOT_REPLAY
    out = capsys.readouterr().out
    [refused] = [line for line in out.splitlines() if line.startswith("DOES NOT REPLAY")]
    assert certificate_workflow_id(certificate_id) in refused
    assert "ondetermin" in refused
    assert request_workflow_id(request["id"]) not in out
    assert "1 of 2 do not replay: do not deploy these workers" in out

    # More workflows than the limit: said, with how to check them all.
    assert await replay_check(settings, closed_days=1, limit=1) == ALL_REPLAY
    out = capsys.readouterr().out
    assert "2 workflows match; checking the first 1 (--limit 2 checks them all)" in out

    # The command itself, as an operator runs it: its exit status is the verdict.
    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        "replay-check",
        "--closed-days",
        "1",
        env={
            **os.environ,
            "NOPIC_ENV": "test",
            "NOPIC_DATA_DIR": str(settings.data_dir),
            "NOPIC_TEMPORAL_HOST": settings.temporal_host,
            "NOPIC_TEMPORAL_PORT": str(settings.temporal_port),
            "NOPIC_TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        },
        stdout=asyncio.subprocess.PIPE,
    )
    printed, _ = await command.communicate()
    assert command.returncode == ALL_REPLAY, printed
    assert "replayed 2 histories: all replay" in printed.decode()
