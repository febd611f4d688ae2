"""A certificate's PDF page, laid out here and drawn with fpdf2's low-level calls.

fpdf2's `write_html` parsed the page's HTML and measured every line again for each character it
added; it took two thirds of the time to render and sign a certificate. The page is a fixed
layout of short texts, so it is laid out here in one pass: words measured once from the face's
width table, wrapped greedily (a word wider than its column is cut between characters), and
each line written with `FPDF.text`. Lines and tables that do not fit go to a new page. What goes
where on a certificate is `pdf_page`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fpdf import FPDF
from fpdf.fonts import TTFFont

K = 72 / 25.4  # points per millimetre
PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT, TOP, BOTTOM = 14.0, 196.0, 12.0, 282.0
WIDTH = RIGHT - LEFT
LABEL_W = WIDTH * 0.32
PAD = 1.6  # inside a table cell, left and right
ROW_PAD = 0.7  # and above and below
QR_SIZE = 34.0
QR_GAP = 6.0  # beside the code: clear of its quiet zone, four modules (under 4 mm from version 5)

INK = (29, 42, 31)
GREEN = (31, 81, 48)
MUTED = (91, 107, 94)
RULE = (201, 214, 204)
LABEL_FILL = (238, 244, 239)
LINK = (0, 82, 164)

BODY = 9.5
SMALL = 8.0


@dataclass(frozen=True)
class Run:
    """Text in one style ("" or "B"), a link if it is one."""

    text: str
    style: str = ""
    link: str | None = None


@dataclass
class Piece:
    text: str
    style: str
    link: str | None
    width: float  # mm, at the size the text was wrapped for


Line = list[Piece]


class PageLayout:
    """Draws one document into `pdf`, whose current font family is `family` in `faces`."""

    def __init__(self, pdf: FPDF, family: str, faces: Mapping[str, TTFFont]) -> None:
        self.pdf = pdf
        self.family = family
        self.widths = {style: faces[f"{family}{style}"].cw for style in ("", "B")}
        self.y = TOP
        self.font: tuple[str, float] | None = None
        self.ink: tuple[int, int, int] | None = None

    # Measuring and wrapping

    def width(self, text: str, style: str, size: float) -> float:
        widths = self.widths[style]
        return sum(widths[ord(c)] for c in text) * size / 1000 / K

    def wrap(self, runs: Sequence[Run], size: float, width: float) -> list[Line]:
        """`runs` cut into lines no wider than `width` mm, at spaces where a line can break."""
        words: list[list[Piece]] = []  # pieces with no space between them
        spaced = True
        for run in runs:
            for i, part in enumerate(run.text.split(" ")):
                spaced = spaced or i > 0
                if part:
                    piece = Piece(part, run.style, run.link, self.width(part, run.style, size))
                    if spaced or not words:
                        words.append([piece])
                    else:
                        words[-1].append(piece)
                    spaced = False
        lines: list[Line] = [[]]
        used = 0.0
        for word in words:
            wide = sum(piece.width for piece in word)
            space = self.width(" ", word[0].style, size) if lines[-1] else 0.0
            if lines[-1] and used + space + wide > width:
                lines.append([])
                used, space = 0.0, 0.0
            if wide > width:
                used = self._cut(word, size, width, lines, used)
                continue
            if space:
                first = word[0]
                spaced_first = Piece(" " + first.text, first.style, first.link, first.width + space)
                word = [spaced_first, *word[1:]]
            for piece in word:
                _append(lines[-1], piece)
            used += space + wide
        return lines

    def _cut(
        self, word: list[Piece], size: float, width: float, lines: list[Line], used: float
    ) -> float:
        """Adds a word wider than a line, cut between characters; returns the last line's width."""
        for piece in word:
            widths = self.widths[piece.style]
            start, run_width = 0, 0.0
            for end, c in enumerate(piece.text):
                w = widths[ord(c)] * size / 1000 / K
                if used + run_width + w > width and (used or run_width):
                    if end > start:
                        _append(
                            lines[-1],
                            Piece(piece.text[start:end], piece.style, piece.link, run_width),
                        )
                    lines.append([])
                    start, used, run_width = end, 0.0, 0.0
                run_width += w
            _append(lines[-1], Piece(piece.text[start:], piece.style, piece.link, run_width))
            used += run_width
        return used

    # Drawing

    def room(self, height: float) -> None:
        """A new page unless `height` mm fit below the current position."""
        if self.y + height > BOTTOM:
            self.pdf.add_page()
            self.y = TOP

    def lines(
        self,
        lines: list[Line],
        x: float,
        size: float,
        color: tuple[int, int, int] = INK,
        leading: float = 1.3,
        flowing: bool = True,
    ) -> None:
        """Writes `lines` from the current position down; `flowing` lines go on to a new page."""
        height = size * leading / K
        pdf = self.pdf
        for line in lines:
            if flowing:
                self.room(height)
            baseline = self.y + (height - size / K) / 2 + size * 0.8 / K
            at = x
            for piece in line:
                # fpdf2 checks each change against its state, at a cost: most pieces change
                # nothing.
                font, ink = (piece.style, size), LINK if piece.link else color
                if font != self.font:
                    pdf.set_font(self.family, *font)
                    self.font = font
                if ink != self.ink:
                    pdf.set_text_color(*ink)
                    self.ink = ink
                pdf.text(at, baseline, piece.text)
                if piece.link:
                    lead = self.width(" ", piece.style, size) if piece.text[0] == " " else 0.0
                    pdf.set_draw_color(*LINK)
                    pdf.set_line_width(0.15)
                    pdf.line(at + lead, baseline + 0.6, at + piece.width, baseline + 0.6)
                    pdf.link(at + lead, self.y, piece.width - lead, height, piece.link)
                at += piece.width
            self.y += height

    def paragraph(
        self,
        runs: Sequence[Run],
        size: float = BODY,
        color: tuple[int, int, int] = INK,
        width: float = WIDTH,
        after: float = 1.6,
    ) -> None:
        self.lines(self.wrap(runs, size, width), LEFT, size, color)
        self.y += after

    def heading(self, title: str, keep_with: float) -> None:
        """A section's title and its rule, on the page of the `keep_with` mm that follow it."""
        self.room(9.5 + keep_with)
        self.y += 3.5
        self.lines([[Piece(title.upper(), "B", None, 0.0)]], LEFT, 10.5, GREEN, flowing=False)
        self.pdf.set_draw_color(*GREEN)
        self.pdf.set_line_width(0.5)
        self.pdf.line(LEFT, self.y + 0.3, RIGHT, self.y + 0.3)
        self.y += 1.7

    def table(self, rows: Sequence[tuple[str, str]]) -> None:
        pdf = self.pdf
        line_h = BODY * 1.2 / K
        laid = [
            (
                self.wrap([Run(label, "B")], BODY, LABEL_W - 2 * PAD),
                self.wrap([Run(value)], BODY, WIDTH - LABEL_W - 2 * PAD),
            )
            for label, value in rows
        ]
        pdf.set_draw_color(*RULE)
        pdf.set_fill_color(*LABEL_FILL)
        pdf.set_line_width(0.25)
        for label, value in laid:
            height = max(len(label), len(value)) * line_h + 2 * ROW_PAD
            self.room(height)
            top = self.y
            pdf.set_draw_color(*RULE)
            pdf.rect(LEFT, top, LABEL_W, height, style="DF")
            pdf.rect(LEFT + LABEL_W, top, WIDTH - LABEL_W, height, style="D")
            self.y = top + ROW_PAD
            self.lines(label, LEFT + PAD, BODY, leading=1.2, flowing=False)
            self.y = top + ROW_PAD
            self.lines(value, LEFT + LABEL_W + PAD, BODY, leading=1.2, flowing=False)
            self.y = top + height

    def qr_code(self, matrix: Sequence[bytes | bytearray], x: float, y: float, size: float) -> None:
        """Each row's runs of dark modules as filled rectangles, in one content stream string:
        sharper than an image, and cheaper than decoding one."""
        module = size / len(matrix)
        k, page_h = K, PAGE_H
        ops = ["q 0 g"]
        for row_index, row in enumerate(matrix):
            top = (page_h - y - row_index * module) * k
            start = -1
            for col, dark in enumerate((*row, 0)):
                if dark and start < 0:
                    start = col
                elif not dark and start >= 0:
                    ops.append(
                        f"{(x + start * module) * k:.3f} {top:.3f} "
                        f"{(col - start) * module * k:.3f} {-module * k:.3f} re"
                    )
                    start = -1
        ops.append("f Q")
        # fpdf2 has no public call for a path of many rectangles; `rect` would write each with
        # its own state changes.
        self.pdf._out("\n".join(ops))

    def footers(self, text: str) -> None:
        """`text` and "page i of n" at the foot of every page, once all pages exist."""
        pdf = self.pdf
        last = pdf.page
        pages = len(pdf.pages)
        pdf.set_font(self.family, "", 7.5)
        for number in range(1, pages + 1):
            pdf.page = number
            # The font fpdf2 last set is the last page's: this page may end in another one.
            pdf.current_font_is_set_on_page = False
            pdf.set_text_color(*MUTED)
            pdf.text(LEFT, PAGE_H - 8, f"{text} \u00b7 page {number} of {pages}")
        pdf.page = last


def _append(line: Line, piece: Piece) -> None:
    """Adds `piece` to `line`, joined to its last piece when they look the same."""
    if line and line[-1].style == piece.style and line[-1].link == piece.link:
        last = line[-1]
        line[-1] = Piece(last.text + piece.text, last.style, last.link, last.width + piece.width)
    else:
        line.append(piece)
