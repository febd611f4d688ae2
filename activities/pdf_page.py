"""Where each part of a certificate goes on its PDF page: the heading beside the QR code, one
table per section of fields, the long lists, the verification instructions, a footer per page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fpdf import FPDF
from fpdf.fonts import TTFFont

from activities.document_page import DocumentPage
from activities.pdf_layout import (
    GREEN,
    LEFT,
    MUTED,
    QR_GAP,
    QR_SIZE,
    RIGHT,
    SMALL,
    TOP,
    WIDTH,
    PageLayout,
    Run,
)


def draw_page(
    pdf: FPDF,
    family: str,
    faces: Mapping[str, TTFFont],
    page: DocumentPage,
    qr: Sequence[bytes | bytearray],
) -> None:
    """Draws `page` into `pdf` (its fonts added), from a first page it adds."""
    pdf.add_page()
    layout = PageLayout(pdf, family, faces)
    beside_qr = WIDTH - QR_SIZE - QR_GAP
    layout.qr_code(qr, RIGHT - QR_SIZE, TOP, QR_SIZE)
    layout.lines(layout.wrap([Run(page.title, "B")], 20, beside_qr), LEFT, 20, GREEN, leading=1.2)
    layout.y += 1
    layout.paragraph([Run(page.intro)], width=beside_qr, after=3)
    for label, value in page.summary:
        layout.paragraph(
            [Run(f"{label} ", ""), Run(value, "B")], size=12, width=beside_qr, after=0.4
        )
    below = layout.y
    layout.y = TOP + QR_SIZE + 4 * QR_SIZE / len(qr)  # below its quiet zone
    for caption in layout.wrap([Run("Scan to verify this certificate")], 7.5, QR_SIZE + 4):
        left = RIGHT - QR_SIZE / 2 - sum(piece.width for piece in caption) / 2
        layout.lines([caption], left, 7.5, MUTED, flowing=False)
    layout.y = max(below, layout.y) + 1
    for section in page.sections:
        layout.heading(section.title, keep_with=12)
        layout.table(section.rows)
    for listed in page.listed_below:
        title, text = listed.rows[0]
        layout.heading(title, keep_with=12)
        layout.paragraph([Run(text)])
    if page.mark:
        layout.y += 2
        layout.paragraph([Run(f"{page.mark} {page.mark_note}")], size=SMALL, color=MUTED)
    layout.heading("Verification", keep_with=20)
    layout.y += 0.8
    layout.paragraph(
        [
            Run("Scan the QR code or open "),
            Run(page.verify_url, link=page.verify_url),
            Run(" to check that this certificate is valid and see its current status."),
        ]
    )
    layout.paragraph(
        [
            Run(
                f"The certificate data is embedded in this file as {page.data_name} and signed "
                f"with Ed25519 key {page.key_id} ({page.signature_name}); the whole file is "
                "signed too. Anyone can check both offline with the certifier's public key: "
            ),
            Run("nopic verify FILE.pdf", "B"),
            Run(". Data signature: "),
            Run(page.signature),
        ],
        size=SMALL,
        color=MUTED,
    )
    layout.footers(f"{page.title} {page.summary[0][1]}")
