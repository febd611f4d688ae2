"""The private stack of `nopic bench admin`: a `nopic dev` of its own, in a folder of its own.

It listens on free ports and keeps its data in the folder it is given (a temporary one unless the
bench is told otherwise), so a person's `make run` stack and data are never touched. It runs in a
session of its own: a Ctrl-C at the terminal reaches the bench alone, and the bench stops the
stack with SIGTERM, as a supervisor would, then kills what is left of its process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from config.settings import Settings

STARTUP_SECONDS = 120.0
STOP_SECONDS = 40.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivateStack:
    def __init__(self, data_dir: Path) -> None:
        self.settings = Settings(
            env="dev",
            data_dir=data_dir,
            database_url=f"sqlite+aiosqlite:///{data_dir / 'nopic.db'}",
            http_port=free_port(),
            temporal_port=free_port(),
            temporal_ui_port=free_port(),
            smtp_port=free_port(),
        )
        # Every setting that says where the stack lives is set, so that none of this shell's
        # NOPIC_ settings (a database URL, a public URL) points it at someone's data.
        where = {
            "env": "dev",
            "data_dir": data_dir,
            "database_url": self.settings.database_url,
            "http_port": self.settings.http_port,
            "public_url": self.settings.public_url,
            "temporal_port": self.settings.temporal_port,
            "temporal_ui_port": self.settings.temporal_ui_port,
            "smtp_port": self.settings.smtp_port,
            # The worker's metrics (a setting of newer stacks; ignored by older ones).
            "worker_metrics_port": free_port(),
        }
        self.env = {**os.environ, **{f"NOPIC_{k.upper()}": str(v) for k, v in where.items()}}
        self.log = data_dir / "bench-admin-stack.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(  # this interpreter, fixed arguments # nosec B603
                [sys.executable, "-m", "cli.main", "dev"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"nopic dev exited with {self.process.returncode}: {self.tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.settings.public_url}/healthz", timeout=5).status_code == 200:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"nopic dev not healthy within {STARTUP_SECONDS:.0f} s: {self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])

    def stop(self) -> None:
        """SIGTERM to `nopic dev`, which stops its children; whatever outlives the grace period
        (the supervisor, or a child it lost) is killed by the process group it was started in."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # The group is the one start() made: its id is the supervisor's, and only its children
        # are in it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
