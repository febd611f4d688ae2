"""The certificate's TrueType fonts, parsed once and subset once per set of glyphs.

fpdf2 parses a font file on every `add_font` and, on `output`, cuts a subset of it with fontTools,
then builds a 128 KiB glyph map: for a one-page certificate that took longer than laying out the
page. Here each face is parsed once; a document gets a light copy of it that shares the parsed
tables and keeps its own record of the glyphs it uses (fpdf2's `SubsetMap`). The embedded subset
and its maps depend on nothing but that record, so they are built once per distinct record and
kept. Every document's record starts with the same common characters in the same order, so
documents whose text stays within them (most: Latin names, digits, punctuation) share one subset,
and only a document with rarer characters has a subset of its own cut.

The PDF objects written are those fpdf2 2.8 writes for a TrueType font (`_add_fonts`), the
ToUnicode map deflated too, for the glyf-outline, non-colour fonts that `FontFaces` accepts.
"""

from __future__ import annotations

import copy
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from fontTools import subset as ftsubset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import PDFFontDescriptor, SubsetMap, TTFFont
from fpdf.output import (
    CIDSystemInfo,
    OutputProducer,
    PDFFont,
    PDFType3Font,
    _build_cmap_blocks,
    _tt_font_widths,
)
from fpdf.syntax import Name, PDFArray, PDFContentStream

# Printable ASCII and Latin-1: every document's subset starts with these, so that most share it.
COMMON_CHARACTERS = tuple(range(0x21, 0x7F)) + tuple(range(0xA1, 0x100))
# Distinct subsets kept per face set; each is a few tens of KiB.
SUBSETS_KEPT = 256
# What fpdf2 drops from an embedded subset: tables that a PDF viewer does not read.
DROPPED_TABLES = (
    "FFTM",
    "GDEF",
    "GPOS",
    "GSUB",
    "MATH",
    "hdmx",
    "meta",
    "sbix",
    "CBDT",
    "CBLC",
    "EBDT",
    "EBLC",
    "EBSC",
    "SVG ",
    "CPAL",
    "COLR",
)


class CommonFirst(SubsetMap):
    """A document's record of glyphs that takes the common characters, in their order, before
    the first character the document writes in the face: documents then share subsets."""

    def __init__(self, font: TTFFont) -> None:
        super().__init__(font)
        self.seeded = False

    # fpdf2 declares `pick` as its cache wrapper; this plain method still goes through it.
    def pick(self, unicode: int) -> int | None:  # type: ignore[override]
        if not self.seeded:
            self.seeded = True
            for code in COMMON_CHARACTERS:
                if code in self.font.glyph_ids:
                    super().pick(code)
        return super().pick(unicode)


@dataclass(frozen=True)
class EmbeddedSubset:
    """What a PDF embeds for one font and one record of glyphs, the streams already deflated."""

    font_file: bytes
    font_file_length: int
    widths: str
    to_unicode: bytes
    cid_to_gid: bytes


def _deflated(contents: bytes) -> PDFContentStream:
    stream = PDFContentStream(contents)
    stream.filter = Name("FlateDecode")
    return stream


def _to_unicode(font: TTFFont) -> bytes:
    entries = [
        f"<{code:04X}> <{''.join(map(chr, glyph.unicode)).encode('utf-16-be').hex().upper()}>\n"
        for glyph, code in font.subset.items()
        if glyph is not None and isinstance(glyph.unicode, tuple) and glyph.unicode
    ]
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n"
        "<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{_build_cmap_blocks(entries, 'bfchar')}"
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("latin-1")


