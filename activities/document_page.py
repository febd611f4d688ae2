"""What a certificate document shows, as data: the browser's HTML and the PDF both lay it out.

One description of the fields keeps the two renderings from drifting apart: a field added here
appears on both, labelled and formatted the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.document_format import DATA_NAME, SIGNATURE_NAME
from domain.model import Coverage, OrganicCategory

# Lists longer than this (in characters) are printed after the tables, as paragraphs: a table
# row that long would not read as one field, and a paragraph can run over a page.
LIST_IN_TABLE = 400

TITLE = "NOP Import Certificate"
INTRO = (
    "United States Department of Agriculture, National Organic Program (7 CFR part 205). "
    "Issued electronically by the certifying agent {certifier}."
)
MARK_NOTE = (
    "stands for a character that this rendering cannot show; the signed certificate data "
    "holds the exact text."
)

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
class Section:
    title: str
    rows: tuple[tuple[str, str], ...]  # (label, value)


@dataclass(frozen=True)
class DocumentPage:
    """Every text of one rendering of a certificate, its characters already made showable."""

    title: str
    intro: str
    summary: tuple[tuple[str, str], ...]  # the lines beside the QR code
    sections: tuple[Section, ...]
    listed_below: tuple[Section, ...]  # one row each: the list's title and the whole list
    mark: str | None  # the mark put for characters this rendering cannot show, if any
    verify_url: str
    code: str
    key_id: str
    signature: str
    data_name: str = DATA_NAME
    signature_name: str = SIGNATURE_NAME
    mark_note: str = MARK_NOTE


def _instant(value: str) -> str:
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")


def _kg(value: str) -> str:
    return f"{Decimal(value):,f}"


def _listed(items: list[str], title: str, below: list[Section]) -> str:
    joined = ", ".join(items)
    if len(joined) <= LIST_IN_TABLE:
        return joined or "none"
    below.append(Section(title, ((title, joined),)))
    return f"{len(items)} {title.lower()}, listed below"


def document_page(
    d: dict[str, Any],
    *,
    mark: str | None,
    verify_url: str,
    code: str,
    key_id: str,
    signature: str,
) -> DocumentPage:
    """The page of the certificate data `d` (as signed, with what cannot be shown marked)."""
    issued = _instant(d["issued_at"])
    revision = str(d["revision"])
    if d["replaces_number"]:
        revision += f" (replaces certificate {d['replaces_number']})"
    certifier, exporter, importer = d["certifier"], d["exporter"], d["importer"]
    shipment = d["shipment"]
    below: list[Section] = []
    lots = _listed(d["lot_numbers"], "Lot numbers", below)
    containers = _listed(shipment["containers"], "Containers", below)
    sections = (
        Section(
            "Certificate",
            (
                ("Certificate number", d["number"]),
                ("Issued at", issued),
                ("Revision", revision),
                ("Coverage", COVERAGE_LABELS[Coverage(d["coverage"])]),
                ("Valid from", d["valid_from"]),
                ("Valid until", f"{d['valid_until']} (inclusive)"),
                ("Certificate id", d["certificate_id"]),
            ),
        ),
        Section(
            "Parties",
            (
                (
                    "Certifying agent",
                    f"{certifier['name']}, code {certifier['code']}, {certifier['country']}",
                ),
                (
                    "Exporter (final handler)",
                    f"{exporter['name']}, operation {exporter['operation_id']}, "
                    f"{exporter['country']}",
                ),
                (
                    "Importer of record",
                    f"{importer['name']}, operation {importer['operation_id']}, "
                    f"{importer['country']}",
                ),
            ),
        ),
        Section(
            "Product",
            (
                ("Product", d["product_name"]),
                ("HTS code", d["hts_code"]),
                ("HTS description", d["hts_description"] or "(not in the HTS reference)"),
                ("Organic category", CATEGORY_LABELS[OrganicCategory(d["organic_category"])]),
                ("Quantity", f"{_kg(d['quantity_kg'])} kg net ({d['quantity_kg']} kg)"),
                ("Lot numbers", lots),
            ),
        ),
        Section(
            "Shipment",
            (
                ("Country of origin", d["country_of_origin"]),
                ("Port of export", d["port_of_export"]),
                ("Port of entry", d["port_of_entry"]),
                ("Transport mode", shipment["transport_mode"].capitalize()),
                ("Bill of lading", shipment["bill_of_lading"] or "not given"),
                ("Containers", containers),
            ),
        ),
    )
    return DocumentPage(
        title=TITLE,
        intro=INTRO.format(certifier=certifier["name"]),
        summary=(
            ("Certificate number", d["number"]),
            ("Verification code", code),
            ("Issued", issued),
        ),
        sections=sections,
        listed_below=tuple(below),
        mark=mark,
        verify_url=verify_url,
        code=code,
        key_id=key_id,
        signature=signature,
    )
