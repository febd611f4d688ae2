"""The shipped HTS reference (2025 Rev 24) and how a code is matched against it."""

from __future__ import annotations

import pytest

from domain.hts import HtsCatalogue, HtsMatch, reference_catalogue


def test_shipped_catalogue_has_every_code():
    assert len(reference_catalogue().descriptions) == 5926


def test_reference_catalogue_is_loaded_once():
    assert reference_catalogue() is reference_catalogue()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("0804400020", HtsMatch.EXACT),
        ("08044000", HtsMatch.EXACT),
        ("0901110015", HtsMatch.EXACT),
        ("2204215040", HtsMatch.EXACT),
        ("0804400099", HtsMatch.NEWER_SUFFIX),
        ("0901110099", HtsMatch.NEWER_SUFFIX),
        ("9999999999", HtsMatch.UNKNOWN),
        ("99011100", HtsMatch.UNKNOWN),
        ("0804", HtsMatch.UNKNOWN),
        ("080440002", HtsMatch.UNKNOWN),
        ("08044000200", HtsMatch.UNKNOWN),
        ("", HtsMatch.UNKNOWN),
    ],
)
def test_code_matches_the_reference(code: str, expected: HtsMatch):
    assert reference_catalogue().match(code) is expected


def test_description_of_a_newer_suffix_falls_back_to_its_line():
    catalogue = reference_catalogue()
    assert catalogue.description("0804400099") == catalogue.description("08044000")
    assert (catalogue.description("0804400020") or "").endswith("Certified organic")
    assert catalogue.description("9999999999") is None


@pytest.mark.parametrize(
    ("code", "sibling"),
    [
        pytest.param("0804400040", "0804400020", id="hass-avocado-other"),
        pytest.param("0804400020", "0804400020", id="hass-avocado-organic-is-itself"),
        pytest.param("0804400090", None, id="other-avocado-branch-has-no-organic-code"),
        pytest.param("0901110025", "0901110015", id="arabica-other"),
        pytest.param("0901110040", "0901110035", id="robusta-other-gets-robusta-organic"),
        pytest.param("0901110035", "0901110035", id="robusta-organic-is-itself"),
        pytest.param("0901110065", "0901110050", id="other-coffee-other"),
        pytest.param("0702004019", "0702004008", id="greenhouse-cherry-tomato-to-organic-other"),
        pytest.param("0702004021", "0702004002", id="greenhouse-grape-tomato-to-organic-grape"),
        pytest.param("0702004041", "0702004037", id="field-cherry-tomato-to-field-organic"),
        pytest.param("2204215040", "2204215035", id="not-certified-organic-is-conventional"),
        pytest.param("0409000010", "0409000005", id="honey-capitalised-organic"),
        pytest.param("0901110099", "0901110015", id="newer-suffix-gets-any-organic-of-its-line"),
        pytest.param("0101210010", None, id="line-without-organic-codes"),
        pytest.param("09011100", None, id="eight-digit-line"),
        pytest.param("9999999999", None, id="unknown"),
    ],
)
def test_organic_sibling(code: str, sibling: str | None):
    assert reference_catalogue().organic_sibling(code) == sibling


def test_every_organic_sibling_is_an_organic_code_of_the_same_line():
    catalogue = reference_catalogue()
    for code in catalogue.descriptions:
        sibling = catalogue.organic_sibling(code)
        if sibling is not None:
            assert sibling[:8] == code[:8]
            path = catalogue.descriptions[sibling].lower().split(": ")
            assert "certified organic" in path, sibling


def test_a_catalogue_reads_its_csv():
    catalogue = HtsCatalogue.from_csv_text(
        "code,chapter,description,unit\n"
        "12345678,12,Things,\n"
        "1234567810,12,Things: Certified organic,kg\n"
        "1234567890,12,Things: Other,kg\n"
    )
    assert catalogue.match("1234567890") is HtsMatch.EXACT
    assert catalogue.organic_sibling("1234567890") == "1234567810"
    assert catalogue.organic_sibling("1234567899") == "1234567810"
