"""The PDF page drawn from the document's fields: every field on it, wrapped within its column,
on one A4 page, with the QR code of the verification URL."""

from __future__ import annotations

import io
import re

import pytest
import segno
from fpdf import FPDF
from markupsafe import escape
from pypdf import PdfReader

from activities.document_page import document_page
from activities.pdf_layout import PAGE_H, QR_SIZE, RIGHT, TOP, K, PageLayout, Run
from activities.rendering import FONT_FAMILY, verify_url
from domain.document_format import verify_document
from domain.signing import public_key_pem
from tests.activities.test_rendering import KEY, RENDERER, certificate, pdf_text
from tests.cli.test_verify import ISSUED_AT

A4_POINTS = (595.28, 841.89)
LONG_NAME = (
    "Organic extra virgin olive oil, cold pressed and unfiltered, from Koroneiki olives "
    "harvested early in the Messinia region of the Peloponnese, in 500 ml dark glass bottles"
)
GREEK_CYRILLIC = "Ελαιόλαδο Μεσσηνίας / «Оливковое масло Мессинии» торговая компания"


def words(text: str) -> str:
    return " ".join(text.split())


def test_every_field_of_the_page_is_on_the_pdf_and_in_the_html() -> None:
    data = certificate(replaces_number="555-5550000001-000001", revision=1)
    rendered = RENDERER.render(data, "CODE1234", ISSUED_AT)
    check = verify_document(rendered.pdf, public_key_pem(KEY))
    assert check.data is not None
    page = document_page(
        check.data,
        mark=None,
        verify_url=verify_url("https://nopic.example", data["number"], "CODE1234"),
        code="CODE1234",
        key_id=RENDERER.key_id,
        signature=rendered.signature,
    )
    shown = words(pdf_text(rendered.pdf))

    fields = [row for section in page.sections for row in section.rows]
    assert len(fields) == 22
    for label, value in [*fields, *page.summary]:
        assert words(label) in shown, label
        assert words(value) in shown, (label, value)
        assert str(escape(value)) in rendered.html, (label, value)
    for text in (page.intro, page.verify_url, page.signature, "nopic verify FILE.pdf"):
        assert text in shown, text
        assert str(escape(text)) in rendered.html, text


def test_a_certificate_is_one_a4_page() -> None:
    rendered = RENDERER.render(certificate(), "CODE1234", ISSUED_AT)

    pages = PdfReader(io.BytesIO(rendered.pdf)).pages
    assert len(pages) == 1
    assert tuple(float(side) for side in pages[0].mediabox[2:]) == pytest.approx(A4_POINTS)


def test_a_long_product_name_many_lots_and_greek_and_cyrillic_fit_on_one_page() -> None:
    lots = [f"LOT-2026-{n:04d}-ORGANIC" for n in range(16)]
    exporter = {"operation_id": "5550000001", "name": GREEK_CYRILLIC, "country": "GR"}
    data = certificate(product_name=LONG_NAME, lot_numbers=lots, exporter=exporter)

    rendered = RENDERER.render(data, "CODE1234", ISSUED_AT)

    shown = words(pdf_text(rendered.pdf))
    assert len(PdfReader(io.BytesIO(rendered.pdf)).pages) == 1
    for text in (LONG_NAME, GREEK_CYRILLIC, ", ".join(lots)):
        assert text in shown


def drawn_qr(pdf: bytes, modules: int) -> list[list[int]]:
    """The modules of the QR code of `pdf`'s first page, read back from its rectangles."""
    contents = PdfReader(io.BytesIO(pdf)).pages[0].get_contents()
    assert contents is not None
    block = re.search(rb"q 0 g\n(.*?)\nf Q", contents.get_data(), re.DOTALL)
    assert block is not None, "no QR code drawn"
    module = QR_SIZE / modules
    drawn = [[0] * modules for _ in range(modules)]
    for rect in block.group(1).split(b"\n"):
        x, y, w, _, op = rect.split()
        assert op == b"re"
        row = round((PAGE_H - float(y) / K - TOP) / module)
        start = round((float(x) / K - (RIGHT - QR_SIZE)) / module)
        for col in range(start, start + round(float(w) / K / module)):
            drawn[row][col] = 1
    return drawn


def qr_modules(url: str) -> list[list[int]]:
    return [list(row) for row in segno.make(url, error="m").matrix]


def test_the_qr_code_drawn_is_the_verification_urls() -> None:
    data = certificate()
    rendered = RENDERER.render(data, "CODE1234", ISSUED_AT)
    expected = qr_modules(verify_url("https://nopic.example", data["number"], "CODE1234"))

    assert drawn_qr(rendered.pdf, len(expected)) == expected


@pytest.mark.parametrize(
    "runs",
    [
        [Run(LONG_NAME)],
        [Run("W" * 200)],
        [Run(GREEK_CYRILLIC, "B")],
        [Run("Scan or open "), Run("https://nopic.example/verify/" + "9" * 90, link="u"), Run(".")],
        [Run("check with "), Run("nopic verify FILE.pdf", "B"), Run(". Signature: " + "A" * 88)],
    ],
    ids=["words", "one-long-word", "bold-greek-cyrillic", "long-link", "mixed-styles"],
)
def test_wrapped_lines_stay_within_their_column_and_keep_every_character(runs: list[Run]) -> None:
    pdf = FPDF(format="A4")
    RENDERER.fonts.add_to(pdf)
    layout = PageLayout(pdf, FONT_FAMILY, RENDERER.fonts.faces)
    width = 60.0

    lines = layout.wrap(runs, 9.5, width)

    assert len(lines) > 1
    for line in lines:
        measured = sum(layout.width(piece.text, piece.style, 9.5) for piece in line)
        assert measured == pytest.approx(sum(piece.width for piece in line))
        assert measured <= width + 1e-9
        assert not line[0].text.startswith(" ")
    text = "".join(piece.text for line in lines for piece in line)
    assert text.replace(" ", "") == "".join(run.text for run in runs).replace(" ", "")


def test_every_page_of_a_long_document_names_the_certificate_and_counts_its_pages() -> None:
    data = certificate(lot_numbers=[f"LOT-{n:04d}-" + "X" * 54 for n in range(200)])

    rendered = RENDERER.render(data, "CODE1234", ISSUED_AT)

    pages = PdfReader(io.BytesIO(rendered.pdf)).pages
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        footer = f"NOP Import Certificate {data['number']} \u00b7 page {number} of {len(pages)}"
        assert footer in page.extract_text()
