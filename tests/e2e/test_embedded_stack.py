"""The embedded stack as a user runs it: `nopic dev` with the real Temporal dev server, worker,
API and SMTP sink as separate processes, driven over HTTP."""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest

STARTUP_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DevStack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.http_port = _free_port()
        self.env = {
            **os.environ,
            "NOPIC_DATA_DIR": str(data_dir),
            "NOPIC_HTTP_PORT": str(self.http_port),
            "NOPIC_TEMPORAL_PORT": str(_free_port()),
            "NOPIC_TEMPORAL_UI_PORT": str(_free_port()),
            "NOPIC_SMTP_PORT": str(_free_port()),
        }
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "dev"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if line.startswith("logs:"):
                return "".join(self.output)
        raise AssertionError("nopic dev did not start:\n" + "".join(self.output))

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            out, _ = self.process.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        self.output.append(out)

    def pid(self, name: str) -> int:
        return int((self.data_dir / "run" / f"{name}.pid").read_text())

    def mails(self) -> list[Message]:
        folder = self.data_dir / "mail"
        return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DevStack]:
    running = DevStack(tmp_path / "var")
    try:
        yield running
    finally:
        running.stop()


def _login(client: httpx.Client, user: str) -> dict[str, str]:
    answer = client.post("/api/auth/token", data={"username": user, "password": "demo"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _wait_status(
    client: httpx.Client, headers: dict[str, str], cert_id: str, status: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = client.get(f"/api/certificates/{cert_id}", headers=headers).json()
        if body.get("status") == status:
            return body
        time.sleep(0.2)
    raise AssertionError(f"certificate {cert_id} not {status}: {body}")


def _wait_mail(stack: DevStack, to: str, subject_part: str) -> Message:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for message in stack.mails():
            if to in str(message.get("To", "")) and subject_part in str(message["Subject"]):
                return message
        time.sleep(0.3)
    seen = [(m["To"], m["Subject"]) for m in stack.mails()]
    raise AssertionError(f"no mail to {to} about {subject_part!r}; seen {seen}")


REQUEST = {
    "importer_id": "5550000002",
    "coverage": "single_shipment",
    "valid_from": "2026-12-01",
    "valid_until": "2026-12-31",
    "country_of_origin": "PE",
    "port_of_export": "Callao",
    "port_of_entry": "Los Angeles",
    "shipment": {
        "transport_mode": "sea",
        "bill_of_lading": "MSCU1234567",
        "containers": ["MSCU7654321"],
    },
    "lines": [
        {
            "hts_code": "0804400020",
            "product_name": "Fresh Hass avocados",
            "organic_category": "organic",
            "quantity_kg": 18000,
            "lot_numbers": ["L-2026-11"],
        },
        {
            "hts_code": "0901110015",
            "product_name": "Green Arabica coffee",
            "organic_category": "100_percent_organic",
            "quantity_kg": 12000,
            "lot_numbers": ["C-77"],
        },
    ],
}


def _task_of(client: httpx.Client, headers: dict[str, str], cert_id: str) -> dict[str, Any]:
    items = client.get("/api/tasks", headers=headers).json()["items"]
    return next(t for t in items if t["certificate_id"] == cert_id)


def test_two_line_request_through_review_over_http(stack: DevStack) -> None:
    banner = stack.start()
    assert "certifier@demo.test" in banner
    assert "demo data seeded" in banner
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        assert client.get("/healthz").status_code == 200
        exporter = _login(client, "exporter@demo.test")
        certifier = _login(client, "certifier@demo.test")
        certifier2 = _login(client, "certifier2@demo.test")
        other = _login(client, "other.certifier@demo.test")

        created = client.post("/api/requests", json=REQUEST, headers=exporter)
        assert created.status_code == 201, created.text
        first, second = (c["id"] for c in created.json()["certificates"])
        for cert in (first, second):
            _wait_status(client, exporter, cert, "in_review")
        _wait_mail(stack, "certifier@demo.test", "review")

        # A worker killed with -9 loses nothing: the supervisor starts another.
        os.kill(stack.pid("worker"), signal.SIGKILL)

        task1 = _task_of(client, certifier, first)
        task2 = _task_of(client, certifier, second)
        claim = client.post(f"/api/tasks/{task1['id']}/claim", headers=certifier)
        assert claim.status_code == 200, claim.text
        taken = client.post(f"/api/tasks/{task1['id']}/claim", headers=certifier2)
        assert taken.status_code == 409
        assert client.post(f"/api/tasks/{task1['id']}/claim", headers=other).status_code == 404
        assert client.get(f"/api/certificates/{first}", headers=other).status_code == 404
        assert client.get("/api/tasks", headers=other).json()["items"] == []
        decide = client.post(
            f"/api/certificates/{first}/decision",
            json={"decision": "approve", "comment": "fine"},
            headers=exporter,
        )
        assert decide.status_code == 403

        asked = client.post(
            f"/api/certificates/{first}/decision",
            json={"decision": "request_info", "comment": "Send the lot's harvest record"},
            headers=certifier,
        )
        assert asked.status_code == 200, asked.text
        assert asked.json()["status"] == "info_requested"
        _wait_mail(stack, "exporter@demo.test", "information")

        answered = client.post(
            f"/api/certificates/{first}/answer",
            json={"message": "Harvest record attached to the file"},
            headers=exporter,
        )
        assert answered.status_code == 200, answered.text
        assert answered.json()["status"] == "in_review"
        follow_up = _task_of(client, certifier, first)
        if follow_up["assignee"] is None:
            claimed = client.post(f"/api/tasks/{follow_up['id']}/claim", headers=certifier)
            assert claimed.status_code == 200
        approved = client.post(
            f"/api/certificates/{first}/decision",
            json={"decision": "approve", "comment": "records complete"},
            headers=certifier,
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"

        assert client.post(f"/api/tasks/{task2['id']}/claim", headers=certifier2).status_code == 200
        rejected = client.post(
            f"/api/certificates/{second}/decision",
            json={"decision": "reject", "comment": "lot not on the inspection report"},
            headers=certifier2,
        )
        assert rejected.status_code == 200, rejected.text
        assert rejected.json()["status"] == "rejected"
        _wait_mail(stack, "exporter@demo.test", "reject")

        body = client.get(f"/api/certificates/{first}", headers=exporter).json()
        assert body["status"] == "approved"
        assert body["number"] is None
        events = client.get(f"/api/certificates/{first}/events", headers=exporter).json()
        actions = [e["action"] for e in events["items"]]
        for action in ("submitted", "claimed", "info_requested", "answered", "approved"):
            assert action in actions
        assert stack.pid("worker") > 0
    stack.stop()

    # A second start keeps all data.
    banner = stack.start()
    assert "existing data kept" in banner
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        exporter = _login(client, "exporter@demo.test")
        assert client.get(f"/api/certificates/{first}", headers=exporter).json()["status"] == (
            "approved"
        )
        assert client.get(f"/api/certificates/{second}", headers=exporter).json()["status"] == (
            "rejected"
        )
