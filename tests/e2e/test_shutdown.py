"""Stopping real `nopic worker` and `nopic api` processes as `docker stop` does (SIGTERM):
work in flight is finished or handed back, never lost or done twice, and each process ends
within its bound (cli.shutdown), below compose's stop_grace_period."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from cli.shutdown import API_GRACEFUL_SHUTDOWN, EXIT_SHUTDOWN_OVERDUE, WORKER_SHUTDOWN_BOUND
from cli.worker import GRACEFUL_SHUTDOWN
from persistence.db import create_engine, create_sessionmaker
from persistence.models import OutboxMessage
from tests.e2e.lifecycles import (
    CERTIFIER,
    CERTIFIER2,
    EXPORTER,
    IMPORTER,
    Lifecycle,
    PatientClient,
    live,
    request_body,
)
from tests.e2e.services import Cluster, Service, running_cluster
from tests.e2e.stack import free_port
from workflows._activities import INLINE_SMTP_TIMEOUT

# Process start and exit on a loaded 2-core machine, beyond the bound itself.
SLACK_SECONDS = 3.0
WORKER_BOUND = WORKER_SHUTDOWN_BOUND.total_seconds() + SLACK_SECONDS
API_BOUND = API_GRACEFUL_SHUTDOWN.total_seconds() + SLACK_SECONDS
LIFE_SECONDS = 120.0
MAIL_SECONDS = 60.0


class HoldingSink:
    """An SMTP server (aiosmtpd on loopback) that can keep the next message at one stage for a
    while, so that a send is in flight when the worker is told to stop."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.holding = threading.Event()
        self._hold: tuple[str, float] | None = None

    def hold_next(self, stage: str, seconds: float) -> None:
        self.holding.clear()
        self._hold = (stage, seconds)

    async def _maybe_hold(self, stage: str) -> None:
        if self._hold is not None and self._hold[0] == stage:
            seconds, self._hold = self._hold[1], None
            self.holding.set()
            await asyncio.sleep(seconds)

    async def handle_MAIL(
        self, _server: Any, _session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        # Before the message is sent: a sender that goes away here has delivered nothing.
        await self._maybe_hold("MAIL")
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        # The whole message is here and the sender waits for the reply that makes it delivered.
        await self._maybe_hold("DATA")
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def sink() -> Iterator[tuple[HoldingSink, int]]:
    handler = HoldingSink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(scope="module")
async def cluster(
    tmp_path_factory: pytest.TempPathFactory, sink: tuple[HoldingSink, int]
) -> AsyncIterator[Cluster]:
    async with running_cluster(tmp_path_factory.mktemp("shutdown"), sink[1]) as running:
        yield running


def queue() -> dict[str, str]:
    """A task queue of the test's own: the workers of one test never take another's tasks."""
    return {"temporal_task_queue": f"shutdown-{uuid.uuid4().hex[:8]}"}


async def sent_once(cluster: Cluster, messages: list[EmailMessage], certificate_id: str) -> int:
    """How many mails the certificate's outbox sent, each found in the sink exactly once, once
    the last of them is sent (a mail handed back waits for its retry's backoff)."""
    engine = create_engine(cluster.env["NOPIC_DATABASE_URL"])
    query = select(OutboxMessage).where(OutboxMessage.certificate_id == certificate_id)
    deadline = time.monotonic() + MAIL_SECONDS
    try:
        while True:
            async with create_sessionmaker(engine)() as session:
                rows = (await session.scalars(query)).all()
            unsent = [row.key for row in rows if row.sent_at is None]
            if rows and not unsent:
                break
            assert time.monotonic() < deadline, f"not sent in {MAIL_SECONDS:.0f} s: {unsent}"
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    received = [str(m["Message-ID"]) for m in messages]
    for row in rows:
        assert received.count(row.message_id) == 1, (row.key, received.count(row.message_id))
    return len(rows)


async def stop_worker_mid_mail(
    cluster: Cluster, sink: HoldingSink, stage: str, hold: float, life: Lifecycle
) -> tuple[int, float, Service]:
    """One lifecycle over HTTP; SIGTERM to the only worker while the server holds its first
    mail at `stage` for `hold` s, then a second worker. Returns how the first one exited, and
    the seconds from the hold's start to that exit."""
    settings = queue()
    first = cluster.worker("worker-first", **settings)
    _, url = cluster.api("api-mail", **settings)
    sink.hold_next(stage, hold)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        client = await PatientClient.signed_in(http, EXPORTER, CERTIFIER, CERTIFIER2, IMPORTER)
        living = asyncio.create_task(live(client, life, random.Random(5)))
        try:
            assert await asyncio.to_thread(sink.holding.wait, 60), "no mail was sent"
            held_at = time.monotonic()
            first.send(signal.SIGTERM)
            second = await asyncio.to_thread(cluster.worker, "worker-second", **settings)
            code, seconds = await asyncio.to_thread(first.wait_exit)
            assert seconds < WORKER_BOUND, seconds
            exited_after_hold = time.monotonic() - held_at
            await asyncio.wait_for(living, LIFE_SECONDS)
        finally:
            living.cancel()
        assert not client.unexpected, client.unexpected
        assert (await client.certificate(life.certificate_id, IMPORTER))["status"] == "used"
    # Submitted for review, issued to the exporter, its copy to the importer, at least.
    assert await sent_once(cluster, sink.messages, life.certificate_id) >= 3
    second.stop()
    return code, exited_after_hold, first


async def test_stopped_worker_finishes_the_mail_it_is_sending(
    cluster: Cluster, sink: tuple[HoldingSink, int]
) -> None:
    hold = 3.0
    code, exited_after_hold, first = await stop_worker_mid_mail(
        cluster, sink[0], "DATA", hold, Lifecycle(10, "use")
    )
    assert code == 0, first.tail()
    # It waited for the server's reply rather than cutting the send off.
    assert exited_after_hold > hold, exited_after_hold
    assert "worker stopped" in first.output()


async def test_stopped_worker_hands_back_the_mail_it_could_not_finish(
    cluster: Cluster, sink: tuple[HoldingSink, int]
) -> None:
    # Longer than the grace period and than the mail's inline try (INLINE_SMTP_TIMEOUT): the
    # try is cut off, the worker stops without waiting for the server, and the second worker
    # sends the mail, once (checked in stop_worker_mid_mail).
    hold = GRACEFUL_SHUTDOWN.total_seconds() + 5
    code, exited_after_hold, first = await stop_worker_mid_mail(
        cluster, sink[0], "MAIL", hold, Lifecycle(11, "use")
    )
    assert code == 0, first.tail()
    bound = min(GRACEFUL_SHUTDOWN, INLINE_SMTP_TIMEOUT).total_seconds()
    assert bound < exited_after_hold < hold, exited_after_hold


async def test_stopped_api_answers_the_request_in_flight(cluster: Cluster) -> None:
    settings = queue()
    worker = cluster.worker("worker-api-test", **settings)
    api, url = cluster.api("api-stopped", **settings)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        client = await PatientClient.signed_in(http, EXPORTER, CERTIFIER)
        life = Lifecycle(12, "use")
        created = await client.command(
            "/api/requests", EXPORTER, "stop-rq", request_body(life, "single_shipment"), expect=201
        )
        task = await client.live_task(created["certificates"][0]["id"])
        # A paused worker makes the claim wait on its update: a slow request, for real.
        os.kill(worker.pid, signal.SIGSTOP)
        try:
            claim = asyncio.create_task(
                http.post(
                    f"/api/tasks/{task['id']}/claim",
                    headers={**client.tokens[CERTIFIER], "Idempotency-Key": "stop-claim"},
                )
            )
            await asyncio.sleep(1)
            api.send(signal.SIGTERM)
            await asyncio.sleep(1)
            assert not claim.done()
        finally:
            os.kill(worker.pid, signal.SIGCONT)
        answer = await claim
        assert answer.status_code == 200, answer.text
        assert answer.json()["assignee"] is not None
    code, seconds = await asyncio.to_thread(api.wait_exit)
    # Uvicorn raises the signal again once it has shut down, so the status says what stopped
    # it (143 in a shell, as docker shows it); the log says the shutdown was complete.
    assert code == -signal.SIGTERM, api.tail()
    assert "Application shutdown complete" in api.output()
    assert seconds < API_BOUND, seconds
    worker.stop()


async def test_worker_with_a_local_activity_retrying_forever_still_stops(
    cluster: Cluster,
) -> None:
    settings = queue()
    # Its database refuses every connection: the workflow's first write, a local activity, is
    # retried for as long as the worker runs.
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nopic"
    worker = cluster.worker("worker-no-database", **settings, database_url=nowhere)
    _, url = cluster.api("api-for-stuck", **settings)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        client = await PatientClient.signed_in(http, EXPORTER)
        body = request_body(Lifecycle(13, "use"), "single_shipment")
        # Whatever the answer (the API may wait for the write in vain): the workflow started.
        await http.post("/api/requests", json=body, headers=client.tokens[EXPORTER])
    await asyncio.to_thread(worker.wait_for_output, "could not record the failing step")
    code, seconds = await asyncio.to_thread(worker.stop, signal.SIGTERM)
    # The SDK's core (temporalio 1.35) waits for the local activity, so the bound ends it.
    assert code == EXIT_SHUTDOWN_OVERDUE, worker.tail()
    assert "worker shutdown outlived" in worker.output()
    assert seconds < WORKER_BOUND, seconds
