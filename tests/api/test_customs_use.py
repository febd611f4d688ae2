"""R7: the importer records the customs entry lines that use a certificate."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.models import CustomsEntry
from tests.api.flow import (
    CERTIFIER,
    EXPORTER,
    IMPORTER,
    OTHER_IMPORTER,
    Auth,
    delivered,
    entry,
    line,
)


async def entry_rows(sessions: async_sessionmaker[AsyncSession], certificate_id: str) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(CustomsEntry)
            .where(CustomsEntry.certificate_id == certificate_id)
        )
    return int(count or 0)


@pytest.fixture
async def shipments(live_api: httpx.AsyncClient, auth: Auth) -> dict[str, Any]:
    """A delivered multi-shipment certificate of 1000 kg."""
    return await delivered(
        live_api, auth, coverage="multiple_shipments", lines=[line(quantity_kg=1000)]
    )


async def test_an_entry_is_201_and_its_repeat_is_200(
    live_api: httpx.AsyncClient,
    auth: Auth,
    shipments: dict[str, Any],
    sessions: async_sessionmaker[AsyncSession],
):
    url = f"/api/certificates/{shipments['id']}/entries"

    first = await live_api.post(url, json=entry("ENT-0001", 1, 400), headers=auth(IMPORTER))
    again = await live_api.post(url, json=entry("ENT-0001", 1, 400), headers=auth(IMPORTER))
    # Brokers type entry numbers in either case; it is still the same entry line.
    retyped = await live_api.post(url, json=entry(" ent-0001", 1, 400), headers=auth(IMPORTER))

    assert first.status_code == 201, first.text
    assert first.json()["status"] == "delivered"
    assert first.json()["remaining_kg"] == 600
    assert first.json()["repeat"] is False
    for repeat in (again, retyped):
        assert repeat.status_code == 200, repeat.text
        assert (repeat.json()["remaining_kg"], repeat.json()["repeat"]) == (600, True)
        assert repeat.json()["entry"]["entry_number"] == "ENT-0001"
    assert await entry_rows(sessions, shipments["id"]) == 1
    read = await live_api.get(f"/api/certificates/{shipments['id']}", headers=auth(EXPORTER))
    assert read.json()["remaining_kg"] == 600


async def test_an_entry_over_the_remaining_quantity_is_409_and_changes_nothing(
    live_api: httpx.AsyncClient,
    auth: Auth,
    shipments: dict[str, Any],
    sessions: async_sessionmaker[AsyncSession],
):
    url = f"/api/certificates/{shipments['id']}/entries"
    await live_api.post(url, json=entry("ENT-0001", 1, 400), headers=auth(IMPORTER))

    over = await live_api.post(url, json=entry("ENT-0002", 1, 601), headers=auth(IMPORTER))

    assert over.status_code == 409, over.text
    assert over.json()["code"] == "over_quantity"
    read = await live_api.get(f"/api/certificates/{shipments['id']}", headers=auth(IMPORTER))
    assert (read.json()["remaining_kg"], read.json()["status"]) == (600, "delivered")
    assert await entry_rows(sessions, shipments["id"]) == 1
    # The refused line may come again with what is really left: it was never recorded.
    rest = await live_api.post(url, json=entry("ENT-0002", 1, 600), headers=auth(IMPORTER))
    assert rest.status_code == 201, rest.text
    assert (rest.json()["remaining_kg"], rest.json()["status"]) == (0, "used")


async def test_a_single_shipment_certificate_is_used_after_one_entry(
    live_api: httpx.AsyncClient, auth: Auth
):
    certificate = await delivered(live_api, auth)
    url = f"/api/certificates/{certificate['id']}/entries"

    first = await live_api.post(url, json=entry("ENT-0100", 1, 5000), headers=auth(IMPORTER))
    second = await live_api.post(url, json=entry("ENT-0101", 1, 5000), headers=auth(IMPORTER))
    repeat = await live_api.post(url, json=entry("ENT-0100", 1, 5000), headers=auth(IMPORTER))

    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["remaining_kg"]) == ("used", 13000)
    assert (second.status_code, second.json()["code"]) == (409, "not_usable")
    # The broker's retry is answered even though the certificate's workflow has finished.
    assert repeat.status_code == 200, repeat.text
    assert (repeat.json()["status"], repeat.json()["remaining_kg"]) == ("used", 13000)
    assert repeat.json()["repeat"] is True
    by_exporter = await live_api.post(url, json=entry("ENT-0100"), headers=auth(EXPORTER))
    assert by_exporter.status_code == 403, by_exporter.text


async def test_only_the_named_importer_records_entries(
    live_api: httpx.AsyncClient, auth: Auth, shipments: dict[str, Any]
):
    url = f"/api/certificates/{shipments['id']}/entries"

    by_exporter = await live_api.post(url, json=entry("ENT-1"), headers=auth(EXPORTER))
    by_certifier = await live_api.post(url, json=entry("ENT-1"), headers=auth(CERTIFIER))
    by_other_importer = await live_api.post(url, json=entry("ENT-1"), headers=auth(OTHER_IMPORTER))

    assert by_exporter.status_code == 403, by_exporter.text
    assert by_certifier.status_code == 403, by_certifier.text
    assert by_other_importer.status_code == 404, by_other_importer.text


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"quantity_kg": 0}, id="zero-kg"),
        pytest.param({"quantity_kg": -1}, id="negative-kg"),
        pytest.param({"quantity_kg": 1.0001}, id="below-a-gram"),
        pytest.param({"line_number": 0}, id="line-zero"),
        pytest.param({"entry_number": ""}, id="no-entry-number"),
        pytest.param({"entry_number": "ENT 0001"}, id="entry-number-with-space"),
        pytest.param({"entry_date": "01/12/2026"}, id="date-not-iso"),
        pytest.param({"port_of_entry": " "}, id="no-port"),
        pytest.param({"shipment": "x"}, id="unknown-field"),
    ],
)
async def test_an_invalid_entry_is_422(api: httpx.AsyncClient, auth: Auth, changes: dict[str, Any]):
    url = f"/api/certificates/{uuid.uuid4()}/entries"

    response = await api.post(url, json=entry("ENT-1", **changes), headers=auth(IMPORTER))

    assert (response.status_code, response.json()["code"]) == (422, "invalid"), response.text


async def test_entry_lines_are_paged_for_every_party(
    live_api: httpx.AsyncClient, auth: Auth, shipments: dict[str, Any]
):
    url = f"/api/certificates/{shipments['id']}/entries"
    for number in ("ENT-3", "ENT-1", "ENT-2"):
        answer = await live_api.post(url, json=entry(number, 1, 10), headers=auth(IMPORTER))
        assert answer.status_code == 201, answer.text

    for who in (IMPORTER, EXPORTER, CERTIFIER):
        first = await live_api.get(url, params={"limit": 2}, headers=auth(who))
        assert first.status_code == 200, first.text
        rest = await live_api.get(
            url, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=auth(who)
        )
        numbers = [e["entry_number"] for e in first.json()["items"] + rest.json()["items"]]
        assert numbers == ["ENT-1", "ENT-2", "ENT-3"], who
        assert rest.json()["next_cursor"] is None

    customs = await live_api.get(
        f"/api/certificates/{shipments['id']}/customs", headers=auth(IMPORTER)
    )
    assert (len(customs.json()["entries"]), customs.json()["entries_next_cursor"]) == (3, None)
    forged = await live_api.get(url, params={"cursor": "bm90IG91cnM"}, headers=auth(IMPORTER))
    assert (forged.status_code, forged.json()["code"]) == (422, "invalid_cursor")
