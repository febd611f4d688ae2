"""After issuance as before: outside a certificate's parties, every endpoint is a 404."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.api.flow import OUTSIDERS, Auth, delivered, entry


def endpoints(certificate_id: str) -> list[tuple[str, str, Any]]:
    """Every endpoint of issue 3 that names a certificate."""
    url = f"/api/certificates/{certificate_id}"
    shipment = {"reference": "BL-1", "net_kg": 100, "date": "2026-12-05"}
    return [
        ("POST", f"{url}/void", {"reason": "mine now"}),
        ("POST", f"{url}/replace", {"reason": "mine now", "quantity_kg": 1}),
        ("POST", f"{url}/acknowledge", None),
        ("POST", f"{url}/entries", entry("ENT-1")),
        ("GET", f"{url}/actuals", None),
        ("POST", f"{url}/actuals", {"shipments": [shipment]}),
        ("POST", f"{url}/actuals/confirm", {"comment": "fine"}),
        ("GET", f"{url}/document.pdf", None),
        ("GET", f"{url}/document.html", None),
        ("GET", f"{url}/customs", None),
        ("GET", f"{url}/entries", None),
    ]


async def test_every_new_endpoint_is_a_404_outside_the_parties(
    live_api: httpx.AsyncClient, auth: Auth
):
    certificate = await delivered(live_api, auth)
    known = endpoints(certificate["id"])
    unknown = endpoints(str(uuid.uuid4()))

    for email in OUTSIDERS:
        for (method, url, body), (_, missing_url, _) in zip(known, unknown, strict=True):
            response = await live_api.request(method, url, json=body, headers=auth(email))
            missing = await live_api.request(method, missing_url, json=body, headers=auth(email))
            assert response.status_code == 404, f"{email} {method} {url}: {response.text}"
            # Exactly what an id that does not exist gets: nothing tells the two apart.
            assert response.json() == missing.json(), f"{email} {method} {url}"
