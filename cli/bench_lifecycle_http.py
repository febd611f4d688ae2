"""One certificate's life over HTTP, as its users drive it, each call timed by its kind.

The exporter submits, the certifier waits for the review task in the queue, claims it and
approves, the importer waits for delivery, acknowledges and records one entry.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from cli.bench_measure import RunFailed

EXPORTER = "exporter@demo.test"
CERTIFIER = "certifier@demo.test"
IMPORTER = "importer@demo.test"
PASSWORD = "demo"  # the demo users' password (DESIGN 7) # nosec B105
CALL_KINDS = ("submit", "tasks poll", "claim", "decision", "status poll", "acknowledge", "entry")
POLL_SECONDS = 0.2
# Far beyond a loaded step's few seconds: a state not reached by then will not be.
WAIT_SECONDS = 300.0
# R4 rejects what exceeds the exporter's declared 500 t a year: small lines leave room for tens
# of thousands of lifecycles on the demo data.
QUANTITY_KG = 10
# Checked now and then while the task is not in the queue: screening may have rejected it.
BEFORE_REVIEW = frozenset({"submitted", "in_review"})
CHECK_EVERY_MISSES = 10
ON_THE_WAY = frozenset({"in_review", "approved", "issued", "delivered"})
TASK_PAGE = 200


def request_body(tag: str) -> dict[str, Any]:
    """The README's example request, valid from today as R2 requires."""
    today = datetime.now(UTC).date()
    return {
        "importer_id": "5550000002",
        "coverage": "single_shipment",
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=30)).isoformat(),
        "country_of_origin": "PE",
        "port_of_export": "Callao",
        "port_of_entry": "Los Angeles",
        "shipment": {"transport_mode": "sea", "bill_of_lading": f"MSCU{tag[-7:]}"},
        "lines": [
            {
                "hts_code": "0804400020",
                "product_name": "Fresh Hass avocados",
                "organic_category": "organic",
                "quantity_kg": QUANTITY_KG,
                "lot_numbers": [f"L-{tag}"],
            }
        ],
    }


@dataclass
class Lived:
    """The ids of a certificate that went through its life."""

    request_id: str
    certificate_id: str


@dataclass
class LifecycleDriver:
    http: httpx.AsyncClient
    run_id: str
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    latencies: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    lived: list[Lived] = field(default_factory=list)

    async def sign_in(self) -> None:
        for user in (EXPORTER, CERTIFIER, IMPORTER):
            answer = await self.http.post(
                "/api/auth/token", data={"username": user, "password": PASSWORD}
            )
            if answer.status_code != 200:
                raise RunFailed(f"{user} cannot sign in: {answer.status_code} {answer.text}")
            self.tokens[user] = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def call(
        self,
        kind: str,
        method: str,
        url: str,
        user: str,
        *,
        expect: tuple[int, ...] = (200,),
        key: str | None = None,
        **options: Any,
    ) -> Any:
        headers = dict(self.tokens[user])
        if key is not None:
            headers["Idempotency-Key"] = f"{self.run_id}-{key}"
        began = time.perf_counter()
        try:
            answer = await self.http.request(method, url, headers=headers, **options)
        except httpx.HTTPError as exc:
            raise RunFailed(f"{kind}: {method} {url}: {exc!r}") from exc
        self.latencies[kind].append(time.perf_counter() - began)
        if answer.status_code not in expect:
            raise RunFailed(f"{kind}: {method} {url}: {answer.status_code} {answer.text[:200]}")
        return answer.json()

    async def review_task(self, certificate_id: str) -> str:
        """The open review task of the certificate, as the certifier's queue shows it."""
        deadline = time.monotonic() + WAIT_SECONDS
        misses = 0
        while time.monotonic() < deadline:
            cursor = None
            while True:
                params = {"kind": "review", "state": "open", "limit": TASK_PAGE}
                if cursor is not None:
                    params["cursor"] = cursor
                page = await self.call("tasks poll", "GET", "/api/tasks", CERTIFIER, params=params)
                for task in page["items"]:
                    if task["certificate_id"] == certificate_id:
                        return str(task["id"])
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            misses += 1
            if misses % CHECK_EVERY_MISSES == 0:
                await self.status(certificate_id, CERTIFIER, BEFORE_REVIEW)
            await asyncio.sleep(POLL_SECONDS)
        raise RunFailed(f"no review task for {certificate_id} in {WAIT_SECONDS:.0f} s")

    async def status(self, certificate_id: str, user: str, allowed: frozenset[str]) -> str:
        """The certificate's status, which must be one of `allowed`."""
        body = await self.call("status poll", "GET", f"/api/certificates/{certificate_id}", user)
        if body["status"] not in allowed:
            flags = ", ".join(flag["code"] for flag in body["flags"]) or "no flags"
            raise RunFailed(f"{certificate_id} is {body['status']} ({flags})")
        return str(body["status"])

    async def delivered(self, certificate_id: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if await self.status(certificate_id, IMPORTER, ON_THE_WAY) == "delivered":
                return
            await asyncio.sleep(POLL_SECONDS)
        raise RunFailed(f"{certificate_id} not delivered in {WAIT_SECONDS:.0f} s")

    async def live(self, index: int) -> None:
        tag = f"{index:07d}"
        created = await self.call(
            "submit",
            "POST",
            "/api/requests",
            EXPORTER,
            expect=(201,),
            key=f"{tag}-submit",
            json=request_body(f"{self.run_id}-{tag}"),
        )
        certificate = f"/api/certificates/{created['certificates'][0]['id']}"
        certificate_id = created["certificates"][0]["id"]
        task_id = await self.review_task(certificate_id)
        claim = f"/api/tasks/{task_id}/claim"
        await self.call("claim", "POST", claim, CERTIFIER, key=f"{tag}-claim")
        await self.call(
            "decision",
            "POST",
            f"{certificate}/decision",
            CERTIFIER,
            key=f"{tag}-decision",
            json={"decision": "approve"},
        )
        await self.delivered(certificate_id)
        await self.call("acknowledge", "POST", f"{certificate}/acknowledge", IMPORTER, key=tag)
        entry = {
            "entry_number": f"E{self.run_id}-{tag}",
            "line_number": 1,
            "quantity_kg": QUANTITY_KG,
            "entry_date": datetime.now(UTC).date().isoformat(),
            "port_of_entry": "Los Angeles",
        }
        await self.call(
            "entry", "POST", f"{certificate}/entries", IMPORTER, expect=(200, 201), json=entry
        )
        self.lived.append(Lived(created["id"], certificate_id))
