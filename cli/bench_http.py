"""The queue benchmark's second half: the same reads over HTTP, next to them as raw queries.

A real uvicorn server in this process serves the API on the filled database; a client sends each
read `repeat` times over one keep-alive connection and keeps p50 and p95. That client is a
minimal HTTP/1.1 one (`KeepAliveClient`, asyncio streams), so the figure is the server's and the
socket's: httpx, a full client library, costs a few milliseconds of its own per request on this
same event loop (its p50 is printed too, as "httpx p50"). Beside them, in the same run on the
same database:

- "sql": the statements the endpoint runs for that read, and only those, in a session opened as
  a request opens its own (`api.deps.request_session`, on the sessions of a route that only
  reads: a connection from the pool and its check, no transaction): the user the token names
  (`api.security.principal_of`, read on every request), then the read's own queries through
  the same repository methods. The ratio http / sql is what HTTP, the token's check, routing,
  validation and serialisation add to the database's work.
- "query": the read's main repository query alone, in one long-lived session (no user lookup, no
  pool checkout, no transaction of its own), as the bench timed it first; kept to compare with
  the figures recorded then.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from api.deps import request_session
from api.security import issue_token, principal_of
from config.settings import Settings
from domain.model import Actor, Role, Status
from persistence.db import reading_sessions
from persistence.models import AuditEvent, Certificate
from persistence.repositories import CertificateRepository, TaskRepository
from persistence.repositories.operations import OperationsRepository
from persistence.seed import demo_user_id

Read = Callable[[], Awaitable[object]]
# A long timeline: a time-frame certificate with many customs entries has thousands of events.
TIMELINE_EVENTS = 5_000


@dataclass(frozen=True)
class HttpTiming:
    name: str
    http_p50: float
    http_p95: float
    # The endpoint's statements, as a request runs them (see the module's docstring).
    sql_p50: float
    sql_p95: float
    # The main query alone, in a warm session.
    query_p50: float
    query_p95: float
    # The same request sent with httpx: the client library's own cost included.
    httpx_p50: float

    @property
    def ratio(self) -> float:
        return self.http_p50 / self.sql_p50 if self.sql_p50 else float("inf")

    @property
    def query_ratio(self) -> float:
        return self.http_p50 / self.query_p50 if self.query_p50 else float("inf")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


class KeepAliveClient:
    """GET over one HTTP/1.1 keep-alive connection, and nothing more: the request written in one
    piece, the answer's head read up to its blank line and its body by its Content-Length. A
    connection the server closed while it sat idle (uvicorn's keep-alive timeout) is opened
    anew; `sampled`'s untimed first run is the one that pays for it."""

    def __init__(self, base_url: str) -> None:
        url = httpx.URL(base_url)
        self.host, self.port = url.host, url.port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, headers: dict[str, str], params: dict[str, Any]) -> bytes:
        """The body of a 200 answer; anything else raises."""
        try:
            return await self._get(path, headers, params)
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            return await self._get(path, headers, params)

    async def _get(self, path: str, headers: dict[str, str], params: dict[str, Any]) -> bytes:
        if self.reader is None or self.writer is None or self.reader.at_eof():
            await self.close()
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        target = f"{path}?{urlencode(params)}" if params else path
        lines = [
            f"GET {target} HTTP/1.1",
            "Host: bench",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length = next(
            (
                int(v)
                for k, _, v in (f.partition(":") for f in fields)
                if k.lower() == "content-length"
            ),
            None,
        )
        if length is None:
            raise RuntimeError(f"GET {path}: an answer without Content-Length ({status})")
        body = await self.reader.readexactly(length)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
        return body

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def keep_alive(base_url: str) -> AsyncIterator[KeepAliveClient]:
    client = KeepAliveClient(base_url)
    try:
        yield client
    finally:
        await client.close()


async def sampled(run: Read, repeat: int) -> tuple[float, float]:
    await run()  # warm caches, the connection pool and the statement cache
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - began) * 1000)
    return percentiles(samples)


