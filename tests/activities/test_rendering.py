"""The certificate document made from hostile stored text: escaped, marked, never a failure."""

from __future__ import annotations

import io
from typing import Any

import pytest
from markupsafe import escape
from pypdf import PdfReader

from activities.document_page import LIST_IN_TABLE
from activities.rendering import HTML_MARK, PDF_MARK, CertificateRenderer
from domain.document_format import verify_document
from domain.signing import generate_private_key_pem, public_key_pem
from tests.cli.test_verify import ISSUED_AT, certificate_data

KEY = generate_private_key_pem()
RENDERER = CertificateRenderer(KEY, "https://nopic.example")
NOTE = "stands for a character that this rendering cannot show"


def certificate(**changes: Any) -> dict[str, Any]:
    """Canonical certificate data as the documents repository reads it, with `changes`."""
    return {**certificate_data(), **changes}


def pdf_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


# Printable text the API accepts; the PDF's font covers Latin, Greek and Cyrillic only.
SCRIPTS = {
    "latin": ("Palta orgánica «Señor» \u2013 Œuvre ß", True),
    "greek-cyrillic": ("Αβοκάντο авокадо", True),
    "chinese": ("有机牛油果", False),
    "japanese-korean": ("アボカド 아보카도", False),
    "arabic": ("أفوكادو عضوي", False),
    "hebrew": ("אבוקדו אורגני", False),
    "devanagari": ("जैविक एवोकाडो", False),
    "thai": ("อะโวคาโด", False),
    "emoji": ("avocado \U0001f951\U0001f951", False),
    "stacked-marks": ("Z\u0324\u0354\u0367\u0311a\u033a\u0339l\u0330g\u0330o", False),
    "long-word": ("W" * 200, True),
    "markup": ('<script>alert("x")</script> &amp; </td></tr></table>', True),
}


@pytest.mark.parametrize("text", [t for t, _ in SCRIPTS.values()], ids=list(SCRIPTS))
def test_printable_text_of_any_script_renders_and_signs(text: str) -> None:
    data = certificate(
        product_name=text,
        port_of_export=text[:120],
        lot_numbers=[text[:64], "L-2"],
        shipment={"transport_mode": text[:32], "bill_of_lading": text[:64], "containers": [text]},
        exporter={"operation_id": "5550000001", "name": text, "country": "PE"},
    )

    rendered = RENDERER.render(data, "CODE1234", ISSUED_AT)

    check = verify_document(rendered.pdf, public_key_pem(KEY))
    assert check.valid, check.reason
    assert check.data is not None
    assert check.data["product_name"] == text, "the signed data holds the exact text"
    assert str(escape(text)) in rendered.html
    assert "<script>" not in rendered.html


@pytest.mark.parametrize(("name", "text", "in_font"), [(k, *v) for k, v in SCRIPTS.items()])
def test_what_the_pdf_font_lacks_is_marked_and_explained(
    name: str, text: str, in_font: bool
) -> None:
    rendered = RENDERER.render(certificate(product_name=text), "CODE1234", ISSUED_AT)
    shown = pdf_text(rendered.pdf)

    if in_font:
        assert PDF_MARK not in shown, name
        assert NOTE not in shown
        assert text.split()[0][:20] in shown.replace("\n", " ")
    else:
        assert PDF_MARK in shown, name
        assert NOTE in " ".join(shown.split())
    assert NOTE not in rendered.html, "a browser shows every printable character"


def test_characters_stored_before_the_input_rule_are_marked_not_rendered() -> None:
    data = certificate(product_name="Avo\x00ca\u202edos\u2028fresh\tL\u200b1")

    rendered = RENDERER.render(data, "CODE1234", ISSUED_AT)

    mark = HTML_MARK
    assert f"Avo{mark}ca{mark}dos{mark}fresh{mark}L{mark}1" in rendered.html
    assert NOTE in rendered.html
    assert f"Avo{PDF_MARK}ca{PDF_MARK}dos" in pdf_text(rendered.pdf)


def test_lists_too_long_for_a_table_row_run_over_pages() -> None:
    lots = [f"LOT-{n:04d}-" + "X" * 54 for n in range(200)]
    containers = [f"CONT-{n:04d}-" + "Y" * 53 for n in range(500)]
    shipment = {"transport_mode": "sea", "bill_of_lading": "B" * 64, "containers": containers}

    rendered = RENDERER.render(
        certificate(lot_numbers=lots, shipment=shipment), "CODE1234", ISSUED_AT
    )

    text = pdf_text(rendered.pdf)
    assert len(PdfReader(io.BytesIO(rendered.pdf)).pages) > 1
    assert "200 lot numbers, listed below" in text
    assert "500 containers, listed below" in text
    for shown in (lots[0], lots[-1], containers[0], containers[-1]):
        assert shown in text.replace("\n", ""), shown
    assert verify_document(rendered.pdf, public_key_pem(KEY)).valid


def test_a_list_that_fits_stays_in_its_table_row() -> None:
    lots = ["L-" + "1" * 60] * 6
    assert len(", ".join(lots)) <= LIST_IN_TABLE

    rendered = RENDERER.render(certificate(lot_numbers=lots), "CODE1234", ISSUED_AT)

    assert "listed below" not in pdf_text(rendered.pdf)
    assert len(PdfReader(io.BytesIO(rendered.pdf)).pages) == 1
