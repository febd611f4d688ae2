"""Rendering a certificate document: one Jinja2 template to HTML and, through fpdf2, to PDF.

Both renderings are made from the canonical data as signed (parsed back from its bytes), so the
page shows exactly what the signature attests. The PDF embeds that data and its signature and
is then sealed with a signature over the whole file (domain.document_format). Pure Python from
end to end: fpdf2 draws the PDF, segno the QR code, the font ships in a wheel.

Stored text is shown, never trusted: Jinja escapes it, and a character that a rendering cannot
show (not printable, or for the PDF not in its font) is shown as a visible mark with a note that
the signed data holds the exact text, instead of vanishing or failing the issuance.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF
from fpdf.fonts import TextStyle
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from activities.pdf_fonts import FontFaces
from domain.canonical import canonical_bytes, parse_canonical
from domain.document_format import DATA_NAME, SIGNATURE_NAME, encode_signature, seal
from domain.model import Coverage, OrganicCategory
from domain.signing import key_id, public_key_pem, sign
from domain.text import is_printable_character

DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "certificate"
TEMPLATE = "certificate.html"
FONT_FAMILY = "sourcesans"
# Source Sans Pro (SIL OFL) from the font-source-sans-pro wheel: the PDF core fonts know only
# Latin-1, and operation names come from every country.
FONT_FILES = {
    "": "SourceSansPro-Regular.ttf",
    "B": "SourceSansPro-Bold.ttf",
    "I": "SourceSansPro-It.ttf",
    "BI": "SourceSansPro-BoldIt.ttf",
}
DATA_STYLES = ("", "B")

# The replacement character marks what a page cannot show; the PDF's font lacks it, and has a
# ballot box, which reads the same way.
HTML_MARK = "\ufffd"
PDF_MARK = "\u2610"
# A table row cannot run over a page in fpdf2: lists longer than this (in characters) are printed
# after the tables, as paragraphs, which can.
LIST_IN_TABLE = 400

BETWEEN_TAGS = re.compile(r">\s+<")
GREEN = "#1f5130"
# The browser rendering gets its style sheet; fpdf2 gets the same look from these.
PDF_STYLES = {
    "h1": TextStyle(color=GREEN, font_size_pt=20, t_margin=0, b_margin=2),
    "h2": TextStyle(color=GREEN, font_size_pt=11, font_style="B", t_margin=0, b_margin=0),
    "p": TextStyle(t_margin=0, b_margin=1),
}

COVERAGE_LABELS = {
    Coverage.SINGLE_SHIPMENT: "Single shipment",
    Coverage.MULTIPLE_SHIPMENTS: "Multiple shipments",
    Coverage.TIME_FRAME: "Time frame",
}
CATEGORY_LABELS = {
    OrganicCategory.HUNDRED_PERCENT: "100% organic",
    OrganicCategory.ORGANIC: "Organic",
    OrganicCategory.MADE_WITH: "Made with organic (specified ingredients or food groups)",
}


@dataclass(frozen=True)
class RenderedCertificate:
    canonical: bytes
    signature: str  # base64 Ed25519 signature of `canonical`
    key_id: str
    html: str
    pdf: bytes  # sealed: the signature line over the whole file is its last line

    @property
    def pdf_sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def verify_url(public_url: str, number: str, code: str) -> str:
    # The public page made for a phone; documents issued before it point to `/api/verify`,
    # which keeps answering.
    return f"{public_url.rstrip('/')}/verify/{number}?code={code}"


def _instant(value: str) -> str:
    moment = datetime.fromisoformat(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _kg(value: str) -> str:
    return f"{Decimal(value):,f}"


def shown(value: Any, can_show: Callable[[str], bool], mark: str) -> Any:
    """`value` (the signed data, or any part of it) with every character that cannot be shown
    replaced by `mark`."""
    if isinstance(value, str):
        return "".join(c if can_show(c) else mark for c in value)
    if isinstance(value, dict):
        return {key: shown(item, can_show, mark) for key, item in value.items()}
    if isinstance(value, list):
        return [shown(item, can_show, mark) for item in value]
    return value


def font_files() -> dict[str, str]:
    fonts = resources.files("font_source_sans_pro").joinpath("files")
    return {style: str(fonts.joinpath(name)) for style, name in FONT_FILES.items()}


class CertificateRenderer:
    def __init__(
        self, signing_key_pem: bytes, public_url: str, templates_dir: Path = DEFAULT_TEMPLATES
    ) -> None:
        self.signing_key_pem = signing_key_pem
        self.key_id = key_id(public_key_pem(signing_key_pem))
        self.public_url = public_url
        self.templates = Environment(
            loader=FileSystemLoader(templates_dir),
            undefined=StrictUndefined,
            autoescape=select_autoescape(default=True),
        )
        self.templates.filters.update(
            instant=_instant,
            kg=_kg,
            coverage=lambda value: COVERAGE_LABELS[Coverage(value)],
            category=lambda value: CATEGORY_LABELS[OrganicCategory(value)],
        )
        # Parsed once for every document this renderer makes (`pdf_fonts`). Data is printed
        # upright, regular or bold; the italics lack Greek and Cyrillic.
        self.fonts = FontFaces(FONT_FAMILY, font_files(), data_styles=DATA_STYLES)
        glyphs = self.fonts.characters(DATA_STYLES)
        self.in_pdf: Callable[[str], bool] = lambda c: (
            ord(c) in glyphs and is_printable_character(c)
        )

    def render(
        self, data: dict[str, Any], verification_code: str, issued_at: datetime
    ) -> RenderedCertificate:
        """The signed HTML and PDF of a certificate. CPU-bound: call it off the event loop."""
        canonical = canonical_bytes(data)
        signature = encode_signature(sign(self.signing_key_pem, canonical))
        signed = parse_canonical(canonical)
        url = verify_url(self.public_url, signed["number"], verification_code)
        qr = segno.make(url, error="m")
        context = {
            "code": verification_code,
            "verify_url": url,
            "key_id": self.key_id,
            "signature": signature,
            "data_name": DATA_NAME,
            "signature_name": SIGNATURE_NAME,
            "list_in_table": LIST_IN_TABLE,
        }
        template = self.templates.get_template(TEMPLATE)
        in_html = shown(signed, is_printable_character, HTML_MARK)
        html = template.render(
            medium="html",
            d=in_html,
            mark=HTML_MARK if in_html != signed else None,
            qr_data_uri=qr.svg_data_uri(),
            **context,
        )
        in_pdf = shown(signed, self.in_pdf, PDF_MARK)
        page = template.render(
            medium="pdf",
            d=in_pdf,
            mark=PDF_MARK if in_pdf != signed else None,
            qr_data_uri=qr.png_data_uri(scale=8, border=2),
            **context,
        )
        pdf = self._pdf(page, in_pdf, canonical, signature, issued_at)
        return RenderedCertificate(
            canonical=canonical,
            signature=signature,
            key_id=self.key_id,
            html=html,
            pdf=seal(pdf, self.signing_key_pem, self.key_id),
        )

    def _pdf(
        self,
        page: str,
        in_pdf: dict[str, Any],
        canonical: bytes,
        signature: str,
        issued_at: datetime,
    ) -> bytes:
        pdf = FPDF(format="A4")
        # Fixed dates make a re-rendering of the same certificate the same file.
        pdf.set_creation_date(issued_at)
        pdf.set_author(in_pdf["certifier"]["name"])
        pdf.set_subject(f"{in_pdf['product_name']}, HTS {in_pdf['hts_code']}")
        pdf.set_creator("NOP-IC")
        pdf.set_lang("en")
        self.fonts.add_to(pdf)
        pdf.set_margins(14, 12, 14)
        pdf.set_auto_page_break(True, margin=12)
        pdf.add_page()
        pdf.set_font(FONT_FAMILY, size=9.5)
        pdf.write_html(
            # Whitespace between blocks is layout for a browser; fpdf2 would print it as lines.
            BETWEEN_TAGS.sub("><", page),
            font_family=FONT_FAMILY,
            tag_styles=PDF_STYLES,
            table_line_separators=True,
            # <meta> and <link> have no end tag: valid HTML, not a mismatch.
            warn_on_tags_not_matching=False,
        )
        pdf.embed_file(
            bytes=canonical,
            basename=DATA_NAME,
            modification_date=issued_at,
            mime_type="application/json",
            desc="Canonical certificate data (signed)",
        )
        pdf.embed_file(
            bytes=signature.encode("ascii"),
            basename=SIGNATURE_NAME,
            modification_date=issued_at,
            mime_type="text/plain",
            desc=f"Ed25519 signature of {DATA_NAME}, base64, key {self.key_id}",
        )
        return self.fonts.output(pdf)
