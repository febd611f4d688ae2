"""What an operator of `nopic dev` watches: both `/metrics`, and the API's and the worker's logs as
JSON lines that say nothing of passwords, tokens, verification codes or trade data."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, cast

import httpx

from tests.e2e.stack import DevStack, login, wait_mail, wait_status
from tests.e2e.test_embedded_stack import REQUEST


def log_lines(stack: DevStack, name: str) -> list[dict[str, Any]]:
    """The process's log, each line as JSON: a line that is not one fails the test here."""
    text = (stack.data_dir / "logs" / f"{name}.log").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def eventually_in(url: str, text: str) -> str:
    deadline = time.monotonic() + 30
    body = ""
    while time.monotonic() < deadline:
        body = httpx.get(url, timeout=5).text
        if text in body:
            return body
        time.sleep(0.5)
    raise AssertionError(f"{text!r} never in {url}:\n{body}")


def test_metrics_and_json_logs_of_a_certificate_issued_and_verified(stack: DevStack) -> None:
    banner = stack.start()
    assert stack.worker_metrics_url in banner
    product = f"Heirloom avocados {uuid.uuid4().hex[:8]}"
    lines = cast(list[dict[str, Any]], REQUEST["lines"])
    request = {**REQUEST, "lines": [{**lines[0], "product_name": product}]}
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        token = client.post(
            "/api/auth/token", data={"username": "exporter@demo.test", "password": "demo"}
        ).json()["access_token"]
        exporter = {"Authorization": f"Bearer {token}"}
        certifier = login(client, "certifier@demo.test")
        created = client.post(
            "/api/requests", json=request, headers={**exporter, "X-Request-ID": "e2e-submit-1"}
        )
        assert created.status_code == 201, created.text
        assert created.headers["X-Request-ID"] == "e2e-submit-1"
        [certificate_id] = [c["id"] for c in created.json()["certificates"]]
        wait_status(client, exporter, certificate_id, "in_review")
        wait_mail(stack, "certifier@demo.test", "review")
        [task] = [
            t
            for t in client.get("/api/tasks", headers=certifier).json()["items"]
            if t["certificate_id"] == certificate_id
        ]
        assert client.post(f"/api/tasks/{task['id']}/claim", headers=certifier).status_code == 200
        approved = client.post(
            f"/api/certificates/{certificate_id}/decision",
            json={"decision": "approve"},
            headers=certifier,
        )
        assert approved.status_code == 200, approved.text
        issued = wait_status(client, exporter, certificate_id, "delivered")
        code = issued["verification_code"]
        verified = client.get(f"/api/verify/{issued['number']}", params={"code": code})
        assert verified.status_code == 200

        api_metrics = client.get("/metrics").text
    assert 'route="/api/verify/{number}"' in api_metrics
    assert 'route="/api/certificates/{certificate_id}"' in api_metrics
    assert issued["number"] not in api_metrics
    assert 'nopic_certificates{state="delivered"} 1.0' in api_metrics
    worker_metrics = eventually_in(stack.worker_metrics_url, 'template="certificate_issued"')
    assert "nopic_mails_sent_total{" in worker_metrics
    assert "temporal_worker_task_slots_available" in worker_metrics

    api_log, worker_log = log_lines(stack, "api"), log_lines(stack, "worker")
    submitted = [line for line in api_log if line.get("request_id") == "e2e-submit-1"]
    assert [(line["route"], line["status"]) for line in submitted] == [("/api/requests", 201)]
    assert any("worker polling" in line["message"] for line in worker_log)
    for line in api_log + worker_log:
        assert {"time", "level", "logger", "message"} <= line.keys(), line
    secrets = {"password": "demo", "token": token, "code": code, "product": product}
    for name in ("api", "worker"):
        text = (stack.data_dir / "logs" / f"{name}.log").read_text()
        # "demo" is also in every demo user's address: a password is judged as a field value.
        leaks = [what for what, secret in secrets.items() if what != "password" and secret in text]
        assert leaks == [], f"{leaks} in the {name} log"
        assert '"demo"' not in text
