"""Which free text is printable (domain.text), character class by character class."""

from __future__ import annotations

import pytest

from domain.text import first_unprintable, printable_or_replaced

PRINTABLE = [
    "Fresh Hass avocados",
    "Palta orgánica, Señor de Muruhuay",
    "有机牛油果",
    "أفوكادو عضوي",
    "जैविक एवोकाडो",
    "e\u0301\u0301",  # combining marks stack on a letter
    "\U0001f951 \u00a9 \u20ac \u00bd",  # symbols and emoji
    "a\u00a0b\u3000c",  # no-break and ideographic spaces are spaces
    "\ufffd",  # the replacement character is a symbol like any other
    "",
]

# (text, position, code point of the first offending character)
UNPRINTABLE = [
    ("\x00", 0, "U+0000"),
    ("tab\there", 3, "U+0009"),
    ("del\x7f", 3, "U+007F"),
    ("next line\x85", 9, "U+0085"),
    ("ab\u202ecd", 2, "U+202E"),  # right-to-left override
    ("\u2067x", 0, "U+2067"),  # right-to-left isolate
    ("zero\u200bwidth", 4, "U+200B"),
    ("join\u200der", 4, "U+200D"),
    ("soft\u00adhyphen", 4, "U+00AD"),
    ("\ufeffbom", 0, "U+FEFF"),
    ("tag\U000e0041", 3, "U+E0041"),
    ("line\u2028sep", 4, "U+2028"),
    ("para\u2029sep", 4, "U+2029"),
    ("private\ue000", 7, "U+E000"),
    ("unassigned\u0378", 10, "U+0378"),
    ("lone\udc80surrogate", 4, "U+DC80"),
    ("ok\uffff", 2, "U+FFFF"),
]


@pytest.mark.parametrize("text", PRINTABLE)
@pytest.mark.parametrize("multi_line", [False, True])
def test_text_of_any_script_is_printable(text: str, multi_line: bool) -> None:
    assert first_unprintable(text, multi_line=multi_line) is None


@pytest.mark.parametrize(("text", "position", "code_point"), UNPRINTABLE)
@pytest.mark.parametrize("multi_line", [False, True])
def test_control_format_separator_and_unassigned_characters_are_refused(
    text: str, position: int, code_point: str, multi_line: bool
) -> None:
    found = first_unprintable(text, multi_line=multi_line)

    assert found is not None
    assert (found.position, found.code_point) == (position, code_point)


@pytest.mark.parametrize(
    ("text", "multi_line", "refused_at"),
    [
        ("one\ntwo", False, 3),
        ("one\ntwo", True, None),
        ("one\r\ntwo", False, 3),
        ("one\r\ntwo", True, None),
        ("one\rtwo", True, 3),  # a lone CR is no line break anywhere
        ("one\r\n\r\ntwo\n", True, None),
        ("one\r\n\rtwo", True, 5),
    ],
)
def test_a_line_break_is_printable_in_a_multi_line_text_only(
    text: str, multi_line: bool, refused_at: int | None
) -> None:
    found = first_unprintable(text, multi_line=multi_line)

    assert (found.position if found else None) == refused_at


def test_the_refusal_says_what_the_character_is() -> None:
    found = first_unprintable("ab\u202ecd")
    line_break = first_unprintable("ab\n")

    assert found is not None
    assert line_break is not None
    assert found.describe(multi_line=False) == (
        "invisible format character U+202E at position 2 is not allowed"
    )
    assert line_break.describe(multi_line=False) == "line break U+000A at position 2 is not allowed"


def test_stored_text_is_shown_with_what_is_not_printable_replaced() -> None:
    assert printable_or_replaced("a\x00b\u202ec\nd") == "a\ufffdb\ufffdc\ufffdd"
    assert printable_or_replaced("a\r\nb\rc", "?", multi_line=True) == "a\nb?c"
