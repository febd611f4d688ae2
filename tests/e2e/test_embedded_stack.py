"""The embedded stack as a user runs it: `nopic dev` with the real Temporal dev server, worker,
API and SMTP sink as separate processes, driven over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.stack import DevStack, login, wait_mail, wait_status

TODAY = datetime.now(UTC).date()
REQUEST = {
    "importer_id": "5550000002",
    "coverage": "single_shipment",
    # R2: the validity starts within 30 days before the request, so from today, whenever it runs.
    "valid_from": TODAY.isoformat(),
    "valid_until": (TODAY + timedelta(days=30)).isoformat(),
    "country_of_origin": "PE",
    "port_of_export": "Callao",
    "port_of_entry": "Los Angeles",
    "shipment": {
        "transport_mode": "sea",
        "bill_of_lading": "MSCU1234567",
        "containers": ["MSCU7654321"],
    },
    "lines": [
        {
            "hts_code": "0804400020",
            "product_name": "Fresh Hass avocados",
            "organic_category": "organic",
            "quantity_kg": 18000,
            "lot_numbers": ["L-2026-11"],
        },
        {
            "hts_code": "0901110015",
            "product_name": "Green Arabica coffee",
            "organic_category": "100_percent_organic",
            "quantity_kg": 12000,
            "lot_numbers": ["C-77"],
        },
    ],
}


def _task_of(client: httpx.Client, headers: dict[str, str], cert_id: str) -> dict[str, Any]:
    items = client.get("/api/tasks", headers=headers).json()["items"]
    return next(t for t in items if t["certificate_id"] == cert_id)


def test_two_line_request_through_review_over_http(stack: DevStack) -> None:
    banner = stack.start()
    assert "certifier@demo.test" in banner
    assert "demo data seeded" in banner
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        assert client.get("/healthz").status_code == 200
        exporter = login(client, "exporter@demo.test")
        certifier = login(client, "certifier@demo.test")
        certifier2 = login(client, "certifier2@demo.test")
        other = login(client, "other.certifier@demo.test")

        created = client.post("/api/requests", json=REQUEST, headers=exporter)
        assert created.status_code == 201, created.text
        first, second = (c["id"] for c in created.json()["certificates"])
        for cert in (first, second):
            wait_status(client, exporter, cert, "in_review")
        wait_mail(stack, "certifier@demo.test", "review")

        # A worker killed with -9 loses nothing: the supervisor starts another, and the
        # workflows go on from their histories.
        stack.kill_worker()

        task1 = _task_of(client, certifier, first)
        task2 = _task_of(client, certifier, second)
        claim = client.post(f"/api/tasks/{task1['id']}/claim", headers=certifier)
        assert claim.status_code == 200, claim.text
        taken = client.post(f"/api/tasks/{task1['id']}/claim", headers=certifier2)
        assert taken.status_code == 409
        assert client.post(f"/api/tasks/{task1['id']}/claim", headers=other).status_code == 404
        assert client.get(f"/api/certificates/{first}", headers=other).status_code == 404
        assert client.get("/api/tasks", headers=other).json()["items"] == []
        decide = client.post(
            f"/api/certificates/{first}/decision",
            json={"decision": "approve", "comment": "fine"},
            headers=exporter,
        )
        assert decide.status_code == 403

        asked = client.post(
            f"/api/certificates/{first}/decision",
            json={"decision": "request_info", "comment": "Send the lot's harvest record"},
            headers=certifier,
        )
        assert asked.status_code == 200, asked.text
        assert asked.json()["status"] == "info_requested"
        wait_mail(stack, "exporter@demo.test", "information")

        answered = client.post(
            f"/api/certificates/{first}/answer",
            json={"message": "Harvest record attached to the file"},
            headers=exporter,
        )
        assert answered.status_code == 200, answered.text
        assert answered.json()["status"] == "in_review"
        follow_up = _task_of(client, certifier, first)
        if follow_up["assignee"] is None:
            claimed = client.post(f"/api/tasks/{follow_up['id']}/claim", headers=certifier)
            assert claimed.status_code == 200
        approved = client.post(
            f"/api/certificates/{first}/decision",
            json={"decision": "approve", "comment": "records complete"},
            headers=certifier,
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] in {"approved", "issued", "delivered"}

        assert client.post(f"/api/tasks/{task2['id']}/claim", headers=certifier2).status_code == 200
        rejected = client.post(
            f"/api/certificates/{second}/decision",
            json={"decision": "reject", "comment": "lot not on the inspection report"},
            headers=certifier2,
        )
        assert rejected.status_code == 200, rejected.text
        assert rejected.json()["status"] == "rejected"
        wait_mail(stack, "exporter@demo.test", "reject")

        # Approval starts issuance: a number, the signed document, delivery to the importer.
        body = wait_status(client, exporter, first, "delivered")
        assert body["number"] is not None
        events = client.get(f"/api/certificates/{first}/events", headers=exporter).json()
        actions = [e["action"] for e in events["items"]]
        for action in ("submitted", "claimed", "info_requested", "answered", "approved"):
            assert action in actions
        for action in ("issued", "delivered"):
            assert action in actions
        assert stack.pid("worker") > 0
    stack.stop()

    # A second start keeps all data.
    banner = stack.start()
    assert "existing data kept" in banner
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        exporter = login(client, "exporter@demo.test")
        kept = client.get(f"/api/certificates/{first}", headers=exporter).json()
        assert (kept["status"], kept["number"]) == ("delivered", body["number"])
        assert client.get(f"/api/certificates/{second}", headers=exporter).json()["status"] == (
            "rejected"
        )
