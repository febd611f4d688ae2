"""After issuance the certifier voids a certificate or replaces it with a corrected one (R6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.flow import (
    CERTIFIER,
    EXPORTER,
    IMPORTER,
    Auth,
    days_from_today,
    delivered,
    entry,
    in_review,
    wait_status,
)

REASON = {"reason": "Lot number misprinted"}


@pytest.fixture
async def reviewed_id(live_api: httpx.AsyncClient, auth: Auth) -> str:
    certificate_id, _ = await in_review(live_api, auth)
    return certificate_id


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param(REASON, "no_change", id="nothing-to-change"),
        pytest.param(
            {
                **REASON,
                "product_name": "Fresh Hass avocados",
                "quantity_kg": 18000.0,
                "lot_numbers": ["L-2026-11"],
            },
            "no_change",
            id="same-values-are-no-change",
        ),
        pytest.param({**REASON, "hts_code": "08044000"}, "invalid", id="hts-code-of-8-digits"),
        pytest.param({**REASON, "hts_code": "080440002X"}, "invalid", id="hts-code-not-digits"),
        pytest.param({**REASON, "hts_code": "9999999999"}, "hts_unknown", id="hts-code-unknown"),
        pytest.param({**REASON, "quantity_kg": 0}, "invalid", id="quantity-zero"),
        pytest.param({**REASON, "quantity_kg": -5}, "invalid", id="quantity-negative"),
        pytest.param(
            {**REASON, "valid_until": days_from_today(-1)}, "invalid_validity", id="ends-early"
        ),
        pytest.param(
            {**REASON, "valid_from": days_from_today(31)}, "invalid_validity", id="starts-after-end"
        ),
        pytest.param(
            {**REASON, "valid_from": days_from_today(-31)},
            "invalid_validity",
            id="starts-over-30-days-before-the-replacement",
        ),
        pytest.param(
            {**REASON, "valid_from": days_from_today(366), "valid_until": days_from_today(367)},
            "invalid_validity",
            id="starts-over-365-days-after-the-replacement",
        ),
        pytest.param(
            {**REASON, "valid_until": days_from_today(367)},
            "invalid_validity",
            id="lasts-over-366-days",
        ),
        pytest.param({"quantity_kg": 100}, "invalid", id="no-reason"),
        pytest.param({"reason": "  ", "quantity_kg": 100}, "invalid", id="blank-reason"),
        pytest.param({**REASON, "coverage": "time_frame"}, "invalid", id="coverage-is-fixed"),
    ],
)
async def test_replace_refuses_invalid_changes_with_422(
    live_api: httpx.AsyncClient, auth: Auth, reviewed_id: str, body: dict[str, Any], code: str
):
    response = await live_api.post(
        f"/api/certificates/{reviewed_id}/replace", json=body, headers=auth(CERTIFIER)
    )

    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


async def test_a_time_frame_replacement_may_not_stretch_past_366_days(
    live_api: httpx.AsyncClient, auth: Auth
):
    certificate_id, _ = await in_review(
        live_api,
        auth,
        coverage="time_frame",
        valid_from=days_from_today(0),
        valid_until=days_from_today(180),
    )

    response = await live_api.post(
        f"/api/certificates/{certificate_id}/replace",
        json={**REASON, "valid_until": days_from_today(367)},
        headers=auth(CERTIFIER),
    )

    assert (response.status_code, response.json()["code"]) == (422, "invalid_validity")
    assert response.json()["detail"].startswith("valid_until: must be at most 366 days after")


async def test_the_exporter_may_not_void_and_the_certifier_voids(
    live_api: httpx.AsyncClient, auth: Auth
):
    certificate = await delivered(live_api, auth)
    url = f"/api/certificates/{certificate['id']}"

    by_exporter = await live_api.post(f"{url}/void", json=REASON, headers=auth(EXPORTER))
    voided = await live_api.post(f"{url}/void", json=REASON, headers=auth(CERTIFIER))
    use = await live_api.post(f"{url}/entries", json=entry("E-1"), headers=auth(IMPORTER))
    verified = await live_api.get(
        f"/api/verify/{certificate['number']}", params={"code": certificate["verification_code"]}
    )

    assert by_exporter.status_code == 403, by_exporter.text
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "voided"
    assert (use.status_code, use.json()["code"]) == (409, "not_usable")
    assert (verified.json()["status"], verified.json()["valid"]) == ("voided", False)


async def test_a_replacement_points_to_the_certificate_it_replaces(
    live_api: httpx.AsyncClient, auth: Auth
):
    original = await delivered(live_api, auth)
    url = f"/api/certificates/{original['id']}/replace"
    body = {**REASON, "quantity_kg": 17500, "lot_numbers": ["L-2026-12"]}

    by_exporter = await live_api.post(url, json=body, headers=auth(EXPORTER))
    response = await live_api.post(url, json=body, headers=auth(CERTIFIER))

    assert by_exporter.status_code == 403, by_exporter.text
    assert response.status_code == 201, response.text
    replacement = response.json()
    assert replacement["id"] != original["id"]
    assert replacement["replaces"] == original["id"]
    assert replacement["revision"] == original["revision"] + 1
    assert (replacement["quantity_kg"], replacement["lot_numbers"]) == (17500, ["L-2026-12"])
    assert replacement["product_name"] == original["product_name"]
    old = await live_api.get(f"/api/certificates/{original['id']}", headers=auth(IMPORTER))
    assert old.json()["status"] == "replaced"
    assert old.json()["replaced_by"] == replacement["id"]

    # The replacement is issued in its own right: a number of its own, delivered to the importer.
    issued = await wait_status(live_api, auth, replacement["id"], "delivered")
    assert issued["number"] not in (None, original["number"])
