"""What a bearer token carries (issuer, audience, expiry) and when it stops working: a token
without our issuer and audience is refused, and a disabled user's token and page session stop
working at their next request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.security import ALGORITHM, AUDIENCE, ISSUER, issue_token
from config.settings import Settings
from persistence.models import User
from persistence.seed import demo_user_id
from tests.api.flow import EXPORTER
from tests.api.web.test_sessions import session_of
from tests.api.web.test_sessions import sign_in as page_sign_in


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_names_its_issuer_audience_and_expiry(
    api: httpx.AsyncClient, settings: Settings
):
    answer = await api.post("/api/auth/token", data={"username": EXPORTER, "password": "demo"})
    token = answer.json()["access_token"]

    claims = jwt.decode(
        token, settings.jwt_secret, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER
    )

    assert claims["sub"] == demo_user_id(EXPORTER)
    assert claims["exp"] - claims["iat"] == settings.jwt_ttl_minutes * 60


def _claims(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims = {
        "sub": demo_user_id(EXPORTER),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": None}, id="no audience"),
        pytest.param({"aud": "another-service"}, id="another audience"),
        pytest.param({"iss": None}, id="no issuer"),
        pytest.param({"iss": "someone-else"}, id="another issuer"),
        pytest.param({"exp": None}, id="no expiry"),
        pytest.param({"iat": None}, id="no issue time"),
    ],
)
async def test_a_token_signed_with_our_secret_but_not_ours_in_form_gets_401(
    api: httpx.AsyncClient, settings: Settings, changes: dict[str, Any]
):
    # Made when the test runs, not when it is collected: a long run must not expire it first.
    token = jwt.encode(_claims(**changes), settings.jwt_secret, algorithm=ALGORITHM)

    response = await api.get("/api/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_the_same_claims_in_full_are_accepted(api: httpx.AsyncClient, settings: Settings):
    token = jwt.encode(_claims(), settings.jwt_secret, algorithm=ALGORITHM)

    assert (await api.get("/api/me", headers=bearer(token))).status_code == 200


async def test_a_disabled_users_token_and_page_session_stop_working_at_once(
    api: httpx.AsyncClient, settings: Settings, sessions: async_sessionmaker[AsyncSession]
):
    token = issue_token(settings, demo_user_id(EXPORTER))
    cookie = session_of(await page_sign_in(api))
    assert (await api.get("/api/me", headers=bearer(token))).status_code == 200
    assert EXPORTER in (await api.get("/", headers=cookie)).text

    async with sessions.begin() as session:
        await session.execute(update(User).where(User.email == EXPORTER).values(active=False))
    me = await api.get("/api/me", headers=bearer(token))
    home = await api.get("/", headers=cookie)
    signing_in_again = await api.post(
        "/api/auth/token", data={"username": EXPORTER, "password": "demo"}
    )

    assert me.status_code == 401
    assert me.json()["code"] == "invalid_token"
    assert "Sign in" in home.text
    assert EXPORTER not in home.text
    assert signing_in_again.status_code == 401