async def long_timeline(sessions: async_sessionmaker[AsyncSession]) -> str:
    """One of certifier 555's certificates, given a timeline of TIMELINE_EVENTS events."""
    async with sessions() as session, session.begin():
        certificate_id = await session.scalar(
            select(Certificate.id).where(Certificate.certifier_id == "555").limit(1)
        )
        assert certificate_id is not None, "the fill gives certifier 555 certificates"
        start = datetime(2026, 1, 1, tzinfo=UTC)
        await session.execute(
            insert(AuditEvent),
            [
                {
                    "workflow_id": f"certificate-{certificate_id}",
                    "run_id": "",
                    "seq": seq,
                    "certificate_id": certificate_id,
                    "at": start + timedelta(seconds=seq),
                    "actor_id": "system",
                    "actor_role": Role.SYSTEM,
                    "action": "entry_recorded",
                    "from_status": Status.DELIVERED,
                    "to_status": Status.DELIVERED,
                    "detail": {"entry_number": f"E{seq}", "line_number": 1},
                }
                for seq in range(1, TIMELINE_EVENTS + 1)
            ],
        )
    return certificate_id


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
    """The API on a free loopback port, for the duration of the block; its base URL."""
    app = create_app(settings, sessions=sessions)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # the server failed to start: say why
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def bench_http(
    sessions: async_sessionmaker[AsyncSession], database_url: str, repeat: int, scratch: Path
) -> list[HttpTiming]:
    certificate_id = await long_timeline(sessions)
    settings = Settings(
        env="test", data_dir=scratch, database_url=database_url, jwt_secret=uuid.uuid4().hex * 2
    )
    certifier = demo_user_id("certifier@demo.test")
    actor = Actor(certifier, Role.CERTIFIER, "555")
    exporter = Actor(demo_user_id("exporter@demo.test"), Role.EXPORTER, "5550000001")
    admin = Actor(demo_user_id("admin@demo.test"), Role.ADMIN, None)
    async with (
        serving(settings, sessions) as base_url,
        keep_alive(base_url) as http,
        httpx.AsyncClient(base_url=base_url, timeout=30) as httpx_client,
        sessions() as session,
    ):
        tasks, certificates = TaskRepository(session), CertificateRepository(session)
        operations = OperationsRepository(session)

        # Each user's token signed once, before the clock runs: signing is the client's work.
        tokens = {
            user.user_id: {"Authorization": f"Bearer {issue_token(settings, user.user_id)}"}
            for user in (actor, exporter, admin)
        }

        async def get(path: str, user: Actor, **params: Any) -> object:
            return await http.get(path, tokens[user.user_id], params)

        def with_httpx(path: str, user: Actor, **params: Any) -> Read:
            async def run() -> object:
                answer = await httpx_client.get(path, params=params, headers=tokens[user.user_id])
                answer.raise_for_status()
                return answer

            return run

        # The routes timed here only read (api.deps.reads_only): their requests' sessions run
        # without a transaction of their own, and so do these.
        reading = reading_sessions(sessions)

        def as_request(user: Actor, read: Callable[[AsyncSession], Awaitable[object]]) -> Read:
            """The endpoint's statements: the token's user, then `read`, in a request's session."""

            async def run() -> object:
                async with request_session(reading) as own:
                    await principal_of(own, user.user_id)
                    return await read(own)

            return run

        deep = (await tasks.queue(actor, now=datetime.now(UTC), limit=50)).next_cursor
        for _ in range(19):  # page 21, as a certifier paging through the queue reaches it
            deep = (
                await tasks.queue(actor, now=datetime.now(UTC), limit=50, cursor=deep)
            ).next_cursor
        timeline = f"/api/certificates/{certificate_id}/events"
        # Each read: over HTTP, the endpoint's statements, the main query alone, over HTTP by httpx.
        reads: dict[str, tuple[Read, Read, Read, Read]] = {
            "queue: first page": (
                lambda: get("/api/tasks", actor, limit=50),
                as_request(
                    actor,
                    lambda own: TaskRepository(own).queue(actor, now=datetime.now(UTC), limit=50),
                ),
                lambda: tasks.queue(actor, now=datetime.now(UTC), limit=50),
                with_httpx("/api/tasks", actor, limit=50),
            ),
            "queue: page 21 by cursor": (
                lambda: get("/api/tasks", actor, limit=50, **({"cursor": deep} if deep else {})),
                as_request(
                    actor,
                    lambda own: TaskRepository(own).queue(
                        actor, now=datetime.now(UTC), limit=50, cursor=deep
                    ),
                ),
                lambda: tasks.queue(actor, now=datetime.now(UTC), limit=50, cursor=deep),
                with_httpx("/api/tasks", actor, limit=50, **({"cursor": deep} if deep else {})),
            ),
            "exporter's certificates": (
                lambda: get("/api/certificates", exporter, limit=50),
                as_request(
                    exporter,
                    lambda own: CertificateRepository(own).list_visible(exporter, limit=50),
                ),
                lambda: certificates.list_visible(exporter, limit=50),
                with_httpx("/api/certificates", exporter, limit=50),
            ),
            f"timeline ({TIMELINE_EVENTS} events)": (
                lambda: get(timeline, actor, limit=100),
                # The certificate's visibility check, then the page of its events.
                as_request(
                    actor,
                    lambda own: CertificateRepository(own).events(actor, certificate_id, limit=100),
                ),
                lambda: certificates.events(actor, certificate_id, limit=100),
                with_httpx(timeline, actor, limit=100),
            ),
            "admin stats": (
                lambda: get("/api/admin/stats", admin),
                as_request(admin, lambda own: OperationsRepository(own).stats(datetime.now(UTC))),
                lambda: operations.stats(datetime.now(UTC)),
                with_httpx("/api/admin/stats", admin),
            ),
        }
        timings = []
        for name, (over_http, statements, query, by_httpx) in reads.items():
            http_p50, http_p95 = await sampled(over_http, repeat)
            sql_p50, sql_p95 = await sampled(statements, repeat)
            query_p50, query_p95 = await sampled(query, repeat)
            httpx_p50, _ = await sampled(by_httpx, repeat)
            timings.append(
                HttpTiming(
                    name, http_p50, http_p95, sql_p50, sql_p95, query_p50, query_p95, httpx_p50
                )
            )
    return timings


def print_http(timings: list[HttpTiming], repeat: int) -> None:
    print(
        f"\nover HTTP (one keep-alive connection, a minimal client) against the endpoint's"
        f" statements (sql: the token's user, then the read's queries, in a session of their own"
        f" as a request opens it) and against the main query alone in a warm session (query);"
        f" httpx p50: the same requests sent with httpx; {repeat} runs each (ms)"
    )
    print(
        f"{'read':<28}{'http p50':>10}{'http p95':>10}{'httpx p50':>11}{'sql p50':>10}"
        f"{'sql p95':>10}{'ratio':>8}{'query p50':>11}{'query p95':>11}{'ratio':>8}"
    )
    for t in timings:
        print(
            f"{t.name:<28}{t.http_p50:>10.2f}{t.http_p95:>10.2f}{t.httpx_p50:>11.2f}"
            f"{t.sql_p50:>10.2f}{t.sql_p95:>10.2f}{t.ratio:>7.1f}x"
            f"{t.query_p50:>11.2f}{t.query_p95:>11.2f}{t.query_ratio:>7.1f}x"
        )
