"""Certificate numbers, R5: `CCC-OOOOOOOOOO-SSSSSS`, 21 characters."""

from __future__ import annotations

import itertools

import pytest

from domain.numbering import MAX_SEQUENCE, format_number, parse_number


def test_number_is_zero_padded_and_21_characters():
    number = format_number("007", "0000000042", 7)
    assert number == "007-0000000042-000007"
    assert len(number) == 21


def test_largest_sequence_still_fits():
    assert format_number("999", "9999999999", MAX_SEQUENCE) == "999-9999999999-999999"


@pytest.mark.parametrize(
    ("certifier_code", "operation_id", "sequence"),
    list(
        itertools.product(
            ["000", "123", "999"], ["0000000001", "1234567890"], [1, 42, 100_000, MAX_SEQUENCE]
        )
    ),
)
def test_format_and_parse_round_trip(certifier_code: str, operation_id: str, sequence: int):
    number = format_number(certifier_code, operation_id, sequence)
    assert len(number) == 21
    assert parse_number(number) == (certifier_code, operation_id, sequence)


@pytest.mark.parametrize(
    ("certifier_code", "operation_id", "sequence"),
    [
        pytest.param("12", "0000000042", 1, id="certifier-too-short"),
        pytest.param("1234", "0000000042", 1, id="certifier-too-long"),
        pytest.param("12a", "0000000042", 1, id="certifier-not-digits"),
        pytest.param("\u0661\u0662\u0663", "0000000042", 1, id="certifier-arabic-indic-digits"),
        pytest.param("123", "000000042", 1, id="operation-too-short"),
        pytest.param("123", "00000000042", 1, id="operation-too-long"),
        pytest.param("123", "00000-0042", 1, id="operation-not-digits"),
        pytest.param("123", "0000000042\n", 1, id="operation-trailing-newline"),
        pytest.param("123", "0000000042", 0, id="sequence-zero"),
        pytest.param("123", "0000000042", -1, id="sequence-negative"),
        pytest.param("123", "0000000042", MAX_SEQUENCE + 1, id="sequence-overflow"),
    ],
)
def test_format_refuses_malformed_parts(certifier_code: str, operation_id: str, sequence: int):
    with pytest.raises(ValueError, match="must be"):
        format_number(certifier_code, operation_id, sequence)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "007-0000000042-00007",
        "007-0000000042-0000007",
        "07-0000000042-000007",
        "007-000000042-000007",
        "007_0000000042_000007",
        "0070000000042000007",
        " 007-0000000042-000007",
        "007-0000000042-000007 ",
        "007-0000000042-000007\n",
        "007-0000000042-00000x",
        "\u0660\u0660\u0667-0000000042-000007",
    ],
)
def test_parse_refuses_anything_but_a_whole_number(text: str):
    with pytest.raises(ValueError, match="not a certificate number"):
        parse_number(text)
