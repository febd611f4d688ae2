"""The demo users and the moves of a review, as the API tests drive them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

EXPORTER = "exporter@demo.test"
CERTIFIER = "certifier@demo.test"
CERTIFIER2 = "certifier2@demo.test"
IMPORTER = "importer@demo.test"
ADMIN = "admin@demo.test"
OTHER_CERTIFIER = "other.certifier@demo.test"
OTHER_EXPORTER = "other.exporter@demo.test"
OTHER_IMPORTER = "other.importer@demo.test"
OUTSIDERS = (OTHER_CERTIFIER, OTHER_EXPORTER, OTHER_IMPORTER, ADMIN)

AVOCADOS = "0804400020"
COFFEE = "0901110015"


def line(**changes: Any) -> dict[str, Any]:
    """The example's product line, with `changes` applied on top."""
    return {
        "hts_code": AVOCADOS,
        "product_name": "Fresh Hass avocados",
        "organic_category": "organic",
        "quantity_kg": 18000,
        "lot_numbers": ["L-2026-11"],
        **changes,
    }


def days_from_today(days: int) -> str:
    """A date relative to today (UTC), as R2 judges validity dates from the day of the request."""
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def request_body(**changes: Any) -> dict[str, Any]:
    """The example body of DESIGN 5, with `changes` applied on top."""
    body: dict[str, Any] = {
        "importer_id": "5550000002",
        "coverage": "single_shipment",
        "valid_from": days_from_today(0),
        "valid_until": days_from_today(30),
        "country_of_origin": "PE",
        "port_of_export": "Callao",
        "port_of_entry": "Los Angeles",
        "shipment": {
            "transport_mode": "sea",
            "bill_of_lading": "MSCU1234567",
            "containers": ["MSCU7654321"],
        },
        "lines": [line()],
    }
    body.update(changes)
    return body


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 15.0, what: str = "condition"
) -> T:
    """The first truthy answer of `probe`, while the worker catches up."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


Auth = Callable[[str], dict[str, str]]


async def submit(api: httpx.AsyncClient, auth: Auth, **changes: Any) -> dict[str, Any]:
    response = await api.post("/api/requests", json=request_body(**changes), headers=auth(EXPORTER))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def review_task(
    api: httpx.AsyncClient, auth: Auth, certificate_id: str, *, state: str = "open"
) -> dict[str, Any]:
    """The certificate's review task once the workflow has put it in the queue in `state`."""

    async def probe() -> dict[str, Any] | None:
        response = await api.get("/api/tasks", params={"limit": 200}, headers=auth(CERTIFIER))
        assert response.status_code == 200, response.text
        for item in response.json()["items"]:
            if item["certificate_id"] == certificate_id and item["state"] == state:
                return dict(item)
        return None

    return await eventually(probe, what=f"a {state} review task of {certificate_id}")


async def in_review(
    api: httpx.AsyncClient, auth: Auth, **changes: Any
) -> tuple[str, dict[str, Any]]:
    """A freshly submitted certificate whose review task is open: (certificate id, task)."""
    created = await submit(api, auth, **changes)
    certificate_id = created["certificates"][0]["id"]
    return certificate_id, await review_task(api, auth, certificate_id)


def in_force(days: int = 60) -> dict[str, str]:
    """Validity dates that include today, so an issued certificate verifies as valid."""
    return {"valid_from": days_from_today(-1), "valid_until": days_from_today(days)}


async def approve(api: httpx.AsyncClient, auth: Auth, **changes: Any) -> str:
    """A certificate its certifier approved; issuance and delivery then run on their own."""
    certificate_id, task = await in_review(api, auth, **{**in_force(), **changes})
    claimed = await api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    assert claimed.status_code == 200, claimed.text
    approved = await api.post(
        f"/api/certificates/{certificate_id}/decision",
        json={"decision": "approve"},
        headers=auth(CERTIFIER),
    )
    assert approved.status_code == 200, approved.text
    return certificate_id


async def wait_status(
    api: httpx.AsyncClient, auth: Auth, certificate_id: str, status: str, *, email: str = IMPORTER
) -> dict[str, Any]:
    """The certificate as `email` reads it once the workflow has brought it to `status`."""

    async def probe() -> dict[str, Any] | None:
        response = await api.get(f"/api/certificates/{certificate_id}", headers=auth(email))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["status"] == status else None

    return await eventually(probe, timeout=30, what=f"{certificate_id} {status}")


async def delivered(api: httpx.AsyncClient, auth: Auth, **changes: Any) -> dict[str, Any]:
    """An approved certificate once issued and delivered, as its importer reads it."""
    certificate_id = await approve(api, auth, **changes)
    return await wait_status(api, auth, certificate_id, "delivered")


def entry(number: str, line: int = 1, kg: float = 100, **changes: Any) -> dict[str, Any]:
    """A customs entry line as the importer's broker reports it."""
    return {
        "entry_number": number,
        "line_number": line,
        "quantity_kg": kg,
        "entry_date": datetime.now(UTC).date().isoformat(),
        "port_of_entry": "Los Angeles",
        **changes,
    }
