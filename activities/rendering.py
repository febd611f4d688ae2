"""Rendering a certificate document: HTML through one Jinja2 template, and a PDF drawn by fpdf2.

Both renderings are made from the canonical data as signed (parsed back from its bytes), through
one description of what the page shows (`document_page`), so the page shows exactly what the
signature attests and the two show the same fields. The PDF embeds that data and its signature
and is then sealed with a signature over the whole file (domain.document_format). Pure Python
from end to end: fpdf2 draws the PDF (`pdf_page`), segno the QR code, the font ships in a
wheel.

Stored text is shown, never trusted: Jinja escapes it, and a character that a rendering cannot
show (not printable, or for the PDF not in its font) is shown as a visible mark with a note that
the signed data holds the exact text, instead of vanishing or failing the issuance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from activities.document_page import DocumentPage, document_page
from activities.pdf_fonts import FontFaces
from activities.pdf_page import draw_page
from domain.canonical import canonical_bytes, parse_canonical
from domain.document_format import DATA_NAME, SIGNATURE_NAME, encode_signature, seal
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
}
DATA_STYLES = ("", "B")

# The replacement character marks what a page cannot show; the PDF's font lacks it, and has a
# ballot box, which reads the same way.
HTML_MARK = "\ufffd"
PDF_MARK = "\u2610"


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
        # Parsed once for every document this renderer makes (`pdf_fonts`). The page is printed
        # upright, regular or bold: each face embedded costs time on every document, and the
        # italics lack Greek and Cyrillic.
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
        # The encoder's own choice of version and mask (its penalty rules keep the code easy to
        # scan); the same code is drawn as SVG for the browser and as rectangles in the PDF.
        qr = segno.make(url, error="m")
        parts = {"verify_url": url, "code": verification_code, "key_id": self.key_id}
        in_html = shown(signed, is_printable_character, HTML_MARK)
        html = self.templates.get_template(TEMPLATE).render(
            page=document_page(
                in_html,
                mark=HTML_MARK if in_html != signed else None,
                signature=signature,
                **parts,
            ),
            qr_data_uri=qr.svg_data_uri(),
        )
        in_pdf = shown(signed, self.in_pdf, PDF_MARK)
        page = document_page(
            in_pdf, mark=PDF_MARK if in_pdf != signed else None, signature=signature, **parts
        )
        pdf = self._pdf(page, qr.matrix, in_pdf, canonical, issued_at)
        return RenderedCertificate(
            canonical=canonical,
            signature=signature,
            key_id=self.key_id,
            html=html,
            pdf=seal(pdf, self.signing_key_pem, self.key_id),
        )

    def _pdf(
        self,
        page: DocumentPage,
        qr: tuple[bytearray, ...],
        in_pdf: dict[str, Any],
        canonical: bytes,
        issued_at: datetime,
    ) -> bytes:
        pdf = FPDF(format="A4")
        # Fixed dates make a re-rendering of the same certificate the same file.
        pdf.set_creation_date(issued_at)
        pdf.set_title(f"{page.title} {in_pdf['number']}")
        pdf.set_author(in_pdf["certifier"]["name"])
        pdf.set_subject(f"{in_pdf['product_name']}, HTS {in_pdf['hts_code']}")
        pdf.set_creator("NOP-IC")
        pdf.set_lang("en")
        self.fonts.add_to(pdf)
        # The layout places every line itself and adds the pages it needs.
        pdf.set_auto_page_break(False)
        draw_page(pdf, FONT_FAMILY, self.fonts.faces, page, qr)
        pdf.embed_file(
            bytes=canonical,
            basename=DATA_NAME,
            modification_date=issued_at,
            mime_type="application/json",
            desc="Canonical certificate data (signed)",
        )
        pdf.embed_file(
            bytes=page.signature.encode("ascii"),
            basename=SIGNATURE_NAME,
            modification_date=issued_at,
            mime_type="text/plain",
            desc=f"Ed25519 signature of {DATA_NAME}, base64, key {self.key_id}",
        )
        return self.fonts.output(pdf)
