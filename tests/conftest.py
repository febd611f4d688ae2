"""Fixtures shared by every test package: a migrated, seeded database and a real SMTP server."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.db import create_engine, create_sessionmaker
from persistence.migrate import upgrade
from persistence.seed import seed_demo
from tests.helpers import postgres_database


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def migrate_and_seed(url: str) -> None:
    await upgrade(url)
    engine = create_engine(url)
    try:
        await seed_demo(create_sessionmaker(engine))
    finally:
        await engine.dispose()


BACKENDS = ["sqlite", "postgresql"]


@asynccontextmanager
async def seeded_on(backend: str, sqlite_database_url: str) -> AsyncIterator[str]:
    """The seeded SQLite database given, or a fresh seeded one on the real PostgreSQL (dropped
    afterwards): for tests that run on both (`pytest.fixture(params=BACKENDS)`)."""
    if backend == "sqlite":
        yield sqlite_database_url
        return
    async with postgres_database() as url:
        await migrate_and_seed(url)
        yield url


@pytest.fixture(scope="session")
async def _seeded_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Migrating and hashing the demo password once per run; each test gets a copy of the file.
    path = tmp_path_factory.mktemp("template") / "nopic.db"
    await migrate_and_seed(sqlite_url(path))
    return path


@pytest.fixture
def database_url(_seeded_sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite database of this test alone, migrated to head and seeded with the demo."""
    path = tmp_path / "nopic.db"
    # The engine that built the template is disposed, so its WAL is checkpointed into the file.
    shutil.copyfile(_seeded_sqlite_template, path)
    return sqlite_url(path)


@pytest.fixture(scope="session")
async def seeded_postgres_url() -> AsyncIterator[str]:
    """A database of this run on the local PostgreSQL server, migrated and seeded; for tests
    that only read it (each writing test makes a database of its own)."""
    async with postgres_database() as url:
        await migrate_and_seed(url)
        yield url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class SmtpServer:
    """What a real SMTP server on loopback received, parsed, in order of arrival."""

    host: str
    port: int
    received: list[ReceivedMail] = field(default_factory=list)

    @property
    def messages(self) -> list[EmailMessage]:
        return [mail.message for mail in self.received]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The first `count` messages, waiting for a worker that is still sending them."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} mails, got {len(self.received)}")
            await asyncio.sleep(0.05)
        return self.messages[:count]


class _RecordingHandler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.server.received.append(
            ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message)
        )
        return "250 Message accepted for delivery"


class RefusingHandler(_RecordingHandler):
    """A mail server that refuses some mailboxes for good (550), as a real one does."""

    def __init__(self, server: SmtpServer, refused: frozenset[str] = frozenset()) -> None:
        super().__init__(server)
        self.refused = refused

    async def handle_RCPT(
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@contextmanager
def serving(server: SmtpServer, refused: frozenset[str] = frozenset()) -> Iterator[None]:
    """`server` up for the block, refusing `refused` for good."""
    controller = Controller(
        RefusingHandler(server, refused), hostname=server.host, port=server.port
    )
    controller.start()
    try:
        yield
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(host="127.0.0.1", port=free_port())
    controller = Controller(_RecordingHandler(server), hostname=server.host, port=server.port)
    controller.start()
    yield server
    controller.stop()
