"""The database out of reach (issue 6, point 8), through the API with the real workflows.

PostgreSQL behind a real TCP relay that the test cuts: every endpoint that needs the database
answers 503 with the error body, never a 500, and at once; the workflows' activities retry, and
an approval sent to the workflow during the cut is held, then issued and delivered once the
database is back.

SQLite has no server to lose: the file is on this machine's disk. What takes it away for a while
is another writer holding its lock (a backup, an operator's fix by hand); the API and the worker
wait for it (busy timeout, 30 s) instead of failing, and reads go on meanwhile (WAL). A lock held
beyond the busy timeout gives the same 503 as PostgreSQL out of reach; half a minute is too long
to wait for in the suite.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from temporalio.client import Client

from api.app import create_app
from api.security import issue_token
from cli.worker import build_worker
from config.settings import Settings
from persistence.db import create_engine, create_sessionmaker
from persistence.seed import demo_user_id
from tests.api.conftest import settings_for
from tests.api.flow import (
    CERTIFIER,
    EXPORTER,
    IMPORTER,
    Auth,
    delivered,
    entry,
    eventually,
    in_force,
    in_review,
    line,
    request_body,
    wait_status,
)
from tests.conftest import SmtpServer, migrate_and_seed
from tests.helpers import postgres_database
from tests.tcp_proxy import TcpProxy
from workflows.contracts import (
    DECIDE,
    ActorRef,
    CommandResult,
    DecideInput,
    certificate_workflow_id,
)

# Shorter than the API's wait for an update, far shorter than SQLite's busy timeout.
LOCK_SECONDS = 2.0
# What answers without the database: the public key is the signing key's public half; the
# metrics, whose HTTP series an operator needs most while the database is away, say it is
# (nopic_database_up 0) instead of failing the scrape.
NO_DATABASE = frozenset({"/api/keys/signing", "/metrics"})


async def timed(request: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


def unavailable(response: httpx.Response) -> bool:
    """A 503 in the error shape of DESIGN 5."""
    if response.status_code != 503:
        return False
    body = response.json()
    return bool(body.get("code") == "unavailable" and isinstance(body.get("detail"), str))


def probes(ids: dict[str, str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, user, request arguments) for every operation of the OpenAPI document."""
    today = datetime.now(UTC).date().isoformat()
    bodies: dict[str, Any] = {
        "requests": request_body(**in_force()),
        "answer": {"message": "Orchard Santa Rosa"},
        "withdraw": {"reason": "sold elsewhere"},
        "decision": {"decision": "approve"},
        "void": {"reason": "lot recalled"},
        "terminate": {"reason": "the exporter closed"},
        "replace": {"quantity_kg": 500, "reason": "smaller lot"},
        "entries": entry("ENT-9001", 1, 10),
        "actuals": {"shipments": [{"reference": "S-1", "net_kg": 10, "date": today}]},
    }
    users = {
        "requests": EXPORTER,
        "answer": EXPORTER,
        "withdraw": EXPORTER,
        "actuals": EXPORTER,
        "acknowledge": IMPORTER,
        "entries": IMPORTER,
        "customs": IMPORTER,
    }
    spec = create_app(Settings(env="test", jwt_secret="x" * 48)).openapi()
    found = []
    for template, operations in spec["paths"].items():
        # The administrators' remedies name a workflow and a cause of stuck workflows.
        stuck = {"workflow_id": "certificate-x", "cause": "overdue_task:review", "remedy": "retry"}
        path = template.format(**stuck, **ids)
        last = path.rstrip("/").rsplit("/", 1)[-1]
        for method in operations:
            arguments: dict[str, Any] = {}
            if template == "/api/auth/token":
                arguments["data"] = {"username": CERTIFIER, "password": "demo"}
            elif method == "post":
                arguments["json"] = bodies.get(last, {})
            if template == "/api/verify/{number}":
                arguments["params"] = {"code": ids["code"]}
            found.append((method.upper(), path, users.get(last, CERTIFIER), arguments))
    return found


def retried_attempts(caplog: pytest.LogCaptureFixture, workflow_id: str) -> int | None:
    """The highest attempt of the workflow's activities that failed and were tried again, from
    the worker's log: a local activity retrying shows no pending activity on the server."""
    attempts = [
        int(getattr(record, "temporal_activity", {}).get("attempt", 0))
        for record in caplog.records
        if getattr(record, "temporal_activity", {}).get("workflow_id") == workflow_id
    ]
    highest = max(attempts, default=0)
    return highest if highest >= 2 else None


