"""The lists: the certifier queue and the certificates, their filters and their cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.models import Task
from tests.api.flow import (
    AVOCADOS,
    CERTIFIER,
    CERTIFIER2,
    COFFEE,
    EXPORTER,
    Auth,
    request_body,
    review_task,
    submit,
)

QUINOA = "1008500010"
LINE = request_body()["lines"][0]


async def all_pages(
    api: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page_params = {**params, **({"cursor": cursor} if cursor else {})}
        response = await api.get(url, params=page_params, headers=headers)
        assert response.status_code == 200, response.text
        items.extend(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture
async def three_in_review(
    live_api: httpx.AsyncClient, auth: Auth
) -> list[tuple[str, dict[str, Any]]]:
    lines = [
        {**LINE, "hts_code": code, "product_name": name}
        for code, name in (
            (AVOCADOS, "Hass avocados"),
            (COFFEE, "Green coffee"),
            (QUINOA, "Quinoa"),
        )
    ]
    created = await submit(live_api, auth, lines=lines)
    ids = [c["id"] for c in created["certificates"]]
    return [(cid, await review_task(live_api, auth, cid)) for cid in ids]


async def test_queue_filters_and_pages_in_due_order(
    live_api: httpx.AsyncClient,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    three_in_review: list[tuple[str, dict[str, Any]]],
):
    (_, late), (_, claimed), (_, waiting) = three_in_review
    async with sessions() as session, session.begin():
        # A task the workflow gave a deadline that has passed (the escalation timer is days away).
        await session.execute(
            update(Task)
            .where(Task.id == late["id"])
            .values(due_at=datetime.now(UTC) - timedelta(hours=1))
        )
    assert (
        await live_api.post(f"/api/tasks/{claimed['id']}/claim", headers=auth(CERTIFIER))
    ).status_code == 200

    async def ids(**params: Any) -> list[str]:
        return [t["id"] for t in await all_pages(live_api, "/api/tasks", auth(CERTIFIER), **params)]

    everything = await all_pages(live_api, "/api/tasks", auth(CERTIFIER), limit=1)
    assert everything[0]["id"] == late["id"], "the overdue task comes first"
    assert sorted(t["id"] for t in everything) == sorted(t["id"] for _, t in three_in_review)
    assert [t["due_at"] for t in everything] == sorted(t["due_at"] for t in everything)
    assert [t["overdue"] for t in everything] == [True, False, False]
    assert await ids(overdue="true") == [late["id"]]
    assert sorted(await ids(overdue="false")) == sorted([claimed["id"], waiting["id"]])
    assert await ids(state="claimed") == [claimed["id"]]
    assert sorted(await ids(state="open")) == sorted([late["id"], waiting["id"]])
    assert await ids(assignee="me") == [claimed["id"]]
    assert [
        t["id"] for t in await all_pages(live_api, "/api/tasks", auth(CERTIFIER2), assignee="me")
    ] == []
    assert await ids(kind="reconcile") == []
    assert len(await ids(kind="review")) == 3


@pytest.mark.parametrize(
    ("params", "field_or_code"),
    [
        ({"kind": "audit"}, "kind"),
        ({"state": "lost"}, "state"),
        ({"overdue": "maybe"}, "overdue"),
        ({"assignee": "someone-else"}, "assignee"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
    ],
)
async def test_a_bad_queue_parameter_gets_422(
    api: httpx.AsyncClient, auth: Auth, params: dict[str, str], field_or_code: str
):
    response = await api.get("/api/tasks", params=params, headers=auth(CERTIFIER))

    assert response.status_code == 422
    error = response.json()
    assert field_or_code in (error["code"], error["detail"].split(":")[0])


async def test_certificates_filter_by_status_hts_code_and_text(
    live_api: httpx.AsyncClient,
    auth: Auth,
    three_in_review: list[tuple[str, dict[str, Any]]],
):
    (avocados, _), (coffee, _), (quinoa, _) = three_in_review
    headers = auth(EXPORTER)

    async def ids(**params: Any) -> set[str]:
        return {c["id"] for c in await all_pages(live_api, "/api/certificates", headers, **params)}

    paged = await all_pages(live_api, "/api/certificates", headers, limit=1)
    assert {c["id"] for c in paged} == {avocados, coffee, quinoa}
    assert len(paged) == 3
    assert await ids(hts_code=COFFEE) == {coffee}
    assert await ids(q="quin") == {quinoa}
    assert await ids(q="l-2026-11") == {avocados, coffee, quinoa}
    assert await ids(status="in_review") == {avocados, coffee, quinoa}
    assert await ids(status="issued") == set()
    bad = await live_api.get("/api/certificates", params={"status": "lost"}, headers=headers)
    assert (bad.status_code, bad.json()["detail"].split(":")[0]) == (422, "status")
