"""Cookie sessions of the pages, over HTTP in process: the cookie's flags, the CSRF check of the
login form, and sessions that stop working (logout, a disabled user, expiry)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from persistence.models import User, WebSession
from tests.api.conftest import serve
from tests.api.flow import EXPORTER

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each cookie the response sets, with its attributes as sent."""
    out = {}
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0]
        out[name] = header
    return out


def cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


async def sign_in(api: httpx.AsyncClient, email: str = EXPORTER) -> httpx.Response:
    login = await api.get("/")
    login_csrf = cookie_value(set_cookies(login)["nopic_login_csrf"])
    [token] = CSRF.findall(login.text)
    return await api.post(
        "/",
        data={"username": email, "password": "demo", "csrf_token": token},
        headers={"Cookie": f"nopic_login_csrf={login_csrf}"},
    )


def session_of(response: httpx.Response) -> dict[str, str]:
    return {"Cookie": f"nopic_session={cookie_value(set_cookies(response)['nopic_session'])}"}


async def test_the_session_cookie_is_httponly_lax_and_secure_outside_dev(api: httpx.AsyncClient):
    signed_in = await sign_in(api)

    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/"
    cookie = set_cookies(signed_in)["nopic_session"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" in cookie
    home = await api.get("/", headers=session_of(signed_in))
    assert EXPORTER in home.text
    assert "exporter" in home.text


async def test_in_dev_the_cookie_goes_over_plain_http(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], temporal_client: Client
):
    dev = settings.model_copy(update={"env": "dev"})
    async for api in serve(create_app(dev, sessions=sessions, temporal=temporal_client)):
        signed_in = await sign_in(api)

    cookie = set_cookies(signed_in)["nopic_session"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie


@pytest.mark.parametrize(
    "form",
    [
        {"username": EXPORTER, "password": "demo"},
        {"username": EXPORTER, "password": "demo", "csrf_token": "guessed"},
    ],
)
async def test_a_login_form_without_its_csrf_token_is_refused(api: httpx.AsyncClient, form):
    login = await api.get("/")
    login_csrf = cookie_value(set_cookies(login)["nopic_login_csrf"])

    refused = await api.post("/", data=form, headers={"Cookie": f"nopic_login_csrf={login_csrf}"})
    no_cookie = await api.post("/", data={**form, "csrf_token": CSRF.findall(login.text)[0]})

    assert refused.status_code == 403
    assert no_cookie.status_code == 403
    assert "nopic_session" not in set_cookies(refused)
    assert "text/html" in refused.headers["content-type"]


async def test_logout_ends_the_session_for_every_copy_of_the_cookie(api: httpx.AsyncClient):
    cookie = session_of(await sign_in(api))
    home = await api.get("/", headers=cookie)
    [token] = CSRF.findall(home.text)

    out = await api.post("/logout", data={"csrf_token": token}, headers=cookie)

    assert out.status_code == 303
    again = await api.get("/", headers=cookie)
    assert "Sign in" in again.text
    assert EXPORTER not in again.text


async def test_a_disabled_users_session_stops_working(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
):
    cookie = session_of(await sign_in(api))
    async with sessions.begin() as session:
        await session.execute(update(User).where(User.email == EXPORTER).values(active=False))

    home = await api.get("/", headers=cookie)

    assert "Sign in" in home.text
    assert EXPORTER not in home.text


async def test_an_expired_session_signs_nobody_in(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
):
    cookie = session_of(await sign_in(api))
    async with sessions.begin() as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await session.execute(update(WebSession).values(expires_at=past))

    home = await api.get("/", headers=cookie)

    assert "Sign in" in home.text


async def test_user_text_on_the_pages_is_escaped(api: httpx.AsyncClient):
    typed = '<script>alert("x")</script>@demo.test'
    login = await api.get("/")
    login_csrf = cookie_value(set_cookies(login)["nopic_login_csrf"])

    refused = await api.post(
        "/",
        data={"username": typed, "password": "x", "csrf_token": CSRF.findall(login.text)[0]},
        headers={"Cookie": f"nopic_login_csrf={login_csrf}"},
    )

    assert refused.status_code == 401
    assert "<script>" not in refused.text
    assert "&lt;script&gt;" in refused.text
    # Scripts come only from this site's own files: no inline script of any kind may run.
    policy = refused.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