async def test_postgres_out_of_reach_answers_503_and_the_workflows_resume(
    temporal_client: Client,
    smtp_server: SmtpServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
):
    proxy = TcpProxy("127.0.0.1", 5432)
    await proxy.start()
    async with postgres_database() as direct_url:
        await migrate_and_seed(direct_url)
        url = make_url(direct_url).set(port=proxy.port).render_as_string(hide_password=False)
        address = temporal_client.service_client.config.target_host
        settings = settings_for(url, tmp_path, temporal_address=address, smtp=smtp_server)
        settings = settings.model_copy(update={"delivery_retry_max_seconds": 1})
        engine = create_engine(url)
        app = create_app(settings, sessions=create_sessionmaker(engine), temporal=temporal_client)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        try:
            async with (
                build_worker(temporal_client, settings, create_sessionmaker(engine)),
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://api") as api,
            ):
                await cut_off_and_back(api, settings, proxy, temporal_client, caplog)
        finally:
            await proxy.cut()
            await engine.dispose()


async def cut_off_and_back(
    api: httpx.AsyncClient,
    settings: Settings,
    proxy: TcpProxy,
    temporal: Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def auth(email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(settings, demo_user_id(email))}"}

    used = await delivered(api, auth, coverage="multiple_shipments", lines=[line(quantity_kg=900)])
    pending_id, task = await in_review(api, auth, **in_force())
    claimed = await api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    assert claimed.status_code == 200, claimed.text
    ids = {
        "certificate_id": used["id"],
        "request_id": used["request_id"],
        "task_id": task["id"],
        "number": used["number"],
        "code": used["verification_code"],
    }
    me = (await api.get("/api/me", headers=auth(CERTIFIER))).json()
    carmen = ActorRef(user_id=me["id"], role=me["role"], organisation_id=me["organisation"]["id"])

    # The database drops out of reach; an approval reaching the workflow meanwhile (straight
    # from Temporal: the API answers 503) is held until its projection is written.
    await proxy.cut()
    caplog.set_level(logging.WARNING, logger="temporalio.activity")
    handle = temporal.get_workflow_handle(certificate_workflow_id(pending_id))
    approving = asyncio.create_task(
        handle.execute_update(
            DECIDE, DecideInput(actor=carmen, decision="approve"), result_type=CommandResult
        )
    )
    answers = []
    for method, path, user, arguments in probes(ids):
        response, seconds = await timed(api.request(method, path, headers=auth(user), **arguments))
        answers.append((method, path, response, seconds))
    health = await api.get("/healthz")
    retried = await eventually(
        lambda: asyncio.sleep(0, retried_attempts(caplog, handle.id)),
        timeout=30,
        what="an activity retried while the database is away",
    )
    assert not approving.done()
    await proxy.restore()
    # Its answer is the certificate as the projection left it: approved, or issued already.
    assert (await approving).status in {"approved", "issued"}

    wrong = [
        f"{method} {path}: {r.status_code} {r.text[:200]}"
        for method, path, r, _ in answers
        if path not in NO_DATABASE and not unavailable(r)
    ]
    assert wrong == [], "\n".join(wrong)
    slow = [f"{m} {p}: {s:.1f} s" for m, p, _, s in answers if s > 5]
    assert slow == [], "the API waited for a database that is not there"
    assert (health.status_code, health.json()["database"]) == (503, "unavailable")
    [metrics] = [r for _, path, r, _ in answers if path == "/metrics"]
    assert metrics.status_code == 200
    assert "nopic_database_up 0.0" in metrics.text
    assert retried >= 2

    # Back: the approval made during the cut is issued and delivered, and the API answers.
    body = await wait_status(api, auth, pending_id, "delivered")
    assert body["number"] is not None
    assert (await api.get("/api/me", headers=auth(CERTIFIER))).status_code == 200
    assert proxy.relayed > 0


async def test_a_locked_sqlite_database_is_waited_out(
    live_api: httpx.AsyncClient, auth: Auth, database_url: str
):
    # Another writer holds the lock: reads answer, the approval's projection waits it out.
    certificate_id, task = await in_review(live_api, auth, **in_force())
    claimed = await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    assert claimed.status_code == 200, claimed.text
    path = make_url(database_url).database or ""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await asyncio.to_thread(holder.execute, "BEGIN EXCLUSIVE")
        approving = asyncio.create_task(
            live_api.post(
                f"/api/certificates/{certificate_id}/decision",
                json={"decision": "approve"},
                headers={**auth(CERTIFIER), "Idempotency-Key": "approve-once"},
            )
        )
        read, reading = await timed(
            live_api.get(f"/api/certificates/{certificate_id}", headers=auth(CERTIFIER))
        )
        await asyncio.sleep(LOCK_SECONDS)
        waiting = not approving.done()
    finally:
        await asyncio.to_thread(holder.execute, "ROLLBACK")
        holder.close()
    approval = await approving

    assert (read.status_code, read.json()["status"]) == (200, "in_review")
    assert reading < LOCK_SECONDS, "a read waited for the writer's lock"
    assert waiting, "the approval was written while another writer held the lock"
    assert approval.status_code == 200, approval.text
    body = await wait_status(live_api, auth, certificate_id, "delivered")
    assert body["number"] is not None
