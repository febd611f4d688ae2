"""The services' own stop bounds (cli.shutdown) end them before compose's SIGKILL."""

from __future__ import annotations

import re
from pathlib import Path

from cli.dev import STOP_GRACE_SECONDS
from cli.shutdown import API_GRACEFUL_SHUTDOWN, WORKER_SHUTDOWN_BOUND
from cli.worker import GRACEFUL_SHUTDOWN

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
# Process exit and the lifespan's closing after the bound, on a loaded machine.
MARGIN_SECONDS = 10


def stop_grace_seconds(service: str) -> float:
    """The service's `stop_grace_period`, read from the file as written (seconds)."""
    text = COMPOSE.read_text()
    block = re.search(rf"^  {service}:\n(.*?)(?=^  \S|\Z)", text, re.MULTILINE | re.DOTALL)
    assert block is not None, f"no service {service}"
    period = re.search(r"^    stop_grace_period: (\d+)s$", block.group(1), re.MULTILINE)
    assert period is not None, f"{service} has no stop_grace_period in seconds"
    return float(period.group(1))


def test_worker_stops_before_compose_kills_it() -> None:
    assert GRACEFUL_SHUTDOWN < WORKER_SHUTDOWN_BOUND
    bound = WORKER_SHUTDOWN_BOUND.total_seconds()
    assert bound + MARGIN_SECONDS <= stop_grace_seconds("worker")


def test_api_stops_before_compose_kills_it() -> None:
    bound = API_GRACEFUL_SHUTDOWN.total_seconds()
    assert bound + MARGIN_SECONDS <= stop_grace_seconds("api")


def test_dev_supervisor_waits_for_its_children_bounds() -> None:
    assert WORKER_SHUTDOWN_BOUND.total_seconds() < STOP_GRACE_SECONDS
    assert API_GRACEFUL_SHUTDOWN.total_seconds() < STOP_GRACE_SECONDS
