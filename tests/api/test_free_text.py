"""Free text is printable and bounded in every body (DESIGN 5): a refusal is a 422 naming the field.

Validation happens before any route runs, so the commands on issued certificates are checked
against a certificate id that does not exist: a body that passes gets 404, one that fails 422.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.flow import (
    CERTIFIER,
    EXPORTER,
    IMPORTER,
    Auth,
    days_from_today,
    entry,
    line,
    request_body,
)

NO_SUCH_CERTIFICATE = "/api/certificates/00000000-0000-4000-8000-000000000000"
SHIPMENT = request_body()["shipment"]


@dataclass(frozen=True)
class FreeText:
    url: str
    field: str  # where the 422 says the problem is
    email: str
    max_length: int
    multi_line: bool
    body: Callable[[str], dict[str, Any]]

    @property
    def id(self) -> str:
        return f"{self.url.rsplit('/', 1)[-1]}:{self.field}"


FIELDS = [
    FreeText(
        "/api/requests", "port_of_export", EXPORTER, 120, False,
        lambda v: request_body(port_of_export=v),
    ),
    FreeText(
        "/api/requests", "port_of_entry", EXPORTER, 120, False,
        lambda v: request_body(port_of_entry=v),
    ),
    FreeText(
        "/api/requests", "shipment.transport_mode", EXPORTER, 32, False,
        lambda v: request_body(shipment={**SHIPMENT, "transport_mode": v}),
    ),
    FreeText(
        "/api/requests", "shipment.bill_of_lading", EXPORTER, 64, False,
        lambda v: request_body(shipment={**SHIPMENT, "bill_of_lading": v}),
    ),
    FreeText(
        "/api/requests", "shipment.containers.1", EXPORTER, 64, False,
        lambda v: request_body(shipment={**SHIPMENT, "containers": ["MSCU7654321", v]}),
    ),
    FreeText(
        "/api/requests", "lines.0.product_name", EXPORTER, 200, False,
        lambda v: request_body(lines=[line(product_name=v)]),
    ),
    FreeText(
        "/api/requests", "lines.1.lot_numbers.0", EXPORTER, 64, False,
        lambda v: request_body(lines=[line(), line(lot_numbers=[v])]),
    ),
    FreeText(
        f"{NO_SUCH_CERTIFICATE}/answer", "message", EXPORTER, 5000, True,
        lambda v: {"message": v},
    ),
    FreeText(
        f"{NO_SUCH_CERTIFICATE}/withdraw", "reason", EXPORTER, 5000, True,
        lambda v: {"reason": v},
    ),
    FreeText(
        f"{NO_SUCH_CERTIFICATE}/decision", "comment", CERTIFIER, 5000, True,
        lambda v: {"decision": "reject", "comment": v},
    ),
    FreeText(
        f"{NO_SUCH_CERTIFICATE}/void", "reason", CERTIFIER, 5000, True,
        lambda v: {"reason": v},
    ),
    FreeText(
        f"{NO_SUCH_CERTIFICATE}/replace", "reason", CERTIFIER, 5000, True,
        lambda v: {"reason": v, "quantity_kg": 10},
    ),
    FreeText(
        f"{NO_SUCH_CERTIFICATE}/replace", "product_name", CERTIFIER, 200, False,
        lambda v: {"reason": "Misprint", "product_name": v},
    ),
    FreeText(
        f"{NO_SUCH_CERTIFICATE}/replace", "lot_numbers.0", CERTIFIER, 64, False,
        lambda v: {"reason": "Misprint", "lot_numbers": [v]},
    ),
    FreeText(
        f"{NO_SUCH_CERTIFICATE}/entries", "port_of_entry", IMPORTER, 120, False,
        lambda v: entry("E-1", port_of_entry=v),
    ),
    FreeText(
        f"{NO_SUCH_CERTIFICATE}/actuals", "shipments.0.reference", EXPORTER, 64, False,
        lambda v: {"shipments": [{"reference": v, "net_kg": 1, "date": days_from_today(0)}]},
    ),
    FreeText(
        f"{NO_SUCH_CERTIFICATE}/actuals/confirm", "comment", CERTIFIER, 5000, True,
        lambda v: {"comment": v},
    ),
]  # fmt: skip

# What no free text may hold, with the word the refusal uses for it.
UNPRINTABLE = {
    "\x00": "control character U+0000",
    "Lot\x7f7": "control character U+007F",
    "Lot\t7": "control character U+0009",
    "Lot\x857": "control character U+0085",
    "Lot\u202e7": "invisible format character U+202E",  # right-to-left override
    "Lot\u20667": "invisible format character U+2066",  # left-to-right isolate
    "Lot\u200b7": "invisible format character U+200B",  # zero-width space
    "Lot\u00ad7": "invisible format character U+00AD",  # soft hyphen
    "\ufeffLot": "invisible format character U+FEFF",  # byte order mark
    "Lot\u20287": "line separator U+2028",
    "Lot\u20297": "paragraph separator U+2029",
    "Lot\ue0007": "private-use character U+E000",
    "Lot\u03787": "unassigned character U+0378",
}
LINE_BREAKS = {
    "Lot\n7": "line break U+000A",
    "Lot\r\n7": "line break U+000D",
    "Lot 7\n": "line break U+000A",  # not stripped away: refused
}
LONE_CARRIAGE_RETURN = {"Lot\r7": "control character U+000D"}


def refusals(spec: FreeText) -> dict[str, str]:
    too_long = "x" * (spec.max_length + 1)
    breaks = LONE_CARRIAGE_RETURN if spec.multi_line else LINE_BREAKS
    return {**UNPRINTABLE, **breaks, too_long: f"at most {spec.max_length} characters"}


@pytest.mark.parametrize("spec", FIELDS, ids=[spec.id for spec in FIELDS])
async def test_unprintable_or_overlong_text_gets_422_naming_the_field(
    api: httpx.AsyncClient, auth: Auth, spec: FreeText
):
    for value, reason in refusals(spec).items():
        response = await api.post(spec.url, json=spec.body(value), headers=auth(spec.email))

        assert response.status_code == 422, (value, response.text)
        error = response.json()
        assert error["code"] == "invalid"
        assert [e["field"] for e in error["errors"]] == [spec.field], value
        assert error["detail"].startswith(f"{spec.field}: "), value
        assert reason in error["detail"], (value, error["detail"])


MULTI_LINE = [spec for spec in FIELDS if spec.multi_line]


@pytest.mark.parametrize("spec", MULTI_LINE, ids=[spec.id for spec in MULTI_LINE])
async def test_a_multi_line_field_takes_line_breaks_of_a_form_too(
    api: httpx.AsyncClient, auth: Auth, spec: FreeText
):
    for value in ("Two lines\nof text", "Two lines\r\nfrom a browser form", "x" * spec.max_length):
        response = await api.post(spec.url, json=spec.body(value), headers=auth(spec.email))

        # Past validation, the certificate is looked up: it does not exist.
        assert response.status_code == 404, (value, response.text)


PRINTABLE = [
    "Palta Hass orgánica (Señor de Muruhuay)",
    "有机牛油果 日本語 한국어",
    "أفوكادو عضوي",
    "जैविक एवोकाडो",
    "อะโวคาโด",
    "Z\u0324\u0354a\u033al\u0339g\u0330o avocado \U0001f951 \u00a9\u2122 \u20ac",  # marks, emoji
    "Kaffee\u00a0gr\u00fcn\u3000\u2042 \u00bd",  # no-break and ideographic spaces
]


async def test_printable_text_of_every_script_is_accepted(api: httpx.AsyncClient, auth: Auth):
    for text in PRINTABLE:
        body = request_body(
            port_of_export=text,
            shipment={**SHIPMENT, "transport_mode": text[:32]},
            lines=[line(product_name=text, lot_numbers=[text])],
        )

        response = await api.post("/api/requests", json=body, headers=auth(EXPORTER))

        assert response.status_code == 201, (text, response.text)


async def test_an_id_of_the_registry_is_ten_digits(api: httpx.AsyncClient, auth: Auth):
    for value in ("555000000\x00", "٥٥٥٠٠٠٠٠٠٢", "5550000002" * 2):
        response = await api.post(
            "/api/requests", json=request_body(importer_id=value), headers=auth(EXPORTER)
        )

        assert response.status_code == 422, (value, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["importer_id"]