class FontFaces:
    """The faces of one family, parsed once, and the subsets cut from them.

    Shared by the threads that render: the parsed faces are only read after `__init__` (fpdf2's
    width table is a defaultdict: a lookup of a missing character adds the same default width,
    atomically under the GIL), and the subsets are kept under a lock (a subset is cut outside
    it; two threads cutting the same one at once both get equal bytes).
    """

    def __init__(self, family: str, files: dict[str, str], data_styles: tuple[str, ...]) -> None:
        self.family = family
        # Only the styles that print certificate data start with the common characters: what
        # the others print is the template's own text, one record for every document.
        self.data_faces = {f"{family}{style}" for style in data_styles}
        probe = FPDF()
        self.faces: dict[str, TTFFont] = {}
        for style, path in files.items():
            face = TTFFont(probe, Path(path), f"{family}{style}", style)
            if face.is_cff or face.color_font:
                raise ValueError(f"{path}: only TrueType outlines are shared")
            self.faces[face.fontkey] = probe.fonts[face.fontkey] = face
        self.files = {key: Path(face.ttffile).read_bytes() for key, face in self.faces.items()}
        self._subsets: OrderedDict[tuple[Any, ...], EmbeddedSubset] = OrderedDict()
        self._lock = threading.Lock()

    def characters(self, styles: tuple[str, ...]) -> frozenset[int]:
        """The code points that every one of `styles` has a glyph for."""
        cmaps = [set(self.faces[f"{self.family}{style}"].cmap) for style in styles]
        return frozenset(set.intersection(*cmaps))

    def add_to(self, pdf: FPDF) -> None:
        """Make the family usable in `pdf`, as `add_font` would, without parsing anything."""
        for key, face in self.faces.items():
            font = copy.copy(face)  # shares the parsed tables, widths and glyph ids
            font.i = len(pdf.fonts) + 1
            font.biggest_size_pt = 0
            font.missing_glyphs = []
            font._hbfont = None
            font.subset = CommonFirst(font) if key in self.data_faces else SubsetMap(font)
            pdf.fonts[key] = font

    def output(self, pdf: FPDF) -> bytes:
        faces = self

        class Producer(OutputProducer):
            def _add_fonts(self, *_: Any) -> dict[int, PDFFont | PDFType3Font]:
                return faces._add_fonts(self)

        return bytes(pdf.output(output_producer_class=Producer))

    def embedded(self, font: TTFFont) -> EmbeddedSubset:
        record = tuple(
            (glyph.glyph_name, glyph.unicode, code)
            for glyph, code in font.subset.items()
            if glyph is not None
        )
        key = (font.fontkey, record)
        with self._lock:
            kept = self._subsets.get(key)
            if kept is not None:
                self._subsets.move_to_end(key)
                return kept
        made = self._cut(font)
        with self._lock:
            self._subsets[key] = made
            while len(self._subsets) > SUBSETS_KEPT:
                self._subsets.popitem(last=False)
        return made

    def _cut(self, font: TTFFont) -> EmbeddedSubset:
        # A private copy of the face: fontTools subsets in place.
        ttfont = TTFont(BytesIO(self.files[font.fontkey]), recalcTimestamp=False, lazy=True)
        options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True)
        options.drop_tables += list(DROPPED_TABLES)
        subsetter = ftsubset.Subsetter(options)
        subsetter.populate(glyphs=font.subset.get_all_glyph_names())
        subsetter.subset(ttfont)
        cid_to_gid = bytearray(256 * 256 * 2)
        for glyph, code in font.subset.items():
            if glyph is not None:
                gid = ttfont.getGlyphID(glyph.glyph_name)
                cid_to_gid[code * 2 : code * 2 + 2] = gid.to_bytes(2, "big")
        saved = BytesIO()
        ttfont.save(saved)
        return EmbeddedSubset(
            font_file=zlib.compress(saved.getvalue()),
            font_file_length=len(saved.getvalue()),
            widths=_tt_font_widths(font),
            to_unicode=zlib.compress(_to_unicode(font)),
            cid_to_gid=zlib.compress(bytes(cid_to_gid)),
        )

    def _add_fonts(self, producer: OutputProducer) -> dict[int, PDFFont | PDFType3Font]:
        objects: dict[int, PDFFont | PDFType3Font] = {}
        for font in sorted(producer.fpdf.fonts.values(), key=lambda font: font.i):
            # Any other font (a core font, say) would need fpdf2's own path.
            if not isinstance(font, TTFFont) or font.fontkey not in self.faces:
                raise ValueError(f"font {font.fontkey} was not added by FontFaces.add_to")
            objects[font.i] = self._add_font(producer, font)
            # fpdf2's glyph lookups are cached per class, holding every document's fonts: let go
            # of them as fpdf2 does after writing a font.
            SubsetMap.pick.cache_clear()
            SubsetMap.get_glyph.cache_clear()
        return objects

    def _add_font(self, producer: OutputProducer, font: TTFFont) -> PDFFont:
        embedded = self.embedded(font)
        name = f"MPDFAA+{font.name}"
        composite = PDFFont(subtype="Type0", base_font=name, encoding="Identity-H")
        producer._add_pdf_obj(composite, "fonts")
        cid_font = PDFFont(
            subtype="CIDFontType2",
            base_font=name,
            d_w=font.desc.missing_width,
            w=embedded.widths,
        )
        producer._add_pdf_obj(cid_font, "fonts")
        composite.descendant_fonts = PDFArray([cid_font])
        to_unicode = _deflated(embedded.to_unicode)
        producer._add_pdf_obj(to_unicode, "fonts")
        composite.to_unicode = to_unicode
        system_info = CIDSystemInfo()
        producer._add_pdf_obj(system_info, "fonts")
        cid_font.c_i_d_system_info = system_info
        # The face's descriptor is shared by every document; the PDF object is this document's.
        descriptor: PDFFontDescriptor = copy.copy(font.desc)
        descriptor.font_name = Name(name)
        producer._add_pdf_obj(descriptor, "fonts")
        cid_font.font_descriptor = descriptor
        cid_to_gid = _deflated(embedded.cid_to_gid)
        producer._add_pdf_obj(cid_to_gid, "fonts")
        cid_font.c_i_d_to_g_i_d_map = cid_to_gid
        font_file = _deflated(embedded.font_file)
        font_file.length1 = embedded.font_file_length  # type: ignore[attr-defined]
        producer._add_pdf_obj(font_file, "fonts")
        descriptor.font_file2 = font_file  # type: ignore[attr-defined]
        return composite
