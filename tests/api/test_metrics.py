"""`GET /metrics`: the API's traffic by route template, and the database's certificates and queue
at the moment of the scrape, in Prometheus' text format, for anyone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.model import Status, TaskKind, TaskState
from persistence.models import Certificate
from tests.api.flow import CERTIFIER, Auth
from tests.persistence.factories import (
    AVOCADO,
    COFFEE,
    import_request,
    project,
    record,
    review_task,
    transition,
)

CERTIFICATE_ROUTE = "/api/certificates/{certificate_id}"


async def scrape(api: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Each sample of `/metrics` by its name and labels."""
    response = await api.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


async def test_a_request_is_counted_and_timed_by_its_route_template(
    api: httpx.AsyncClient, auth: Auth
):
    unknown = str(uuid.uuid4())
    for _ in range(2):
        answer = await api.get(f"/api/certificates/{unknown}", headers=auth(CERTIFIER))
        assert answer.status_code == 404

    samples = await scrape(api)
    by_route = labels(method="GET", route=CERTIFICATE_ROUTE, status="404")
    assert samples[("nopic_http_requests_total", by_route)] == 2
    assert samples[("nopic_http_request_duration_seconds_count", by_route)] == 2
    assert samples[("nopic_http_request_duration_seconds_sum", by_route)] > 0
    raw = (await api.get("/metrics")).text
    assert unknown not in raw, "a raw path became a label"


async def test_a_path_that_matches_no_route_is_counted_as_unmatched(api: httpx.AsyncClient):
    assert (await api.get("/nothing/here/123")).status_code == 404

    samples = await scrape(api)
    assert (
        samples[
            ("nopic_http_requests_total", labels(method="GET", route="unmatched", status="404"))
        ]
        == 1
    )
    assert not any("/nothing" in dict(key).get("route", "") for _, key in samples)


async def test_certificates_by_state_and_the_queue_match_the_database(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
):
    now = datetime.now(UTC)
    kgs = [(AVOCADO, Decimal(100)), (COFFEE, Decimal(200)), (AVOCADO, Decimal(5))]
    ids = await record(sessions, import_request(lines=kgs))
    late, claimed, issued = ids
    await project(
        sessions,
        transition(late, 1, Status.IN_REVIEW, task=review_task(due_at=now - timedelta(hours=1))),
    )
    await project(
        sessions,
        transition(
            claimed,
            1,
            Status.IN_REVIEW,
            task=review_task(due_at=now + timedelta(days=3), state=TaskState.CLAIMED),
        ),
    )
    await project(sessions, transition(issued, 1, Status.ISSUED))

    samples = await scrape(api)

    async with sessions() as session:
        rows = await session.execute(
            select(Certificate.status, func.count()).group_by(Certificate.status)
        )
        in_database: dict[str, int] = dict(rows.all())
    assert in_database  # the three certificates, and whatever the seed holds
    for status in Status:
        key = ("nopic_certificates", labels(state=status))
        assert samples[key] == in_database.get(status, 0), status
    assert samples[("nopic_tasks", labels(kind=TaskKind.REVIEW, state=TaskState.OPEN))] == 1
    assert samples[("nopic_tasks", labels(kind=TaskKind.REVIEW, state=TaskState.CLAIMED))] == 1
    assert samples[("nopic_tasks", labels(kind=TaskKind.RECONCILE, state=TaskState.OPEN))] == 0
    assert samples[("nopic_tasks_overdue", labels(kind=TaskKind.REVIEW))] == 1
    assert samples[("nopic_database_up", labels())] == 1


async def test_metrics_are_declared_as_text_in_the_openapi_document(api: httpx.AsyncClient):
    document = (await api.get("/openapi.json")).json()

    [media_type] = document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert media_type == "text/plain"
    assert "security" not in document["paths"]["/metrics"]["get"]
