"""Certificates carry proprietary trade data: outside their parties, everything is a 404."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.flow import (
    CERTIFIER,
    EXPORTER,
    IMPORTER,
    OTHER_CERTIFIER,
    OUTSIDERS,
    Auth,
    in_review,
)


def endpoints(request_id: str, certificate_id: str, task_id: str) -> list[tuple[str, str, Any]]:
    """Every endpoint that names one request, certificate or task."""
    certificate = f"/api/certificates/{certificate_id}"
    return [
        ("GET", f"/api/requests/{request_id}", None),
        ("GET", certificate, None),
        ("GET", f"{certificate}/events", None),
        ("POST", f"{certificate}/answer", {"message": "hello"}),
        ("POST", f"{certificate}/withdraw", {"reason": "no longer needed"}),
        ("POST", f"{certificate}/decision", {"decision": "approve"}),
        ("POST", f"/api/tasks/{task_id}/claim", None),
        ("POST", f"/api/tasks/{task_id}/release", None),
    ]


@pytest.fixture
async def reviewed(live_api: httpx.AsyncClient, auth: Auth) -> tuple[str, str, str]:
    """(request id, certificate id, task id) of a certificate in review."""
    certificate_id, task = await in_review(live_api, auth)
    read = await live_api.get(f"/api/certificates/{certificate_id}", headers=auth(EXPORTER))
    return read.json()["request_id"], certificate_id, task["id"]


@pytest.mark.parametrize("email", OUTSIDERS)
async def test_every_endpoint_is_a_404_outside_the_parties(
    live_api: httpx.AsyncClient, auth: Auth, reviewed: tuple[str, str, str], email: str
):
    for method, url, body in endpoints(*reviewed):
        response = await live_api.request(method, url, json=body, headers=auth(email))
        assert response.status_code == 404, f"{email} {method} {url}: {response.text}"

        # Exactly what an id that does not exist gets: nothing tells the two apart.
        unknown = url
        for known in reviewed:
            unknown = unknown.replace(known, str(uuid.uuid4()))
        missing = await live_api.request(method, unknown, json=body, headers=auth(email))
        assert response.json() == missing.json(), f"{email} {method} {url}"


@pytest.mark.parametrize("email", OUTSIDERS)
async def test_lists_do_not_show_another_partys_certificate(
    live_api: httpx.AsyncClient, auth: Auth, reviewed: tuple[str, str, str], email: str
):
    _, certificate_id, task_id = reviewed

    listed = await live_api.get("/api/certificates", headers=auth(email))
    queue = await live_api.get("/api/tasks", headers=auth(email))

    assert listed.status_code == 200
    assert certificate_id not in [c["id"] for c in listed.json()["items"]]
    if email == OTHER_CERTIFIER:
        assert task_id not in [t["id"] for t in queue.json()["items"]]
    else:
        assert (queue.status_code, queue.json()["code"]) == (403, "not_a_certifier")


@pytest.mark.parametrize("email", [CERTIFIER, EXPORTER, IMPORTER])
async def test_each_party_reads_the_certificate_and_its_timeline(
    live_api: httpx.AsyncClient, auth: Auth, reviewed: tuple[str, str, str], email: str
):
    request_id, certificate_id, task_id = reviewed

    read = await live_api.get(f"/api/certificates/{certificate_id}", headers=auth(email))
    events = await live_api.get(f"/api/certificates/{certificate_id}/events", headers=auth(email))
    listed = await live_api.get("/api/certificates", headers=auth(email))

    assert read.status_code == 200, read.text
    certificate = read.json()
    assert certificate["request_id"] == request_id
    assert certificate["status"] == "in_review"
    assert certificate["number"] is None
    assert certificate["verification_code"] is None
    assert certificate["remaining_kg"] == certificate["quantity_kg"] == 18000
    assert certificate["replaces"] is None
    assert certificate["replaced_by"] is None
    assert isinstance(certificate["flags"], list)
    expected_tasks = [task_id] if email == CERTIFIER else []
    assert [t["id"] for t in certificate["tasks"]] == expected_tasks
    assert events.status_code == 200
    assert certificate_id in [c["id"] for c in listed.json()["items"]]


@pytest.mark.parametrize("email", [EXPORTER, IMPORTER])
async def test_a_party_that_is_not_the_certifier_has_no_task_to_claim(
    live_api: httpx.AsyncClient, auth: Auth, reviewed: tuple[str, str, str], email: str
):
    _, _, task_id = reviewed

    response = await live_api.post(f"/api/tasks/{task_id}/claim", headers=auth(email))

    assert response.status_code == 404


async def test_the_importer_may_not_answer_or_withdraw(
    live_api: httpx.AsyncClient, auth: Auth, reviewed: tuple[str, str, str]
):
    _, certificate_id, _ = reviewed
    url = f"/api/certificates/{certificate_id}"

    withdraw = await live_api.post(
        f"{url}/withdraw", json={"reason": "mine now"}, headers=auth(IMPORTER)
    )

    assert withdraw.status_code == 403
