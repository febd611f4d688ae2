"""R8: the exporter reports the actual net weights; the certifier confirms them from the queue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from config.settings import Settings
from tests.api.conftest import settings_for
from tests.api.flow import (
    CERTIFIER,
    CERTIFIER2,
    EXPORTER,
    IMPORTER,
    Auth,
    delivered,
    eventually,
    line,
)
from tests.conftest import SmtpServer

TODAY = datetime.now(UTC).date().isoformat()


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, temporal_client: Client, smtp_server: SmtpServer
) -> Settings:
    """Asks for the report as soon as the certificate is delivered: the notice is due at once."""
    address = temporal_client.service_client.config.target_host
    base = settings_for(database_url, tmp_path, temporal_address=address, smtp=smtp_server)
    return base.model_copy(update={"reconciliation_notice_days": 400})


def shipment(reference: str, kg: float, **changes: Any) -> dict[str, Any]:
    return {"reference": reference, "net_kg": kg, "date": TODAY, **changes}


async def reconcile_task(api: httpx.AsyncClient, auth: Auth, certificate_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        queue = await api.get("/api/tasks", params={"kind": "reconcile"}, headers=auth(CERTIFIER))
        assert queue.status_code == 200, queue.text
        mine = [t for t in queue.json()["items"] if t["certificate_id"] == certificate_id]
        return mine[0] if mine else None

    return await eventually(probe, what=f"the reconcile task of {certificate_id}")


async def test_actuals_are_reported_and_confirmed_through_the_reconcile_task(
    live_api: httpx.AsyncClient, auth: Auth
):
    certificate = await delivered(
        live_api, auth, coverage="multiple_shipments", lines=[line(quantity_kg=1000)]
    )
    url = f"/api/certificates/{certificate['id']}"

    async def requested() -> bool:
        read = await live_api.get(url, headers=auth(EXPORTER))
        return bool(read.json()["reconciliation"] == "requested")

    await eventually(requested, what="the request for actual weights")
    report = {"shipments": [shipment("BL-1", 400), shipment("BL-2", 550.5)]}
    by_importer = await live_api.post(f"{url}/actuals", json=report, headers=auth(IMPORTER))
    reported = await live_api.post(f"{url}/actuals", json=report, headers=auth(EXPORTER))

    assert by_importer.status_code == 403, by_importer.text
    assert reported.status_code == 200, reported.text
    assert reported.json()["status"] == "delivered"
    assert reported.json()["reconciliation"] == "reported"
    assert reported.json()["reported_kg"] == 950.5
    assert [s["reference"] for s in reported.json()["shipments"]] == ["BL-1", "BL-2"]

    task = await reconcile_task(live_api, auth, certificate["id"])
    assert task["kind"] == "reconcile"
    unclaimed = await live_api.post(
        f"{url}/actuals/confirm", json={"comment": "ok"}, headers=auth(CERTIFIER)
    )
    assert (unclaimed.status_code, unclaimed.json()["code"]) == (409, "task_not_claimed")
    claimed = await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    assert claimed.status_code == 200, claimed.text
    by_colleague = await live_api.post(
        f"{url}/actuals/confirm", json={"comment": "ok"}, headers=auth(CERTIFIER2)
    )
    assert (by_colleague.status_code, by_colleague.json()["code"]) == (409, "task_taken")

    confirmed = await live_api.post(
        f"{url}/actuals/confirm",
        json={"comment": "Matches the bills of lading."},
        headers=auth(CERTIFIER),
    )

    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["reconciliation"] == "confirmed"
    seen = await live_api.get(f"{url}/actuals", headers=auth(IMPORTER))
    assert seen.json()["reported_kg"] == 950.5


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"shipments": []}, id="no-shipment"),
        pytest.param({"shipments": [shipment("BL-1", 0)]}, id="zero-kg"),
        pytest.param({"shipments": [shipment("BL-1", 5), shipment("BL-1", 6)]}, id="same-ref"),
        pytest.param({"shipments": [shipment(" ", 5)]}, id="blank-reference"),
        pytest.param({"shipments": [shipment("BL-1", 5, date="soon")]}, id="bad-date"),
        pytest.param({}, id="no-shipments-field"),
    ],
)
async def test_an_invalid_report_is_422(api: httpx.AsyncClient, auth: Auth, body: dict[str, Any]):
    url = f"/api/certificates/{uuid.uuid4()}/actuals"

    response = await api.post(url, json=body, headers=auth(EXPORTER))

    assert (response.status_code, response.json()["code"]) == (422, "invalid"), response.text
