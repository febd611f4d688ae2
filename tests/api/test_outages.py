"""SMTP down for a while (issue 6, point 8), through the API with the real workflows, worker
and a real SMTP server that the test stops and starts again on the same port.

Deliveries wait and go out once the server is back, each message once; meanwhile the durable
timers of every certificate fire on time and commands keep answering. The database out of reach
is tests/api/test_database_outages.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from persistence.models import AuditEvent, OutboxMessage
from tests.api.conftest import settings_for
from tests.api.flow import (
    CERTIFIER,
    IMPORTER,
    Auth,
    approve,
    eventually,
    in_force,
    in_review,
    wait_status,
)
from tests.conftest import SmtpServer, _RecordingHandler, free_port

DAY = 86_400.0
INFO_REMINDER, INFO_LAPSE, ACK_REMINDER = 3.0, 7.0, 10.0
# How late a timer may fire on a busy machine and still be on time.
LATE = 4.0


class SwitchableSmtp:
    """A real SMTP server on one port, stopped and started again; what it received in order."""

    def __init__(self) -> None:
        self.server = SmtpServer(host="127.0.0.1", port=free_port())
        self.controller: Controller | None = None

    def start(self) -> None:
        handler = _RecordingHandler(self.server)
        self.controller = Controller(handler, hostname=self.server.host, port=self.server.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SwitchableSmtp]:
    server = SwitchableSmtp()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, temporal_client: Client, smtp: SwitchableSmtp):
    """Timers of seconds, and deliveries retried every second while SMTP is away."""
    address = temporal_client.service_client.config.target_host
    base = settings_for(database_url, tmp_path, temporal_address=address, smtp=smtp.server)
    return base.model_copy(
        update={
            "info_reminder_days": INFO_REMINDER / DAY,
            "info_lapse_days": INFO_LAPSE / DAY,
            "acknowledgement_reminder_days": ACK_REMINDER / DAY,
            "delivery_retry_max_seconds": 1,
        }
    )


async def timeline(
    sessions: async_sessionmaker[AsyncSession], certificate_id: str
) -> dict[str, datetime]:
    """When each action of the certificate happened (the last time, for a repeated one)."""
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.at)
            .where(AuditEvent.certificate_id == certificate_id)
            .order_by(AuditEvent.seq)
        )
        return dict(rows.all())


async def outbox(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMessage)))


async def all_sent(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage] | None:
    rows = [row for row in await outbox(sessions) if row.recipients]
    return rows if all(row.sent_at is not None for row in rows) else None


async def timed(command: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await command
    return response, time.monotonic() - started


def fired_after(events: dict[str, datetime], start: str, action: str, seconds: float) -> float:
    """How late `action` came after `seconds` from `start`, asserting it did not come early."""
    late = (events[action] - events[start]).total_seconds() - seconds
    assert late >= 0, f"{action} fired {-late:.1f} s early"
    return late


async def status_is(api: httpx.AsyncClient, auth: Auth, certificate_id: str, status: str) -> bool:
    response = await api.get(f"/api/certificates/{certificate_id}", headers=auth(CERTIFIER))
    return bool(response.json()["status"] == status)


async def has_event(
    sessions: async_sessionmaker[AsyncSession], certificate_id: str, action: str
) -> bool:
    return action in await timeline(sessions, certificate_id)


async def test_mail_waits_out_an_smtp_outage_while_timers_fire_on_time(
    live_api: httpx.AsyncClient,
    auth: Auth,
    smtp: SwitchableSmtp,
    sessions: async_sessionmaker[AsyncSession],
):
    asked_id, asked_task = await in_review(live_api, auth, **in_force())
    approved_id, approved_task = await in_review(live_api, auth, **in_force())
    for task in (asked_task, approved_task):
        claimed = await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
        assert claimed.status_code == 200, claimed.text
    # Delivered just before the outage: its acknowledgement reminder falls within it.
    reminded_id = await approve(live_api, auth)
    await wait_status(live_api, auth, reminded_id, "delivered")
    await eventually(lambda: all_sent(sessions), what="the mail before the outage")
    before = len(smtp.server.received)

    smtp.stop()
    down_at = datetime.now(UTC)
    question = {"decision": "request_info", "comment": "Which orchard?"}
    asked, asking = await timed(
        live_api.post(
            f"/api/certificates/{asked_id}/decision", json=question, headers=auth(CERTIFIER)
        )
    )
    approval, approving = await timed(
        live_api.post(
            f"/api/certificates/{approved_id}/decision",
            json={"decision": "approve"},
            headers=auth(CERTIFIER),
        )
    )
    assert (asked.status_code, approval.status_code) == (200, 200), asked.text + approval.text
    await wait_status(live_api, auth, approved_id, "issued")
    # The timers: the question's reminder and lapse, the delivered one's reminder.
    await eventually(
        lambda: status_is(live_api, auth, asked_id, "withdrawn"),
        timeout=INFO_LAPSE + 20,
        what="the unanswered question to lapse",
    )
    await eventually(
        lambda: has_event(sessions, reminded_id, "acknowledgement_reminder"),
        timeout=ACK_REMINDER + 20,
        what="the acknowledgement reminder",
    )
    acknowledged, acknowledging = await timed(
        live_api.post(f"/api/certificates/{approved_id}/acknowledge", headers=auth(IMPORTER))
    )
    still = (await live_api.get(f"/api/certificates/{approved_id}", headers=auth(IMPORTER))).json()
    waiting = [row for row in await outbox(sessions) if row.sent_at is None]
    up_at = datetime.now(UTC)
    smtp.start()

    assert acknowledged.status_code == 200, acknowledged.text
    assert max(asking, approving, acknowledging) < 5, "commands wait for SMTP"
    assert still["status"] == "issued", "delivered with SMTP down"
    assert len(smtp.server.received) == before
    assert any(row.certificate_id == approved_id and row.attempts >= 2 for row in waiting)
    asked_events = await timeline(sessions, asked_id)
    reminded_events = await timeline(sessions, reminded_id)
    lateness = {
        "info reminder": fired_after(
            asked_events, "info_requested", "info_reminder", INFO_REMINDER
        ),
        "lapse": fired_after(asked_events, "info_requested", "lapsed", INFO_LAPSE),
        "acknowledgement reminder": fired_after(
            reminded_events, "delivered", "acknowledgement_reminder", ACK_REMINDER
        ),
    }
    assert all(late < LATE for late in lateness.values()), lateness
    fired = [asked_events["lapsed"], reminded_events["acknowledgement_reminder"]]
    assert all(down_at < at < up_at for at in fired), "the timers did not fire during the outage"

    # Back up: the delivery goes out, and every message waiting goes out once.
    await wait_status(live_api, auth, approved_id, "delivered")
    sent = await eventually(lambda: all_sent(sessions), timeout=60, what="the waiting mail")
    copies = Counter(str(message["Message-ID"]) for message in smtp.server.messages)
    assert [m for m, n in copies.items() if n > 1] == []
    assert set(copies) == {row.message_id for row in sent}
    templates = {row.key.split(":")[2] for row in sent if row.sent_at and row.sent_at > down_at}
    assert {"info_requested", "info_reminder", "info_lapsed", "certificate_issued"} <= templates
    assert "acknowledgement_reminder" in templates
