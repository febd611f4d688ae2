"""POST /api/requests and GET /api/requests/{id}."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from persistence.models import Certificate, ImportRequest
from tests.api.conftest import serve, settings_for
from tests.api.flow import (
    AVOCADOS,
    CERTIFIER,
    COFFEE,
    EXPORTER,
    IMPORTER,
    OUTSIDERS,
    Auth,
    days_from_today,
    eventually,
    request_body,
    submit,
)
from tests.conftest import free_port

LINE = request_body()["lines"][0]


def with_line(**changes: Any) -> dict[str, Any]:
    return request_body(lines=[{**LINE, **changes}])


async def count_rows(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as session:
        requests = await session.scalar(select(func.count()).select_from(ImportRequest))
        certificates = await session.scalar(select(func.count()).select_from(Certificate))
    return int(requests or 0), int(certificates or 0)


async def test_exporter_files_a_request_and_gets_one_certificate_per_line(
    live_api: httpx.AsyncClient, auth: Auth
):
    coffee = {**LINE, "hts_code": COFFEE, "product_name": "Green coffee", "quantity_kg": 5000.5}
    body = request_body(lines=[LINE, coffee])

    response = await live_api.post("/api/requests", json=body, headers=auth(EXPORTER))

    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == {"id", "certificates"}
    assert [c["hts_code"] for c in created["certificates"]] == [AVOCADOS, COFFEE]
    assert all(set(c) == {"id", "hts_code", "status"} for c in created["certificates"])
    assert {c["status"] for c in created["certificates"]} <= {"submitted", "in_review"}

    # The exporter reads its own write at once, and then sees screening move it on.
    read = await live_api.get(f"/api/requests/{created['id']}", headers=auth(EXPORTER))
    assert read.status_code == 200, read.text
    request = read.json()
    assert request["importer_id"] == "5550000002"
    assert request["certifier_id"] == "555"
    assert request["exporter_id"] == "5550000001"
    assert request["shipment"]["containers"] == ["MSCU7654321"]
    assert [(c["line_no"], c["quantity_kg"]) for c in request["certificates"]] == [
        (1, 18000),
        (2, 5000.5),
    ]

    async def both_in_review() -> bool:
        read = await live_api.get(f"/api/requests/{created['id']}", headers=auth(EXPORTER))
        return all(c["status"] == "in_review" for c in read.json()["certificates"])

    await eventually(both_in_review, what="screening to pass both lines")


async def test_a_retried_post_with_the_same_idempotency_key_is_one_request(
    live_api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
):
    before = await count_rows(sessions)
    headers = {**auth(EXPORTER), "Idempotency-Key": "order-4711"}

    first = await live_api.post("/api/requests", json=request_body(), headers=headers)
    second = await live_api.post("/api/requests", json=request_body(), headers=headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert [c["id"] for c in first.json()["certificates"]] == [
        c["id"] for c in second.json()["certificates"]
    ]
    assert await count_rows(sessions) == (before[0] + 1, before[1] + 1)


@pytest.mark.parametrize("email", [CERTIFIER, IMPORTER, *OUTSIDERS[2:]])
async def test_only_an_exporter_files_requests(api: httpx.AsyncClient, auth: Auth, email: str):
    response = await api.post("/api/requests", json=request_body(), headers=auth(email))

    assert response.status_code == 403
    assert response.json()["code"] == "not_an_exporter"


INVALID_BODIES = [
    ("lines.0.hts_code", with_line(hts_code="08044000")),
    ("lines.0.hts_code", with_line(hts_code="080440002X")),
    ("lines.0.quantity_kg", with_line(quantity_kg=0)),
    ("lines.0.quantity_kg", with_line(quantity_kg=-5)),
    ("lines.0.organic_category", with_line(organic_category="bio")),
    ("lines.0.product_name", with_line(product_name=" ")),
    ("coverage", request_body(coverage="forever")),
    ("valid_until", request_body(valid_from=days_from_today(30), valid_until=days_from_today(0))),
    ("valid_until", request_body(valid_from=days_from_today(0), valid_until=days_from_today(367))),
    (
        "valid_until",
        request_body(
            coverage="time_frame", valid_from=days_from_today(0), valid_until=days_from_today(367)
        ),
    ),
    ("valid_from", request_body(valid_from=days_from_today(-31))),
    ("valid_from", request_body(valid_from=days_from_today(366), valid_until=days_from_today(370))),
    ("valid_from", request_body(valid_from="the first of December")),
    ("country_of_origin", request_body(country_of_origin="pe")),
    ("country_of_origin", request_body(country_of_origin="PER")),
    ("lines", request_body(lines=[])),
    ("lines", request_body(lines=[LINE] * 101)),
    ("shipment.transport_mode", request_body(shipment={"containers": []})),
    ("importer_id", {k: v for k, v in request_body().items() if k != "importer_id"}),
]


@pytest.mark.parametrize(("field", "body"), INVALID_BODIES)
async def test_invalid_field_gets_422_naming_it(
    api: httpx.AsyncClient, auth: Auth, field: str, body: dict[str, Any]
):
    response = await api.post("/api/requests", json=body, headers=auth(EXPORTER))

    assert response.status_code == 422, response.text
    error = response.json()
    assert error["code"] == "invalid"
    assert error["detail"].startswith(f"{field}: ")
    assert [e["field"] for e in error["errors"]] == [field]


async def test_quantity_zero_reads_as_the_design_says(api: httpx.AsyncClient, auth: Auth):
    response = await api.post(
        "/api/requests", json=with_line(quantity_kg=0), headers=auth(EXPORTER)
    )

    assert response.json()["detail"] == "lines.0.quantity_kg: Input should be greater than 0"


@pytest.mark.parametrize("coverage", ["single_shipment", "multiple_shipments", "time_frame"])
@pytest.mark.parametrize(
    ("starts", "ends"),
    [(-30, -30), (-30, 336), (365, 365), (365, 731)],
    ids=["earliest-start", "earliest-start-longest", "latest-start", "latest-start-longest"],
)
async def test_the_edges_of_the_validity_window_are_accepted(
    api: httpx.AsyncClient, auth: Auth, coverage: str, starts: int, ends: int
):
    body = request_body(
        coverage=coverage, valid_from=days_from_today(starts), valid_until=days_from_today(ends)
    )

    response = await api.post("/api/requests", json=body, headers=auth(EXPORTER))

    assert response.status_code == 201, response.text


async def test_unknown_importer_gets_422(
    api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
):
    before = await count_rows(sessions)

    response = await api.post(
        "/api/requests", json=request_body(importer_id="9990000009"), headers=auth(EXPORTER)
    )

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_importer"
    assert response.json()["detail"].startswith("importer_id: ")
    assert await count_rows(sessions) == before


async def test_temporal_unreachable_gets_503_and_writes_nothing(
    database_url: str, tmp_path: Path, auth: Auth, sessions: async_sessionmaker[AsyncSession]
):
    settings = settings_for(database_url, tmp_path, temporal_address=f"127.0.0.1:{free_port()}")
    before = await count_rows(sessions)

    async for api in serve(create_app(settings)):
        response = await api.post("/api/requests", json=request_body(), headers=auth(EXPORTER))
        me = await api.get("/api/me", headers=auth(EXPORTER))

    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    assert me.status_code == 200, "the API works without Temporal for what needs no workflow"
    assert await count_rows(sessions) == before


async def test_a_request_is_visible_to_its_exporter_only(live_api: httpx.AsyncClient, auth: Auth):
    created = await submit(live_api, auth)

    for email in (CERTIFIER, IMPORTER, *OUTSIDERS):
        response = await live_api.get(f"/api/requests/{created['id']}", headers=auth(email))
        assert response.status_code == 404, email
        assert response.json() == {"detail": "request not found", "code": "request_not_found"}
