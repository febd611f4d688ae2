"""The API's log: one JSON line per event, each request's lines under its request id, one access
line per request by route template, and no secret or trade data in any line."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from config.settings import Settings
from persistence.models import Organisation, User
from persistence.passwords import hash_password
from tests.api.conftest import serve
from tests.api.flow import CERTIFIER, EXPORTER, IMPORTER, Auth, approve, line, wait_status
from tests.api.test_login_throttling import page_login
from tests.api.web.test_sessions import cookie_value, set_cookies
from tests.logs import json_log
from tests.persistence.factories import import_request, record


def access_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "api.access"]


async def test_a_request_logs_one_access_line_under_the_id_it_answers_with(
    api: httpx.AsyncClient, auth: Auth
):
    certificate_id = str(uuid.uuid4())
    with json_log() as log:
        answer = await api.get(f"/api/certificates/{certificate_id}", headers=auth(CERTIFIER))

    [access] = access_lines(log.lines())
    request_id = answer.headers["X-Request-ID"]
    assert uuid.UUID(request_id)
    assert access["request_id"] == request_id
    assert access["method"] == "GET"
    assert access["route"] == "/api/certificates/{certificate_id}"
    assert access["status"] == 404
    assert access["duration_ms"] >= 0
    assert access["certificate_id"] == certificate_id
    assert access["level"] == "INFO"
    assert access["time"].endswith("+00:00")


async def test_the_callers_request_id_is_kept(api: httpx.AsyncClient):
    with json_log() as log:
        answer = await api.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42_x"})

    assert answer.headers["X-Request-ID"] == "lb-7f3a.42_x"
    assert {line["request_id"] for line in log.lines()} == {"lb-7f3a.42_x"}


@pytest.mark.parametrize(
    "given", [b"a" * 65, b"two words", b"-starts-with-dash", b'quote"d', "é".encode()]
)
async def test_a_request_id_that_is_not_a_short_token_is_replaced(
    api: httpx.AsyncClient, given: bytes
):
    answer = await api.get("/healthz", headers=[(b"X-Request-ID", given)])

    assert uuid.UUID(answer.headers["X-Request-ID"])


async def test_a_refused_body_is_logged_by_the_route_it_was_sent_to(
    api: httpx.AsyncClient, auth: Auth
):
    with json_log() as log:
        answer = await api.post(
            "/api/requests", content=b"x" * (1024 * 1024 + 1), headers=auth(EXPORTER)
        )

    assert answer.status_code == 413
    [access] = access_lines(log.lines())
    assert (access["route"], access["status"]) == ("/api/requests", 413)
    assert access["request_id"] == answer.headers["X-Request-ID"]


async def test_a_command_logs_under_its_certificate_and_request(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], auth: Auth
):
    # Temporal out of reach: the gateway's warning is the line the command writes.
    away = settings.model_copy(update={"temporal_port": 1, "temporal_rpc_timeout_seconds": 1})
    [certificate_id] = await record(sessions, import_request())
    with json_log() as log:
        async for api in serve(create_app(away, sessions=sessions)):
            answer = await api.post(
                f"/api/certificates/{certificate_id}/withdraw",
                json={"reason": "sold elsewhere"},
                headers=auth(EXPORTER),
            )

    assert answer.status_code == 503, answer.text
    [warning] = [line for line in log.lines() if line["logger"] == "api.temporal"]
    assert warning["level"] == "WARNING"
    assert warning["certificate_id"] == certificate_id
    assert warning["request_id"] == answer.headers["X-Request-ID"]


async def test_no_log_line_carries_a_password_a_token_a_code_or_trade_data(
    live_api: httpx.AsyncClient,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
):
    password = f"pw-{uuid.uuid4().hex}"
    product = f"Heirloom avocados {uuid.uuid4().hex[:8]}"
    async with sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.email == EXPORTER).values(password_hash=hash_password(password))
        )
        parties = (await session.scalars(select(Organisation))).all()
    with json_log() as log:
        login = await live_api.post(
            "/api/auth/token", data={"username": EXPORTER, "password": password}
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        me = await live_api.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        # Failed sign-ins, up to the throttle's refusal, by the API and by the login page.
        wrong_passwords = [
            f"wrong-{uuid.uuid4().hex}" for _ in range(settings.login_failures_allowed + 2)
        ]
        refused = [
            await live_api.post("/api/auth/token", data={"username": IMPORTER, "password": p})
            for p in wrong_passwords[:-1]
        ]
        assert [r.status_code for r in refused] == [401] * settings.login_failures_allowed + [429]
        page_refused = await page_login(live_api, IMPORTER, wrong_passwords[-1])
        assert page_refused.status_code == 429
        signed_in = await page_login(live_api, EXPORTER, password)
        assert signed_in.status_code == 303
        cookie = cookie_value(set_cookies(signed_in)["nopic_session"])
        home = await live_api.get("/", headers={"Cookie": f"nopic_session={cookie}"})
        assert EXPORTER in home.text
        certificate_id = await approve(
            live_api, auth, lines=[line(product_name=product, quantity_kg=17389.25)]
        )
        issued = await wait_status(live_api, auth, certificate_id, "delivered", email=IMPORTER)
        code = issued["verification_code"]
        verified = await live_api.get(f"/api/verify/{issued['number']}", params={"code": code})
        assert verified.status_code == 200
        wrong = await live_api.get(f"/api/verify/{issued['number']}", params={"code": "guess123"})
        assert wrong.status_code == 404

    lines = log.lines()
    routes = {line.get("route") for line in access_lines(lines)}
    assert {
        "/",
        "/api/auth/token",
        "/api/verify/{number}",
        "/api/certificates/{certificate_id}",
    } <= routes
    statuses = {line.get("status") for line in access_lines(lines)}
    assert {200, 303, 401, 429} <= statuses
    secrets = {
        "password": password,
        "token": token,
        "session cookie": cookie,
        **{f"wrong password {n}": p for n, p in enumerate(wrong_passwords)},
        "verification code": code,
        "guessed code": "guess123",
        "product name": product,
        "quantity": "17389.25",
        **{f"party {party.id}": party.name for party in parties},
    }
    leaks = [
        f"{what} in: {text}"
        for text in log.text.splitlines()
        for what, secret in secrets.items()
        if secret in text
    ]
    assert leaks == []
