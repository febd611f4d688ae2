"""Printable text: what a free-text field may hold, so that it is safe wherever it goes.

Everything a party types ends up in places that trust it to be plain: mail headers and bodies,
the signed certificate and its PDF, the customs broker's filing, audit trails. So free text is
printable characters only, decided by Unicode category:

- `Cc` control characters are refused (tab included: it means nothing in any of those places),
  except a line break in a multi-line field (an answer, a comment, a reason), where a browser's
  CRLF is read as one line break;
- `Zl` and `Zp`, the line and paragraph separators, are refused: a line break that a mail header
  or a CSV reader sees but a person reading the form does not;
- `Cf` format characters are all refused: the bidirectional overrides and isolates that show
  a text in another order than it is stored, zero-width spaces and joiners, the soft hyphen, the
  byte order mark, tags. Being invisible, they make two lot numbers that look the same compare
  different. Scripts that use joiners in ordinary words lose them; that is the price of values
  that are what they look like;
- `Cs` lone surrogates (not text at all, and no UTF-8 encodes them), `Co` private-use
  characters (whose look depends on a private agreement) and `Cn` code points unassigned in this
  Python's Unicode database are refused.

Letters, marks, numbers, punctuation, symbols and spaces of every script are accepted.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
LINE_BREAK = "\n"
CATEGORY_NAMES = {
    "Cc": "control character",
    "Cf": "invisible format character",
    "Cs": "surrogate",
    "Co": "private-use character",
    "Cn": "unassigned character",
    "Zl": "line separator",
    "Zp": "paragraph separator",
}


@dataclass(frozen=True)
class Unprintable:
    """The first character that makes a text unprintable, and where it is."""

    position: int
    character: str

    @property
    def code_point(self) -> str:
        return f"U+{ord(self.character):04X}"

    def describe(self, *, multi_line: bool) -> str:
        if self.character in "\r\n" and not multi_line:
            kind = "line break"
        else:
            kind = CATEGORY_NAMES[unicodedata.category(self.character)]
        return f"{kind} {self.code_point} at position {self.position} is not allowed"


def is_printable_character(character: str, *, multi_line: bool = False) -> bool:
    if multi_line and character == LINE_BREAK:
        return True
    return unicodedata.category(character) not in REFUSED_CATEGORIES


def normalise_line_breaks(text: str) -> str:
    """A form's CRLF (what browsers send for a text area) as the one line break we store."""
    return text.replace("\r\n", LINE_BREAK)


def first_unprintable(text: str, *, multi_line: bool = False) -> Unprintable | None:
    """None when `text` is printable; otherwise its first offending character.

    In a multi-line text a CRLF is one line break, and a lone CR is refused.
    """
    for position, character in enumerate(text):
        if multi_line and character == "\r" and text[position + 1 : position + 2] == LINE_BREAK:
            continue
        if not is_printable_character(character, multi_line=multi_line):
            return Unprintable(position, character)
    return None


def printable_or_replaced(
    text: str, replacement: str = "\ufffd", *, multi_line: bool = False
) -> str:
    """`text` with every character that is not printable replaced: for showing stored text that
    was written before this rule, or by a hand other than the API's."""
    if multi_line:
        text = normalise_line_breaks(text)
    return "".join(
        c if is_printable_character(c, multi_line=multi_line) else replacement for c in text
    )
