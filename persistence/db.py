"""Engine and sessions. Repositories never commit: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the worker writes; busy_timeout waits out the other writer.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # A statement's parameters in an error's text would reach the logs: passwords' hashes,
    # product names, quantities, verification codes. The statement alone says what failed.
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # A connection the server dropped (a restart, a failover, an idle timeout) is found and
    # replaced before a request gets it, as `pool_pre_ping` would, in one round trip instead of
    # its three (BEGIN, the ping, ROLLBACK).
    ping = kwargs.pop("pool_pre_ping", True)
    engine = create_async_engine(url, **kwargs)
    if ping:
        event.listen(engine.sync_engine, "connect", _mark_fresh)
        event.listen(engine.sync_engine, "checkout", _ping_on_checkout)
    return engine


_FRESH = "nopic.fresh"


def _mark_fresh(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info[_FRESH] = True


def _ping_on_checkout(_dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    """PostgreSQL's pessimistic disconnect check: an empty statement on every checkout but the
    first of a new connection. A connection that does not answer is discarded with every pooled
    connection as old as it (InvalidatePoolError), and the pool hands out a new one, exactly as
    `pool_pre_ping` does; any other error is raised as it came."""
    if record.info.pop(_FRESH, False):
        return
    driver: asyncpg.Connection = record.driver_connection
    try:
        await_(driver.fetchrow(";"))
    except Exception as exc:
        if driver.is_closed() or isinstance(exc, _DISCONNECTED):
            raise sa_exc.InvalidatePoolError(f"the connection was lost: {exc!r}") from exc
        raise


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# `Session.info` key of a session that reads only (`reading_sessions`).
READ_ONLY = "nopic.read_only"


def reading_sessions(
    sessions: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """Sessions like `sessions`' for requests that only read: their statements run without a
    transaction of their own (autocommit), so a read costs no BEGIN and no COMMIT round trip.

    Each statement sees what was committed when it started, as it does inside a transaction at
    READ COMMITTED, PostgreSQL's default and the level every session here runs at; on SQLite
    each statement reads one consistent snapshot of the file, too. A write in such a session is
    refused (ReadOnlySession) before it reaches the database."""
    engine = sessions.kw["bind"]
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        expire_on_commit=False,
        info={READ_ONLY: True},
    )


class ReadOnlySession(RuntimeError):
    """A statement that writes, sent in a session for reads only: a programming error."""


@event.listens_for(Session, "do_orm_execute")
def _refuse_writes(state: ORMExecuteState) -> None:
    if state.session.info.get(READ_ONLY) and not state.is_select:
        raise ReadOnlySession(f"a read-only session may not run {state.statement!r}")


@event.listens_for(Session, "before_flush")
def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlySession("a read-only session may not write")


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with sessions() as session, session.begin():
        yield session


# The database away, busy or out of connections, as asyncpg says it under SQLAlchemy's wrapper.
_PG_UNREACHABLE = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    # Class 53: disk full, out of memory: the server cannot take the write until an operator
    # frees what it lacks, and then the same write succeeds.
    asyncpg.exceptions.InsufficientResourcesError,
)
_UNREACHABLE = (
    OSError,  # refused, reset, timed out: also raised by asyncpg's connect before any wrapping
    sa_exc.OperationalError,  # SQLite locked or busy; PostgreSQL's server-side failures
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # no pooled connection free in time
    *_PG_UNREACHABLE,
)


# What says a pooled connection is gone, rather than that the server refused the statement.
_DISCONNECTED = (
    OSError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.PostgresConnectionError,
)


def database_unreachable(error: BaseException) -> bool:
    """True when `error` says the database is away, busy or slow, not that a query is wrong: a
    retry, or the same request a little later, may succeed."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, _UNREACHABLE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
