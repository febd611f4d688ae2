"""A running `nopic dev` for end-to-end tests, and the few HTTP helpers they share."""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any

import httpx

STARTUP_SECONDS = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DevStack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.http_port = free_port()
        self.worker_metrics_port = free_port()
        self.env = {
            **os.environ,
            "NOPIC_DATA_DIR": str(data_dir),
            "NOPIC_HTTP_PORT": str(self.http_port),
            "NOPIC_TEMPORAL_PORT": str(free_port()),
            "NOPIC_TEMPORAL_UI_PORT": str(free_port()),
            "NOPIC_SMTP_PORT": str(free_port()),
            "NOPIC_WORKER_METRICS_PORT": str(self.worker_metrics_port),
        }
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def worker_metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.worker_metrics_port}/metrics"

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

    def kill_worker(self, when: Callable[[], bool] | None = None) -> None:
        """`kill -9` the worker (the moment `when` holds, if given: it is asked in a tight
        loop), then wait until the supervisor's new one polls Temporal."""
        log = self.data_dir / "logs" / "worker.log"
        polling = log.read_text().count("worker polling")
        old = self.pid("worker")
        deadline = time.monotonic() + 60
        while when is not None and not when():
            if time.monotonic() > deadline:
                raise AssertionError("the moment to kill the worker never came")
            time.sleep(0.001)
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.pid("worker") != old and log.read_text().count("worker polling") > polling:
                return
            time.sleep(0.2)
        raise AssertionError("no new worker after kill -9")

    def kill_temporal(self) -> None:
        """`kill -9` the Temporal dev server, then wait until the supervisor's new one, on the
        same database file, answers the API's health check."""
        old = self.pid("temporal")
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.pid("temporal") != old:
                try:
                    if httpx.get(f"{self.base_url}/healthz", timeout=5).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
            time.sleep(0.2)
        raise AssertionError("no new Temporal dev server after kill -9")

    def mails(self) -> list[Message]:
        folder = self.data_dir / "mail"
        return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def login(client: httpx.Client, user: str) -> dict[str, str]:
    answer = client.post("/api/auth/token", data={"username": user, "password": "demo"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def wait_status(
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


def wait_mail(stack: DevStack, to: str, subject_part: str) -> Message:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for message in stack.mails():
            if to in str(message.get("To", "")) and subject_part in str(message["Subject"]):
                return message
        time.sleep(0.3)
    seen = [(m["To"], m["Subject"]) for m in stack.mails()]
    raise AssertionError(f"no mail to {to} about {subject_part!r}; seen {seen}")
