"""Property: whatever text an exporter types into a request, the system answers without a 5xx,
and a request it accepts goes through approval on the real stack and reaches `delivered`.

Hypothesis writes every free-text field of a request: half of the examples from printable
characters of any script (mostly accepted), half from any character at all (mostly refused, each
refusal a 422 that names a field the example wrote). Accepted ones run on the live API, the real
workflows and the SMTP server, through claim and approval to delivery and the document download.
"""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.api.flow import (
    CERTIFIER,
    EXPORTER,
    IMPORTER,
    Auth,
    in_force,
    line,
    request_body,
    review_task,
    wait_status,
)

# Fields and the lengths the API allows; examples go a little past them.
BOUNDS = {
    "port_of_export": 120,
    "port_of_entry": 120,
    "transport_mode": 32,
    "bill_of_lading": 64,
    "container": 64,
    "product_name": 200,
    "lot_number": 64,
}
# DESIGN 5's printable text: no control, format, separator, surrogate, private or unassigned one.
PRINTABLE = st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
ANY_CHARACTER = st.characters(codec="utf-8")  # everything but surrogates, which JSON cannot carry


@st.composite
def typed_request(draw: st.DrawFn) -> dict[str, Any]:
    """A request body whose every free-text field Hypothesis wrote."""
    alphabet = draw(st.sampled_from([PRINTABLE, ANY_CHARACTER]))

    def text(field: str) -> str:
        return draw(st.text(alphabet, min_size=1, max_size=BOUNDS[field] + 8), label=field)

    def texts(field: str) -> list[str]:
        return draw(st.lists(st.text(alphabet, min_size=1, max_size=BOUNDS[field]), max_size=3))

    shipment = {
        "transport_mode": text("transport_mode"),
        "bill_of_lading": text("bill_of_lading"),
        "containers": texts("container"),
    }
    # One kilogram each: the exporter's declared capacity (R4) outlasts any number of examples.
    product = line(
        product_name=text("product_name"), lot_numbers=texts("lot_number"), quantity_kg=1
    )
    return request_body(
        **in_force(),
        port_of_export=text("port_of_export"),
        port_of_entry=text("port_of_entry"),
        shipment=shipment,
        lines=[product],
    )


def answered(response: httpx.Response) -> httpx.Response:
    assert response.status_code < 500, (response.request.url, response.text)
    return response


async def approve_and_deliver(api: httpx.AsyncClient, auth: Auth, certificate_id: str) -> None:
    task = await review_task(api, auth, certificate_id)
    claim = answered(await api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER)))
    assert claim.status_code == 200, claim.text
    decision = answered(
        await api.post(
            f"/api/certificates/{certificate_id}/decision",
            json={"decision": "approve"},
            headers=auth(CERTIFIER),
        )
    )
    assert decision.status_code == 200, decision.text
    await wait_status(api, auth, certificate_id, "delivered")
    for kind in ("pdf", "html"):
        document = answered(
            await api.get(
                f"/api/certificates/{certificate_id}/document.{kind}", headers=auth(IMPORTER)
            )
        )
        assert document.status_code == 200, document.text


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    # One live API serves every example: requests are independent of each other.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=typed_request())
async def test_typed_text_is_refused_with_422_or_delivered(
    live_api: httpx.AsyncClient, auth: Auth, body: dict[str, Any]
):
    response = answered(await live_api.post("/api/requests", json=body, headers=auth(EXPORTER)))

    if response.status_code == 422:
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields, response.text
        event("refused with 422")
        assert all(f.split(".")[0] in {*body, "shipment", "lines"} for f in fields), fields
        return
    assert response.status_code == 201, response.text
    [certificate] = response.json()["certificates"]
    stored = answered(
        await live_api.get(f"/api/certificates/{certificate['id']}", headers=auth(EXPORTER))
    )
    assert stored.json()["product_name"] == body["lines"][0]["product_name"].strip()
    assert stored.json()["lot_numbers"] == [lot.strip() for lot in body["lines"][0]["lot_numbers"]]
    await approve_and_deliver(live_api, auth, certificate["id"])
    event("accepted and delivered")
