"""Certificate lifecycles driven over HTTP by a patient client, as the fault tests run them.

The client retries what a restart makes the API answer (503, a dropped connection) with the
same Idempotency-Key, so a retry is the same command and never a second one.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

EXPORTER = "exporter@demo.test"
CERTIFIER = "certifier@demo.test"
CERTIFIER2 = "certifier2@demo.test"
IMPORTER = "importer@demo.test"

# The way a lifecycle goes, the state it must end in, and how many of a hundred go that way.
KINDS = {
    "use": ("used", 50),
    "info": ("used", 10),
    "multi": ("used", 10),
    "void": ("voided", 10),
    "reject": ("rejected", 12),
    "withdraw": ("withdrawn", 8),
}
ISSUING_KINDS = frozenset({"use", "info", "multi", "void"})
PRODUCTS = ("0804400020", "0901110015", "1008500010")
QUANTITY_KG = 900
# Faults stretch a step far beyond its usual second: a restarted worker replays histories.
CALL_SECONDS = 120
STATE_SECONDS = 180


@dataclass
class Lifecycle:
    index: int
    kind: str
    certificate_id: str = ""
    status: str = ""

    @property
    def expected(self) -> str:
        return KINDS[self.kind][0]

    @property
    def tag(self) -> str:
        return f"life-{self.index:03d}"


def plan(count: int, rng: random.Random) -> list[Lifecycle]:
    """`count` lifecycles in the proportions of KINDS (per hundred), shuffled by `rng`."""
    kinds = [kind for kind, (_, share) in KINDS.items() for _ in range(share * count // 100)]
    kinds += ["use"] * (count - len(kinds))
    rng.shuffle(kinds)
    return [Lifecycle(index, kind) for index, kind in enumerate(kinds)]


def request_body(life: Lifecycle, coverage: str) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "importer_id": "5550000002",
        "coverage": coverage,
        "valid_from": (today - timedelta(days=1)).isoformat(),
        "valid_until": (today + timedelta(days=90)).isoformat(),
        "country_of_origin": "PE",
        "port_of_export": "Callao",
        "port_of_entry": "Los Angeles",
        "shipment": {"transport_mode": "sea", "bill_of_lading": f"MSCU{life.index:07d}"},
        "lines": [
            {
                "hts_code": PRODUCTS[life.index % len(PRODUCTS)],
                "product_name": "Organic produce",
                "organic_category": "organic",
                "quantity_kg": QUANTITY_KG,
                "lot_numbers": [f"L-{life.index}"],
            }
        ],
    }


def entry(number: str, kg: int) -> dict[str, Any]:
    return {
        "entry_number": number,
        "line_number": 1,
        "quantity_kg": kg,
        "entry_date": datetime.now(UTC).date().isoformat(),
        "port_of_entry": "Los Angeles",
    }


@dataclass
class PatientClient:
    http: httpx.AsyncClient
    tokens: dict[str, dict[str, str]]
    retries: int = 0
    unexpected: list[str] = field(default_factory=list)
    # Claims sent again because the task was being written again after a lost workflow task.
    reclaims: list[str] = field(default_factory=list)
    # Between two looks at a certificate that has not reached its state yet: a run of hundreds
    # in parallel looks less often, so that the looking does not take the CPU the work needs.
    poll_seconds: float = 0.3

    @classmethod
    async def signed_in(cls, http: httpx.AsyncClient, *users: str) -> PatientClient:
        tokens = {}
        for user in users:
            answer = await http.post("/api/auth/token", data={"username": user, "password": "demo"})
            assert answer.status_code == 200, answer.text
            tokens[user] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        return cls(http, tokens)

    async def call(
        self, method: str, url: str, user: str, *, json: Any = None, key: str | None = None
    ) -> httpx.Response:
        """The first answer that is not a 503, retrying the same command meanwhile."""
        headers = dict(self.tokens[user])
        if key is not None:
            headers["Idempotency-Key"] = key
        deadline = time.monotonic() + CALL_SECONDS
        while True:
            try:
                response = await self.http.request(method, url, json=json, headers=headers)
                if response.status_code != 503:
                    if response.status_code >= 500:
                        self.unexpected.append(f"{method} {url}: {response.status_code}")
                    return response
                answer = response.json()
                assert answer["code"] == "unavailable", answer
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {url} unavailable for {CALL_SECONDS} s")
            self.retries += 1
            await asyncio.sleep(0.5)

    async def command(
        self, url: str, user: str, key: str, json: Any = None, *, expect: int = 200
    ) -> dict[str, Any]:
        response = await self.call("POST", url, user, json=json, key=key)
        assert response.status_code == expect, f"POST {url}: {response.text}"
        body: dict[str, Any] = response.json()
        return body

    async def claim(self, certificate_id: str, task: dict[str, Any], user: str, key: str) -> None:
        """Claim the review task. A worker killed inside the workflow task that wrote the task
        leaves it written by an attempt that never reached the history; the attempt run again
        takes that write back and makes it anew (persistence.repositories.projection), and a
        claim in between finds no task: the certifier reloads the queue and claims again."""
        deadline = time.monotonic() + STATE_SECONDS
        while True:
            url = f"/api/tasks/{task['id']}/claim"
            response = await self.call("POST", url, user, key=key)
            gone = response.status_code == 404 and response.json()["code"] == "task_not_found"
            if not gone or time.monotonic() > deadline:
                assert response.status_code == 200, f"POST {url}: {response.text}"
                return
            self.reclaims.append(f"{certificate_id}: task {task['id']} written again")
            await asyncio.sleep(self.poll_seconds)
            task = await self.live_task(certificate_id)

    async def certificate(self, certificate_id: str, user: str) -> dict[str, Any]:
        response = await self.call("GET", f"/api/certificates/{certificate_id}", user)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def reaches(self, certificate_id: str, status: str, user: str) -> dict[str, Any]:
        deadline = time.monotonic() + STATE_SECONDS
        while True:
            body = await self.certificate(certificate_id, user)
            if body["status"] == status:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"{certificate_id} is {body['status']}, not {status}")
            await asyncio.sleep(self.poll_seconds)

    async def live_task(self, certificate_id: str) -> dict[str, Any]:
        """The certificate's review task once in review, as the certifier's detail shows it."""
        body = await self.reaches(certificate_id, "in_review", CERTIFIER)
        return next(t for t in body["tasks"] if t["state"] != "closed")


def on(certificate_id: str, command: str) -> str:
    return f"/api/certificates/{certificate_id}/{command}"


async def live(client: PatientClient, life: Lifecycle, rng: random.Random) -> None:
    """One certificate from request to the end its kind says, as the parties would drive it."""
    coverage = "multiple_shipments" if life.kind == "multi" else "single_shipment"
    body = request_body(life, coverage)
    created = await client.command("/api/requests", EXPORTER, f"{life.tag}-rq", body, expect=201)
    cert = life.certificate_id = created["certificates"][0]["id"]
    task = await client.live_task(cert)
    if life.kind == "withdraw":
        await client.command(on(cert, "withdraw"), EXPORTER, f"{life.tag}-wd", {"reason": "sold"})
        return
    reviewer = rng.choice((CERTIFIER, CERTIFIER2))
    await client.claim(cert, task, reviewer, f"{life.tag}-claim")
    if life.kind == "reject":
        reject = {"decision": "reject", "comment": "lot not inspected"}
        await client.command(on(cert, "decision"), reviewer, f"{life.tag}-reject", reject)
        return
    if life.kind == "info":
        ask = {"decision": "request_info", "comment": "Send the harvest record"}
        await client.command(on(cert, "decision"), reviewer, f"{life.tag}-ask", ask)
        answer = {"message": "Harvest record attached"}
        await client.command(on(cert, "answer"), EXPORTER, f"{life.tag}-answer", answer)
        task = await client.live_task(cert)
        if task["assignee"] is None:
            await client.claim(cert, task, reviewer, f"{life.tag}-again")
    approve = {"decision": "approve"}
    await client.command(on(cert, "decision"), reviewer, f"{life.tag}-approve", approve)
    await client.reaches(cert, "delivered", IMPORTER)
    if life.kind == "void":
        await client.command(on(cert, "void"), reviewer, f"{life.tag}-void", {"reason": "recall"})
        return
    await client.command(on(cert, "acknowledge"), IMPORTER, f"{life.tag}-ack")
    if life.kind == "multi":
        for n in (1, 2):
            await record(client, cert, entry(f"{life.tag}-{n}", 300))
        over = await client.call("POST", on(cert, "entries"), IMPORTER, json=entry("X-1", 400))
        assert (over.status_code, over.json()["code"]) == (409, "over_quantity"), over.text
        await record(client, cert, entry(f"{life.tag}-3", 300))
    else:
        await record(client, cert, entry(f"{life.tag}-1", 250))


async def record(client: PatientClient, cert: str, line: dict[str, Any]) -> None:
    """An entry line; a retry after a lost answer finds it recorded, a 200 for the same line."""
    recorded = await client.call("POST", on(cert, "entries"), IMPORTER, json=line)
    assert recorded.status_code in (200, 201), recorded.text
