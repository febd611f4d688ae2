"""The production shape on one machine, for tests: a Temporal dev server and any number of
`nopic worker` and `nopic api` processes, each a real OS process with its own NOPIC_ settings,
sharing one database and one SMTP server, as compose runs them (DESIGN 7)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli.dev import temporal_command
from config.settings import Settings
from tests.e2e.stack import free_port
from tests.helpers import postgres_database

STARTUP_SECONDS = 60.0
TEMPORAL_STARTS = 3
STOP_SECONDS = 60.0


@dataclass
class Service:
    """One process of the cluster and the file its output goes to."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    signalled_at: float = 0.0

    def start(self) -> Service:
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_for_output(self, text: str, timeout: float = STARTUP_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if not self.alive():
                raise AssertionError(f"{self.name} exited:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {text!r} in {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.1)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def stop(
        self, signum: int = signal.SIGTERM, timeout: float = STOP_SECONDS
    ) -> tuple[int, float]:
        """Send `signum` and wait: the exit status and the seconds it took to exit."""
        self.send(signum)
        return self.wait_exit(timeout)

    def send(self, signum: int) -> None:
        assert self.process is not None
        self.signalled_at = time.monotonic()
        self.process.send_signal(signum)

    def wait_exit(self, timeout: float = STOP_SECONDS) -> tuple[int, float]:
        """The exit status, and the seconds from the last signal sent to the exit."""
        assert self.process is not None
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} running {timeout:.0f} s after a signal") from None
        return code, time.monotonic() - self.signalled_at

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def signing_keys() -> tuple[str, str]:
    """A new Ed25519 key: the private PEM (PKCS#8) and the public one."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private.decode(), public.decode()


class Cluster:
    """One Temporal dev server, and the workers and APIs a test starts against it."""

    def __init__(self, data_dir: Path, database_url: str, smtp_port: int) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.temporal_port = free_port()
        private_key, public_key = signing_keys()
        # Only our settings: none of the shell's NOPIC_ values may point the cluster elsewhere.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("NOPIC_")}
        self.env = {
            **inherited,
            "NOPIC_ENV": "test",
            "NOPIC_DATA_DIR": str(data_dir),
            "NOPIC_DATABASE_URL": database_url,
            "NOPIC_TEMPORAL_HOST": "127.0.0.1",
            "NOPIC_TEMPORAL_PORT": str(self.temporal_port),
            "NOPIC_SMTP_HOST": "127.0.0.1",
            "NOPIC_SMTP_PORT": str(smtp_port),
            # Every process signs and checks with the same keys, as a deployment's would.
            "NOPIC_JWT_SECRET": os.urandom(32).hex(),
            "NOPIC_SIGNING_KEY_PEM": private_key,
            "NOPIC_SIGNING_PUBLIC_KEY_PEM": public_key,
            "NOPIC_WORKER_METRICS_PORT": "0",
            "NOPIC_LOG_FORMAT": "text",
        }
        self.services: list[Service] = []
        self.temporal = self._temporal_on_free_ports()

    def _service(self, name: str, command: list[str], env: dict[str, str]) -> Service:
        service = Service(name, command, env, self.data_dir / f"{name}.log")
        self.services.append(service)
        return service

    def _temporal_on_free_ports(self) -> Service:
        """The dev server's process, on ports free now. free_port's port is free when it is
        given, not after: another process (the tests run in two) may bind it first, and the
        server then exits, so a start that fails is tried again on new ports."""
        self.temporal_port, self.temporal_ui_port = free_port(), free_port()
        self.env["NOPIC_TEMPORAL_PORT"] = str(self.temporal_port)
        settings = Settings(
            env="test",
            data_dir=self.data_dir,
            database_url=self.env["NOPIC_DATABASE_URL"],
            temporal_port=self.temporal_port,
            temporal_ui_port=self.temporal_ui_port,
            jwt_secret=self.env["NOPIC_JWT_SECRET"],
            signing_key_pem=self.env["NOPIC_SIGNING_KEY_PEM"],
        )
        return self._service("temporal", temporal_command(settings), self.env)

    def start_temporal(self) -> None:
        for _ in range(TEMPORAL_STARTS):
            self.temporal.start()
            if self._temporal_answers():
                return
            self.temporal.kill()
            self.temporal = self._temporal_on_free_ports()
        raise AssertionError(f"Temporal did not start:\n{self.temporal.tail()}")

    def _temporal_answers(self) -> bool:
        """Whether the server listens on both its ports and is still running a moment later
        (it exits, after opening the first, when the second is taken)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while self.temporal.alive() and time.monotonic() < deadline:
            if all(_accepts(port) for port in (self.temporal_port, self.temporal_ui_port)):
                time.sleep(0.5)
                return self.temporal.alive()
            time.sleep(0.2)
        return False

    def prepare_database(self) -> None:
        """`nopic migrate`, then the demo organisations and users (`nopic seed --demo`)."""
        for command in (["migrate"], ["seed", "--demo"]):
            subprocess.run(
                [sys.executable, "-m", "cli.main", *command],
                env=self.env,
                check=True,
                capture_output=True,
            )

    def worker(self, name: str, **settings: str) -> Service:
        """A `nopic worker`, polling once this returns."""
        env = {**self.env, **_nopic(settings)}
        worker = self._service(name, [sys.executable, "-m", "cli.main", "worker"], env)
        worker.start().wait_for_output("worker polling")
        return worker

    def api(self, name: str, **settings: str) -> tuple[Service, str]:
        """A `nopic api` and its base URL, answering once this returns."""
        port = free_port()
        env = {**self.env, **_nopic(settings), "NOPIC_HTTP_PORT": str(port)}
        api = self._service(name, [sys.executable, "-m", "cli.main", "api"], env).start()
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                    return api, base_url
            if not api.alive() or time.monotonic() > deadline:
                raise AssertionError(f"{name} did not answer:\n{api.tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Kill whatever a test left running, the Temporal server last."""
        for service in reversed(self.services):
            service.kill()


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def _nopic(settings: dict[str, str]) -> dict[str, str]:
    return {f"NOPIC_{name.upper()}": value for name, value in settings.items()}


@asynccontextmanager
async def running_cluster(data_dir: Path, smtp_port: int) -> AsyncIterator[Cluster]:
    """A cluster on a PostgreSQL database of its own, migrated and seeded, its Temporal dev
    server started; afterwards every process it started is killed and the database dropped."""
    async with postgres_database() as url:
        cluster = Cluster(data_dir, url, smtp_port)
        try:
            cluster.start_temporal()
            cluster.prepare_database()
            yield cluster
        finally:
            cluster.stop()
