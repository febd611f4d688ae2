"""`nopic bench queue`: how fast the certifier queue and certificate list answer at scale.

It fills a scratch database (SQLite by default, or `--database-url`) with N certificates spread
over two certifiers, each with a review task, then times the repository queries the API runs for
`GET /api/tasks` and `GET /api/certificates`: the first page, a deep page reached by cursor, and
filtered pages. The baseline is the same queries in the same run with the queue and list indexes
dropped, so the ratio shows what those indexes buy on this machine, whatever else it is doing.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cli.bench_http import HttpTiming, bench_http, print_http
from cli.bench_measure import Progress
from domain.model import Actor, Awaiting, Role, Status, TaskKind, TaskState
from persistence.db import create_engine, create_sessionmaker
from persistence.migrate import upgrade
from persistence.models import Certificate, ImportRequest, Task
from persistence.repositories import CertificateRepository, TaskRepository
from persistence.seed import demo_user_id, seed_demo

BATCH = 5_000
# The indexes that serve the queue and the party lists (persistence.models), dropped for the
# baseline.
QUEUE_INDEXES = (
    "ix_tasks_live",
    "ix_tasks_live_assignee",
    "ix_tasks_queue",
    "ix_certificates_certifier_created",
    "ix_certificates_certifier_status_created",
)
STATES = (TaskState.OPEN, TaskState.CLAIMED, TaskState.CLOSED, TaskState.CLOSED)


@dataclass(frozen=True)
class Timing:
    name: str
    indexed_ms: float
    baseline_ms: float

    @property
    def ratio(self) -> float:
        return self.baseline_ms / self.indexed_ms if self.indexed_ms else float("inf")


async def _fill(sessions: async_sessionmaker[AsyncSession], count: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    certifier_user = demo_user_id("certifier@demo.test")
    progress = Progress("fill", count)
    progress.begin()
    for offset in range(0, count, BATCH):
        size = min(BATCH, count - offset)
        requests, certificates, tasks = [], [], []
        for n in range(offset, offset + size):
            ours = n % 2 == 0
            certifier, exporter, importer = (
                ("555", "5550000001", "5550000002") if ours else ("777", "7770000001", "7770000002")
            )
            created = start + timedelta(minutes=n)
            request_id, certificate_id = str(uuid.uuid4()), str(uuid.uuid4())
            requests.append(
                {
                    "id": request_id,
                    "created_by": demo_user_id(
                        "exporter@demo.test" if ours else "other.exporter@demo.test"
                    ),
                    "created_at": created,
                    "certifier_id": certifier,
                    "exporter_id": exporter,
                    "importer_id": importer,
                    "coverage": "single_shipment",
                    "valid_from": date(2026, 12, 1),
                    "valid_until": date(2026, 12, 31),
                    "country_of_origin": "PE",
                    "port_of_export": "Callao",
                    "port_of_entry": "Los Angeles",
                    "shipment": {"transport_mode": "sea", "containers": []},
                }
            )
            state = STATES[n % len(STATES)]
            certificates.append(
                {
                    "id": certificate_id,
                    "request_id": request_id,
                    "line_no": 1,
                    "revision": 0,
                    "certifier_id": certifier,
                    "exporter_id": exporter,
                    "importer_id": importer,
                    "hts_code": "0804400020" if n % 3 else "0901110015",
                    "product_name": f"Fresh Hass avocados lot {n}",
                    "organic_category": "organic",
                    "quantity_kg": Decimal(1000 + n % 500),
                    "lot_numbers": [f"L-{n}"],
                    "coverage": "single_shipment",
                    "valid_from": date(2026, 12, 1),
                    "valid_until": date(2026, 12, 31),
                    "status": Status.IN_REVIEW
                    if state is not TaskState.CLOSED
                    else Status.APPROVED,
                    "awaiting": Awaiting.CERTIFIER,
                    "flags": [],
                    "projected_seq": 2,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            tasks.append(
                {
                    "id": str(uuid.uuid4()),
                    "certificate_id": certificate_id,
                    "certifier_id": certifier,
                    "kind": TaskKind.REVIEW,
                    "state": state,
                    "assignee_id": certifier_user if state is TaskState.CLAIMED and ours else None,
                    "due_at": created + timedelta(days=7, minutes=(n * 7919) % 10_000),
                    "escalated": False,
                    "created_at": created,
                    "closed_at": created if state is TaskState.CLOSED else None,
                    "projected_seq": 2,
                }
            )
        async with sessions() as session, session.begin():
            await session.execute(insert(ImportRequest), requests)
            await session.execute(insert(Certificate), certificates)
            await session.execute(insert(Task), tasks)
        progress.advance(size)
    progress.close()


async def _time(run: Callable[[], Awaitable[object]], repeat: int) -> float:
    await run()  # warm the caches and the statement cache
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


async def _queries(sessions: async_sessionmaker[AsyncSession], repeat: int) -> dict[str, float]:
    actor = Actor(demo_user_id("certifier@demo.test"), Role.CERTIFIER, "555")
    now = datetime(2026, 6, 1, tzinfo=UTC)
    async with sessions() as session:
        tasks = TaskRepository(session)
        certificates = CertificateRepository(session)
        cursor: str | None = None
        for _ in range(20):  # twenty pages in: a deep page as a certifier paging would reach it
            cursor = (await tasks.queue(actor, now=now, limit=50, cursor=cursor)).next_cursor

        async def first_page() -> object:
            return await tasks.queue(actor, now=now, limit=50)

        async def deep_page() -> object:
            return await tasks.queue(actor, now=now, limit=50, cursor=cursor)

        async def mine_overdue() -> object:
            return await tasks.queue(actor, now=now, limit=50, assigned_to_me=True, overdue=True)

        async def certificate_list() -> object:
            return await certificates.list_visible(actor, status=Status.IN_REVIEW, limit=50)

        return {
            "tasks: first page": await _time(first_page, repeat),
            "tasks: page 21 by cursor": await _time(deep_page, repeat),
            "tasks: mine, overdue": await _time(mine_overdue, repeat),
            "certificates: in review": await _time(certificate_list, repeat),
        }


async def bench_queue(
    count: int, repeat: int, database_url: str | None
) -> tuple[list[Timing], list[HttpTiming]]:
    with tempfile.TemporaryDirectory() as scratch:
        url = database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
        await upgrade(url)
        engine = create_engine(url)
        try:
            sessions = create_sessionmaker(engine)
            await seed_demo(sessions)
            began = time.perf_counter()
            await _fill(sessions, count)
            print(f"filled {count} certificates and tasks in {time.perf_counter() - began:.1f} s")
            async with engine.begin() as conn:
                await conn.execute(text("ANALYZE"))
            indexed = await _queries(sessions, repeat)
            over_http = await bench_http(sessions, url, repeat, Path(scratch))
            async with engine.begin() as conn:
                for index in QUEUE_INDEXES:
                    await conn.execute(text(f"DROP INDEX {index}"))
                await conn.execute(text("ANALYZE"))
            baseline = await _queries(sessions, repeat)
        finally:
            await engine.dispose()
    return [Timing(name, indexed[name], baseline[name]) for name in indexed], over_http


def run_bench_queue(count: int, repeat: int, database_url: str | None) -> int:
    try:
        timings, over_http = asyncio.run(bench_queue(count, repeat, database_url))
    except KeyboardInterrupt:
        # The scratch database is gone with its folder; one given by URL keeps what was filled.
        print("\nstopped before the figures: nothing to report", flush=True)
        return 130
    print(f"\nmedian of {repeat} runs, {count} certificates (half of them certifier 555's)")
    print(f"{'query':<28}{'indexed ms':>12}{'no index ms':>13}{'ratio':>8}")
    for t in timings:
        print(f"{t.name:<28}{t.indexed_ms:>12.2f}{t.baseline_ms:>13.2f}{t.ratio:>7.1f}x")
    print_http(over_http, repeat)
    return 0
