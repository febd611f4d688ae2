"""`nopic dev`: the whole system on one machine (DESIGN 7), as separate OS processes.

The Temporal dev server, the worker and the API are children of this supervisor; the SMTP sink
runs in it. A child that dies (a `kill -9` of the worker, say) is started again: the workflows
lose nothing because their state lives in Temporal's history, not in the worker.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cli.shutdown import API_GRACEFUL_SHUTDOWN, WORKER_SHUTDOWN_BOUND
from config.settings import Settings
from workflows.contracts import SEARCH_ATTRIBUTES

RESTART_DELAY_SECONDS = 1.0
# A child ends by itself within its own bound (cli.shutdown); killing it sooner would cut
# a worker's activities off in the middle of their grace period.
STOP_GRACE_SECONDS = max(WORKER_SHUTDOWN_BOUND, API_GRACEFUL_SHUTDOWN).total_seconds() + 5


@dataclass
class Child:
    name: str
    command: list[str]
    log: Path | None = None
    pid_file: Path | None = None
    # None: this process's environment (a bench gives its worker settings of its own).
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: int = field(default=0)

    def start(self) -> None:
        output = open(self.log, "ab") if self.log else None  # noqa: SIM115 - lives with the child
        self.process = subprocess.Popen(  # argument lists built here, no shell # nosec B603
            self.command,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            env=self.env,
        )
        if self.pid_file is not None:
            # Operators (and the end-to-end test) find each process here; written whole, so a
            # reader during a restart sees the old id or the new one, never an empty file.
            written = self.pid_file.with_suffix(".tmp")
            written.write_text(f"{self.process.pid}\n")
            written.replace(self.pid_file)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_port(host: str, port: int, timeout: float, child: Child) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process is not None and child.process.poll() is not None:
            raise RuntimeError(f"{child.name} exited with {child.process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{child.name} did not listen on {host}:{port} within {timeout:.0f} s")


# The server marks a workflow whose workflow task failed this many times in a row with the
# `TemporalReportedProblems` search attribute, which /api/admin/stuck lists (a bad deploy).
REPORTED_PROBLEMS_AFTER = "system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute=2"


def temporal_command(settings: Settings) -> list[str]:
    command = [
        settings.temporal_cli_path,
        "server",
        "start-dev",
        "--db-filename",
        str(settings.data_dir / "temporal.db"),
        "--ip",
        settings.temporal_host,
        "--port",
        str(settings.temporal_port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--namespace",
        settings.temporal_namespace,
        "--log-level",
        "warn",
        "--dynamic-config-value",
        REPORTED_PROBLEMS_AFTER,
    ]
    for key in SEARCH_ATTRIBUTES:
        command += ["--search-attribute", f"{key.name}=Keyword"]
    return command


def prepare_database(settings: Settings) -> bool:
    from cli.database import migrate, seed_demo_data

    asyncio.run(migrate(settings))
    return asyncio.run(seed_demo_data(settings))


def _banner(settings: Settings, seeded: bool) -> str:
    from persistence.seed import DEMO_PASSWORD, DEMO_USERS

    base = settings.public_url
    address = settings.worker_metrics_address
    worker_metrics = f"http://{address}/metrics" if address else "off"
    lines = [
        "",
        "NOP-IC is running (Ctrl-C stops everything)",
        f"  API and pages     {base}  (OpenAPI docs at {base}/docs)",
        f"  mail sink         {base}/dev/mail  (files in {settings.mail_dir}/, "
        f"SMTP on {settings.smtp_host}:{settings.smtp_port})",
        f"  Temporal UI       http://{settings.temporal_host}:{settings.temporal_ui_port}",
        f"  Temporal server   {settings.temporal_address}",
        f"  metrics           {base}/metrics (API), {worker_metrics} (worker)",
        f"  data folder       {settings.data_dir.resolve()}"
        + ("  (demo data seeded now)" if seeded else "  (existing data kept)"),
        "",
        f"Demo users (password '{DEMO_PASSWORD}'):",
    ]
    lines += [f"  {email:<28} {role:<10} {org}" for email, role, org in DEMO_USERS]
    return "\n".join(lines) + "\n"


def run_dev(settings: Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    logs = settings.data_dir / "logs"
    logs.mkdir(exist_ok=True)
    ports = [
        ("HTTP", settings.http_host, settings.http_port),
        ("Temporal", settings.http_host, settings.temporal_port),
        ("Temporal UI", settings.http_host, settings.temporal_ui_port),
        ("SMTP", settings.http_host, settings.smtp_port),
    ]
    if settings.worker_metrics_port:
        # Taken, it would stop the worker at each start, and the supervisor start it again.
        ports.append(("worker metrics", settings.worker_metrics_host, settings.worker_metrics_port))
    busy = [f"{name} port {port}" for name, host, port in ports if not _port_free(host, port)]
    if busy:
        print(f"cannot start: {', '.join(busy)} already in use (another nopic dev?)")
        return 1

    from cli.mail_sink import start_mail_sink

    me = [sys.executable, "-m", "cli.main"]
    run = settings.data_dir / "run"
    run.mkdir(exist_ok=True)
    temporal = Child(
        "temporal",
        temporal_command(settings),
        log=logs / "temporal.log",
        pid_file=run / "temporal.pid",
    )
    worker = Child("worker", [*me, "worker"], log=logs / "worker.log", pid_file=run / "worker.pid")
    api = Child("api", [*me, "api"], log=logs / "api.log", pid_file=run / "api.pid")
    children = [temporal, worker, api]
    sink = None
    stopping = False

    def _stop_on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _stop_on_signal)
    # Ctrl-C stops everything even when the shell that started us ignores SIGINT (a background
    # job of a non-interactive shell does), where Python would leave it ignored.
    signal.signal(signal.SIGINT, _stop_on_signal)
    try:
        print("starting the Temporal dev server ...", flush=True)
        temporal.start()
        wait_for_port(settings.temporal_host, settings.temporal_port, 60, temporal)
        print("migrating and seeding the database ...", flush=True)
        seeded = prepare_database(settings)
        sink = start_mail_sink(settings.mail_dir, settings.smtp_host, settings.smtp_port)
        worker.start()
        api.start()
        wait_for_port(settings.http_host, settings.http_port, 60, api)
        print(_banner(settings, seeded), flush=True)
        print(f"logs: {logs}/{{temporal,worker,api}}.log", flush=True)
        while not stopping:
            for child in children:
                if child.process is not None and child.process.poll() is not None:
                    code = child.process.returncode
                    child.restarts += 1
                    print(f"{child.name} exited ({code}); starting it again", flush=True)
                    time.sleep(RESTART_DELAY_SECONDS)
                    child.start()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    except RuntimeError as exc:
        print(f"cannot start: {exc}", flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in reversed(children):
            child.stop()
        if sink is not None:
            sink.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
    print("stopped", flush=True)
    return 0
