"""The login throttle: 429 with Retry-After after too many failures of one email or one client
address, for the token endpoint and the login page alike, kept in the database so that every
API process counts the same failures."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from tests.api.flow import EXPORTER, IMPORTER
from tests.api.web.test_sessions import CSRF, cookie_value, set_cookies
from tests.conftest import BACKENDS, seeded_on

ALLOWED = 3  # failures of one email; an address gets four times as many
REFUSAL = re.compile(r"too many failed sign-ins: try again in (\d+) seconds")


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[str]:
    """The SQLite database of tests/conftest.py, or a fresh seeded one on the real PostgreSQL."""
    async with seeded_on(request.param, database_url) as url:
        yield url


@asynccontextmanager
async def api_process(
    settings: Settings,
    temporal: Client,
    *,
    window_seconds: float = 600,
    address: str = "192.0.2.10",
) -> AsyncIterator[httpx.AsyncClient]:
    """An API as its own process would be: its own engine on the database of `settings`, and
    every request from `address`."""
    throttled = settings.model_copy(
        update={"login_failures_allowed": ALLOWED, "login_throttle_seconds": window_seconds}
    )
    app = create_app(throttled, temporal=temporal)
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as http,
    ):
        yield http


async def token(api: httpx.AsyncClient, email: str, password: str = "demo") -> httpx.Response:
    return await api.post("/api/auth/token", data={"username": email, "password": password})


def retry_after(response: httpx.Response) -> int:
    """The refusal's wait, checked to be the same in the header and in the words."""
    assert response.status_code == 429, response.text
    seconds = int(response.headers["Retry-After"])
    assert response.json()["code"] == "too_many_attempts"
    words = REFUSAL.fullmatch(response.json()["detail"])
    assert words is not None, response.json()
    assert int(words.group(1)) == seconds
    return seconds


async def test_an_email_that_failed_too_often_gets_429_even_with_its_password(
    settings: Settings, temporal_client: Client
):
    async with api_process(settings, temporal_client) as api:
        failures = [await token(api, EXPORTER, "wrong") for _ in range(ALLOWED)]
        refused = await token(api, EXPORTER)
        other_account = await token(api, IMPORTER)

    assert [f.status_code for f in failures] == [401] * ALLOWED
    assert 590 <= retry_after(refused) <= 600
    assert other_account.status_code == 200, other_account.text


async def test_unknown_and_known_emails_are_throttled_alike(
    settings: Settings, temporal_client: Client
):
    async def attempts(email: str) -> list[httpx.Response]:
        return [await token(api, email, "wrong") for _ in range(ALLOWED + 2)]

    async with api_process(settings, temporal_client) as api:
        known = await attempts(EXPORTER)
        unknown = await attempts("nobody@demo.test")

    def answers(responses: list[httpx.Response]) -> list[tuple[int, str]]:
        return [(r.status_code, r.json()["code"]) for r in responses]

    assert (
        answers(known)
        == [(401, "invalid_credentials")] * ALLOWED + [(429, "too_many_attempts")] * 2
    )
    assert answers(unknown) == answers(known)
    # The waits differ by the time between the two series, not by whose email it is.
    for k, u in zip(known[ALLOWED:], unknown[ALLOWED:], strict=True):
        assert abs(retry_after(k) - retry_after(u)) <= 2


async def test_an_address_that_failed_too_often_gets_429_whatever_the_email(
    settings: Settings, temporal_client: Client
):
    async with api_process(settings, temporal_client, address="198.51.100.7") as api:
        failures = [await token(api, f"guess{n}@demo.test", "wrong") for n in range(ALLOWED * 4)]
        refused = await token(api, EXPORTER)
    async with api_process(settings, temporal_client, address="198.51.100.8") as elsewhere:
        from_another_address = await token(elsewhere, EXPORTER)

    assert {f.status_code for f in failures} == {401}
    assert retry_after(refused) > 0
    assert from_another_address.status_code == 200, from_another_address.text


async def test_the_throttle_ends_when_its_window_has_passed(
    settings: Settings, temporal_client: Client
):
    # Long enough for the failures to be made within it on a busy machine.
    async with api_process(settings, temporal_client, window_seconds=4) as api:
        for _ in range(ALLOWED):
            assert (await token(api, EXPORTER, "wrong")).status_code == 401
        wait = retry_after(await token(api, EXPORTER))
        assert wait <= 4
        await asyncio.sleep(wait + 0.1)
        after = await token(api, EXPORTER)

    assert after.status_code == 200, after.text


async def test_a_success_starts_the_account_afresh(settings: Settings, temporal_client: Client):
    async with api_process(settings, temporal_client) as api:
        before = [await token(api, EXPORTER, "wrong") for _ in range(ALLOWED - 1)]
        success = await token(api, EXPORTER)
        again = [await token(api, EXPORTER, "wrong") for _ in range(ALLOWED)]
        refused = await token(api, EXPORTER)

    assert [r.status_code for r in before] == [401] * (ALLOWED - 1)
    assert success.status_code == 200, success.text
    assert [r.status_code for r in again] == [401] * ALLOWED
    assert retry_after(refused) > 0


async def test_two_api_processes_count_the_same_failures(
    settings: Settings, temporal_client: Client
):
    async with (
        api_process(settings, temporal_client) as first,
        api_process(settings, temporal_client) as second,
    ):
        answers = [
            await token(first if n % 2 else second, EXPORTER, "wrong") for n in range(ALLOWED)
        ]
        refused_by_first = await token(first, EXPORTER)
        refused_by_second = await token(second, EXPORTER)

    assert [a.status_code for a in answers] == [401] * ALLOWED
    assert retry_after(refused_by_first) > 0
    assert retry_after(refused_by_second) > 0


async def page_login(api: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    login = await api.get("/")
    [csrf] = CSRF.findall(login.text)
    return await api.post(
        "/",
        data={"username": email, "password": password, "csrf_token": csrf},
        headers={
            "Cookie": f"nopic_login_csrf={cookie_value(set_cookies(login)['nopic_login_csrf'])}"
        },
    )


async def test_the_login_page_is_throttled_with_the_apis_status_and_words(
    settings: Settings, temporal_client: Client
):
    async with api_process(settings, temporal_client) as api:
        failures = [await page_login(api, EXPORTER, "wrong") for _ in range(ALLOWED)]
        refused = await page_login(api, EXPORTER, "demo")
        by_the_api = await token(api, EXPORTER)

    assert [f.status_code for f in failures] == [401] * ALLOWED
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    words = REFUSAL.search(refused.text)
    assert words is not None, refused.text
    assert words.group(1) == refused.headers["Retry-After"]
    assert "nopic_session" not in set_cookies(refused)
    # The pages and the API count the same failures.
    assert retry_after(by_the_api) > 0
