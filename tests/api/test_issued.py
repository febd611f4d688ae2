"""An issued certificate: its fields, document, public verification, customs data, receipt."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.document_format import verify_document
from persistence.models import Certificate
from tests.api.flow import (
    CERTIFIER,
    EXPORTER,
    IMPORTER,
    OTHER_IMPORTER,
    Auth,
    days_from_today,
    delivered,
    entry,
    in_review,
    line,
)

PARTIES = (CERTIFIER, EXPORTER, IMPORTER)
DOCUMENTS = ("document.pdf", "document.html")


@pytest.fixture
async def certificate(live_api: httpx.AsyncClient, auth: Auth) -> dict[str, Any]:
    return await delivered(
        live_api, auth, coverage="multiple_shipments", lines=[line(quantity_kg=1000)]
    )


async def test_before_issuance_there_is_no_document_and_nothing_to_file(
    live_api: httpx.AsyncClient, auth: Auth
):
    certificate_id, _ = await in_review(live_api, auth)
    url = f"/api/certificates/{certificate_id}"

    for email in PARTIES:
        for document in DOCUMENTS:
            response = await live_api.get(f"{url}/{document}", headers=auth(email))
            assert (response.status_code, response.json()["code"]) == (409, "not_issued")
    customs = await live_api.get(f"{url}/customs", headers=auth(IMPORTER))
    assert (customs.status_code, customs.json()["code"]) == (409, "not_issued")


async def test_an_issued_certificate_shows_its_number_and_code_to_its_parties(
    live_api: httpx.AsyncClient, auth: Auth, certificate: dict[str, Any]
):
    for email in PARTIES:
        read = await live_api.get(f"/api/certificates/{certificate['id']}", headers=auth(email))
        body = read.json()
        assert body["number"] == certificate["number"]
        assert body["number"].startswith("555-5550000001-")
        assert len(body["number"]) == 21
        assert body["verification_code"]
        assert body["issued_at"] is not None
        assert (body["quantity_kg"], body["remaining_kg"], body["revision"]) == (1000, 1000, 0)
        assert body["acknowledged_at"] is None
        assert (body["replaces"], body["replaced_by"]) == (None, None)


async def test_every_party_downloads_the_signed_document(
    live_api: httpx.AsyncClient, auth: Auth, certificate: dict[str, Any]
):
    url = f"/api/certificates/{certificate['id']}"
    number = certificate["number"]

    for email in PARTIES:
        pdf = await live_api.get(f"{url}/document.pdf", headers=auth(email))
        html = await live_api.get(f"{url}/document.html", headers=auth(email))
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert f'filename="{number}.pdf"' in pdf.headers["content-disposition"]
        assert pdf.content.startswith(b"%PDF")
        assert html.status_code == 200, html.text
        assert html.headers["content-type"].startswith("text/html")
        assert number in html.text

    # The key the API publishes is the one the document was signed with.
    key = (await live_api.get("/api/keys/signing")).json()
    check = verify_document(pdf.content, key["public_key_pem"].encode())
    assert check.valid, check.reason
    assert (check.key_id, check.number) == (key["key_id"], number)


async def test_verification_needs_the_code_and_tells_only_validity(
    live_api: httpx.AsyncClient, auth: Auth, certificate: dict[str, Any]
):
    number, code = certificate["number"], certificate["verification_code"]

    # No Authorization header: the check is public.
    right = await live_api.get(f"/api/verify/{number}", params={"code": code})
    wrong = await live_api.get(f"/api/verify/{number}", params={"code": code[::-1] + "x"})
    unknown = await live_api.get("/api/verify/555-5550000001-999999", params={"code": code})
    missing = await live_api.get(f"/api/verify/{number}")

    assert right.status_code == 200, right.text
    assert right.json() == {
        "number": number,
        "valid": True,
        "status": "delivered",
        "valid_from": certificate["valid_from"],
        "valid_until": certificate["valid_until"],
    }
    assert wrong.status_code == 404
    assert wrong.json() == unknown.json()
    assert missing.status_code == 422
    # Signing in buys nothing: without the code, an outsider learns as little as anyone.
    outsider = await live_api.get(
        f"/api/verify/{number}", params={"code": "nope"}, headers=auth(OTHER_IMPORTER)
    )
    assert outsider.json() == unknown.json()


async def test_a_certificate_not_yet_in_force_verifies_as_not_valid(
    live_api: httpx.AsyncClient, auth: Auth
):
    certificate = await delivered(
        live_api, auth, valid_from=days_from_today(30), valid_until=days_from_today(60)
    )

    response = await live_api.get(
        f"/api/verify/{certificate['number']}", params={"code": certificate["verification_code"]}
    )

    assert response.status_code == 200, response.text
    assert (response.json()["valid"], response.json()["status"]) == (False, "delivered")


async def test_the_signing_key_is_public(api: httpx.AsyncClient):
    response = await api.get("/api/keys/signing")

    assert response.status_code == 200, response.text
    key = response.json()
    assert set(key) == {"algorithm", "key_id", "public_key_pem", "previous"}
    assert key["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    # No key replaced yet: the rotation lists them (tests/api/test_public_key_only.py).
    assert key["previous"] == []
    assert len(key["key_id"]) == 16


async def test_the_customs_view_is_for_the_named_importer(
    live_api: httpx.AsyncClient, auth: Auth, certificate: dict[str, Any]
):
    url = f"/api/certificates/{certificate['id']}"
    await live_api.post(f"{url}/entries", json=entry("ENT-7", 2, 250), headers=auth(IMPORTER))

    customs = await live_api.get(f"{url}/customs", headers=auth(IMPORTER))
    by_exporter = await live_api.get(f"{url}/customs", headers=auth(EXPORTER))
    by_certifier = await live_api.get(f"{url}/customs", headers=auth(CERTIFIER))

    assert customs.status_code == 200, customs.text
    view = customs.json()
    assert view["number"] == certificate["number"]
    assert view["hts_code"] == certificate["hts_code"]
    assert (view["quantity_kg"], view["remaining_kg"]) == (1000, 750)
    assert view["lot_numbers"] == ["L-2026-11"]
    assert (view["valid_from"], view["valid_until"]) == (
        certificate["valid_from"],
        certificate["valid_until"],
    )
    assert view["status"] == "delivered"
    assert view["entries"] == [
        {
            "entry_number": "ENT-7",
            "line_number": 2,
            "quantity_kg": 250,
            "entry_date": entry("ENT-7")["entry_date"],
            "port_of_entry": "Los Angeles",
        }
    ]
    assert by_exporter.status_code == 403
    assert by_certifier.status_code == 403


async def test_the_importer_acknowledges_receipt(
    live_api: httpx.AsyncClient, auth: Auth, certificate: dict[str, Any]
):
    url = f"/api/certificates/{certificate['id']}/acknowledge"

    by_exporter = await live_api.post(url, headers=auth(EXPORTER))
    acknowledged = await live_api.post(url, headers=auth(IMPORTER))

    assert by_exporter.status_code == 403, by_exporter.text
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["status"] == "delivered"
    assert acknowledged.json()["acknowledged_at"] is not None


async def test_a_certificate_valid_to_the_end_of_the_calendar_verifies_without_error(
    live_api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
):
    """Accepted before R2 had a window, such a date once made verification answer 500."""
    certificate = await delivered(live_api, auth)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Certificate)
            .where(Certificate.id == certificate["id"])
            .values(valid_until=date.max)
        )
    answer = await live_api.get(
        f"/api/verify/{certificate['number']}", params={"code": certificate["verification_code"]}
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["valid"], answer.json()["valid_until"]) == (True, "9999-12-31")
