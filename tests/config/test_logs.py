"""Log lines as the services write them: one JSON object each, with the context that is known."""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
import uuid

from temporalio import activity
from temporalio.testing import ActivityEnvironment

from config.logs import JsonFormatter, TextFormatter, log_context
from workflows.contracts import certificate_workflow_id

logger = logging.getLogger("tests.config")


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    return logger.makeRecord(
        logger.name, logging.WARNING, __file__, 1, message, args, None, extra=extra
    )


def test_a_line_is_one_json_object_with_time_level_logger_and_message():
    with log_context(request_id="r-1"):
        line = JsonFormatter().format(record("mail %s failed\nfor good", "k-1"))

    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed.pop("time").endswith("+00:00")
    assert parsed == {
        "level": "WARNING",
        "logger": "tests.config",
        "message": "mail k-1 failed\nfor good",
        "request_id": "r-1",
    }


def test_a_certificate_workflows_line_names_the_certificate():
    certificate_id = str(uuid.uuid4())
    workflow = {"workflow_id": certificate_workflow_id(certificate_id), "run_id": "run-1"}

    parsed = json.loads(JsonFormatter().format(record("x", temporal_workflow=workflow)))

    assert parsed["workflow_id"] == certificate_workflow_id(certificate_id)
    assert (parsed["certificate_id"], parsed["run_id"]) == (certificate_id, "run-1")


def test_an_extra_that_is_not_context_is_not_written():
    parsed = json.loads(JsonFormatter().format(record("x", password="hunter2", body={"a": 1})))

    assert "hunter2" not in json.dumps(parsed)
    assert "body" not in parsed


async def test_a_plain_loggers_line_in_an_activity_carries_the_activitys_workflow():
    certificate_id = str(uuid.uuid4())
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, workflow_id=certificate_workflow_id(certificate_id), activity_type="send_mail"
    )

    @activity.defn(name="send_mail")
    async def logs() -> str:
        return JsonFormatter().format(record("could not record the failing step"))

    parsed = json.loads(await env.run(logs))

    assert parsed["certificate_id"] == certificate_id
    assert (parsed["activity"], parsed["run_id"]) == ("send_mail", "test-run")


def test_text_lines_put_the_context_after_the_message():
    with log_context(request_id="r-2", certificate_id="c-2"):
        line = TextFormatter().format(record("slow answer"))

    assert line.endswith("WARNING tests.config slow answer [request_id=r-2 certificate_id=c-2]")


def test_a_process_that_dies_of_an_error_says_so_in_one_json_line():
    dying = "from config.logs import configure_logging; configure_logging('json'); 1 / 0"
    run = subprocess.run([sys.executable, "-c", dying], capture_output=True, text=True, check=False)

    assert run.returncode == 1
    [line] = run.stderr.splitlines()
    parsed = json.loads(line)
    assert (parsed["level"], parsed["message"]) == ("CRITICAL", "stopped by an error")
    assert "ZeroDivisionError" in parsed["exception"]
