"""The API's Prometheus metrics: its HTTP traffic, and the certificates and the queue as the
database holds them at the moment of the scrape.

Each app has a registry of its own (not prometheus_client's global one), so several apps in one
process (the tests make many) count apart. The database's figures are read once per scrape, two
grouped queries, and go away from the answer while the database does not answer: the HTTP
series, the ones an operator needs most then, are still served.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.model import Status, TaskKind, TaskState
from persistence.repositories.gauges import GaugeRepository, LiveTasks

logger = logging.getLogger(__name__)

# A scrape that waits for an absent database would time out in Prometheus and lose the rest.
DATABASE_TIMEOUT_SECONDS = 2.0
# Methods as they come would let any client make new series; anything else counts as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LIVE_STATES = (TaskState.OPEN, TaskState.CLAIMED)


@dataclass
class DatabaseSnapshot:
    certificates: dict[str, int] = field(default_factory=dict)
    tasks: list[LiveTasks] = field(default_factory=list)


async def read_snapshot(sessions: async_sessionmaker[AsyncSession]) -> DatabaseSnapshot | None:
    """The database's figures, or None when it did not answer in time."""
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS), sessions() as session:
            gauges = GaugeRepository(session)
            return DatabaseSnapshot(
                certificates=await gauges.certificates_by_status(),
                tasks=await gauges.live_tasks(datetime.now(UTC)),
            )
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        logger.warning("metrics: the database did not answer: %s", type(exc).__name__)
        return None


class DatabaseGauges(Collector):
    """The last snapshot read, as gauges; every state and kind is present, at 0 when none."""

    def __init__(self) -> None:
        self.snapshot: DatabaseSnapshot | None = None

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("nopic_database_up", "1 when the database answered this scrape.")
        up.add_metric([], 0 if self.snapshot is None else 1)
        yield up
        if self.snapshot is None:
            return
        certificates = GaugeMetricFamily(
            "nopic_certificates", "Certificates by state.", labels=["state"]
        )
        counts = self.snapshot.certificates
        for state in sorted({*Status, *counts}):
            certificates.add_metric([state], counts.get(state, 0))
        yield certificates
        live = {(t.kind, t.state): t for t in self.snapshot.tasks}
        kinds = sorted({*TaskKind, *(kind for kind, _ in live)})
        tasks = GaugeMetricFamily(
            "nopic_tasks", "Open and claimed tasks by kind and state.", labels=["kind", "state"]
        )
        overdue = GaugeMetricFamily(
            "nopic_tasks_overdue", "Open and claimed tasks past their due time.", labels=["kind"]
        )
        for kind in kinds:
            late = 0
            for state in LIVE_STATES:
                found = live.get((kind, state))
                tasks.add_metric([kind, state], found.count if found else 0)
                late += found.overdue if found else 0
            overdue.add_metric([kind], late)
        yield tasks
        yield overdue


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        labels = ["method", "route", "status"]
        self.requests = Counter(
            "nopic_http_requests",
            "HTTP requests answered, by method, route template and status.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "nopic_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            labels,
            registry=self.registry,
        )
        self.database = DatabaseGauges()
        self.registry.register(self.database)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method if method in METHODS else "other", route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    async def exposition(self, sessions: async_sessionmaker[AsyncSession]) -> bytes:
        snapshot = await read_snapshot(sessions)
        # No await from here on: a concurrent scrape cannot swap the snapshot under this one.
        self.database.snapshot = snapshot
        return generate_latest(self.registry)
