"""A certificate's timeline is paged by the query itself: thousands of events, one page read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.errors import Invalid
from persistence.repositories import CertificateRepository
from persistence.repositories.pagination import encode_cursor
from tests.helpers import actor_for
from tests.persistence.factories import import_request, record, timeline

EVENTS = 5_000


@contextmanager
def statements(sessions: async_sessionmaker[AsyncSession]) -> Iterator[list[str]]:
    """The SQL the database is sent while the block runs."""
    engine: AsyncEngine = sessions.kw["bind"]
    seen: list[str] = []

    def collect(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", collect)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", collect)


async def test_thousands_of_events_page_through_in_order_each_once(db):
    [certificate_id] = await record(db, import_request())
    await timeline(db, certificate_id, EVENTS)
    importer = await actor_for(db, "importer@demo.test")
    seqs: list[int] = []
    cursor = None
    async with db() as session:
        repo = CertificateRepository(session)
        for _ in range(EVENTS // 200 + 1):
            page = await repo.events(importer, certificate_id, limit=200, cursor=cursor)
            seqs += [e.seq for e in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seqs == list(range(1, EVENTS + 1))
    assert cursor is None


async def test_a_page_of_the_timeline_reads_only_that_page(db):
    [certificate_id] = await record(db, import_request())
    await timeline(db, certificate_id, EVENTS)
    exporter = await actor_for(db, "exporter@demo.test")
    async with db() as session:
        repo = CertificateRepository(session)
        first = await repo.events(exporter, certificate_id, limit=50)
        with statements(db) as sent:
            second = await repo.events(exporter, certificate_id, limit=50, cursor=first.next_cursor)
    [query] = [sql for sql in sent if "FROM audit_events" in sql]
    assert "LIMIT" in query.upper()
    assert [e.seq for e in second.items] == list(range(51, 101))
    assert second.next_cursor is not None


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        encode_cursor("2026-11-02T09:00:00+00:00"),
        encode_cursor("not a date", "1"),
        encode_cursor("2026-11-02T09:00:00+00:00", "not an id"),
    ],
)
async def test_a_forged_timeline_cursor_is_invalid(db, cursor):
    [certificate_id] = await record(db, import_request())
    exporter = await actor_for(db, "exporter@demo.test")
    async with db() as session:
        with pytest.raises(Invalid):
            await CertificateRepository(session).events(exporter, certificate_id, cursor=cursor)
