"""Password checks run beside the event loop, a bounded number at once: a burst of sign-ins does
not stall the other requests of the same API process."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx

from api.app import create_app
from config.settings import Settings
from persistence.passwords import (
    CHECKER_THREAD_PREFIX,
    CHECKS_AT_ONCE,
    check_password,
    hash_password,
)
from tests.api.flow import EXPORTER

SIGN_INS = 30


async def test_a_burst_of_sign_ins_does_not_stall_other_requests(
    settings: Settings, temporal_client, auth: Callable[[str], dict[str, str]]
):
    # Limits high enough that the burst is not throttled: this is about the event loop.
    roomy = settings.model_copy(update={"login_failures_allowed": 1_000})
    app = create_app(roomy, temporal=temporal_client)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as api,
    ):
        assert (await api.get("/api/me", headers=auth(EXPORTER))).status_code == 200

        async def cheap_requests(until: asyncio.Future[list[httpx.Response]]) -> list[float]:
            took = []
            while not until.done():
                started = time.perf_counter()
                me = await api.get("/api/me", headers=auth(EXPORTER))
                assert me.status_code == 200, me.text
                took.append(time.perf_counter() - started)
                await asyncio.sleep(0.02)
            return took

        started = time.perf_counter()
        burst = asyncio.ensure_future(
            asyncio.gather(
                *(
                    api.post(
                        "/api/auth/token",
                        data={"username": EXPORTER, "password": "demo" if n % 2 else "wrong"},
                    )
                    for n in range(SIGN_INS)
                )
            )
        )
        latencies = await cheap_requests(burst)
        sign_ins = await burst
        burst_took = time.perf_counter() - started

    assert sorted({r.status_code for r in sign_ins}) == [200, 401]
    # On the event loop, each check held it: a request needing a few turns of the loop waited
    # for a few checks each time, and fewer requests were answered during the burst than there
    # were sign-ins (about half as many), however fast the machine. Beside it, requests are
    # answered every few tens of milliseconds: three times as many and more, even on a machine
    # so busy that the burst takes half a minute.
    assert len(latencies) >= SIGN_INS, (len(latencies), burst_took)
    assert max(latencies) < max(2.0, burst_took / 4), (latencies, burst_took)


async def test_no_more_than_the_bound_of_checks_run_at_once():
    password_hash = hash_password("demo")

    results = await asyncio.gather(*(check_password(password_hash, "demo") for _ in range(12)))

    assert all(results)
    checkers = [t for t in threading.enumerate() if t.name.startswith(CHECKER_THREAD_PREFIX)]
    assert 1 <= len(checkers) <= CHECKS_AT_ONCE


async def test_an_unknown_account_is_checked_against_a_decoy_and_refused():
    started = time.perf_counter()
    assert not await check_password(None, "demo")
    assert not await check_password(None, "decoy password that no account has")
    # Two real Argon2 checks, not an answer at once.
    assert time.perf_counter() - started > 0.01
