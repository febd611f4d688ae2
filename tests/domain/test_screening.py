"""Screening rules R3 (parties) and R4 (HTS code, product list, mass balance), real HTS data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.hts import reference_catalogue
from domain.model import OperationStatus
from domain.screening import CertifiedProduct, Finding, OperationRecord, screen_line, screen_parties

CERTIFIER = "cert-1"


def operation(
    op_id: str,
    status: OperationStatus = OperationStatus.CERTIFIED,
    certifier: str | None = CERTIFIER,
) -> OperationRecord:
    return OperationRecord(op_id, f"Op {op_id}", status, certifier)


EXPORTER = operation("1000000001")
IMPORTER = operation("2000000002", certifier="cert-9")


def codes(findings: list[Finding]) -> set[tuple[str, bool]]:
    return {(finding.code, finding.hard) for finding in findings}


def test_certified_parties_with_the_exporters_certifier_pass():
    assert screen_parties(EXPORTER, IMPORTER, CERTIFIER) == []


@pytest.mark.parametrize(
    ("exporter", "importer", "expected"),
    [
        pytest.param(None, IMPORTER, {("exporter_unknown", True)}, id="exporter-unknown"),
        pytest.param(EXPORTER, None, {("importer_unknown", True)}, id="importer-unknown"),
        pytest.param(
            None, None, {("exporter_unknown", True), ("importer_unknown", True)}, id="both-unknown"
        ),
        *[
            pytest.param(
                operation("1000000001", status),
                IMPORTER,
                {("exporter_not_certified", True)},
                id=f"exporter-{status}",
            )
            for status in (
                OperationStatus.SUSPENDED,
                OperationStatus.REVOKED,
                OperationStatus.SURRENDERED,
            )
        ],
        *[
            pytest.param(
                EXPORTER,
                operation("2000000002", status),
                {("importer_not_certified", True)},
                id=f"importer-{status}",
            )
            for status in (
                OperationStatus.SUSPENDED,
                OperationStatus.REVOKED,
                OperationStatus.SURRENDERED,
            )
        ],
        pytest.param(
            operation("1000000001", certifier="cert-2"),
            IMPORTER,
            {("wrong_certifier", True)},
            id="exporter-of-another-certifier",
        ),
        pytest.param(
            operation("1000000001", OperationStatus.REVOKED, certifier=None),
            operation("2000000002", OperationStatus.SUSPENDED),
            {
                ("exporter_not_certified", True),
                ("importer_not_certified", True),
                ("wrong_certifier", True),
            },
            id="everything-wrong",
        ),
    ],
)
def test_party_problems_are_hard_r3_findings(exporter, importer, expected):
    findings = screen_parties(exporter, importer, CERTIFIER)
    assert codes(findings) == expected
    assert all(finding.rule == "R3" for finding in findings)


def test_not_certified_finding_names_the_operation_and_its_status():
    suspended = operation("1000000001", OperationStatus.SUSPENDED)
    [finding] = screen_parties(suspended, IMPORTER, CERTIFIER)
    assert "Op 1000000001" in finding.message
    assert "suspended" in finding.message


def line(
    hts_code: str,
    quantity: str = "100",
    *,
    capacity: str = "10000",
    used: str = "0",
    listed: str | None = None,
) -> list[Finding]:
    """Screen one line of `quantity` kg; the exporter's list holds `listed` (default: the code)."""
    products = [CertifiedProduct(listed or hts_code, Decimal(capacity))]
    return screen_line(
        hts_code=hts_code,
        quantity_kg=Decimal(quantity),
        products=products,
        used_this_year_kg=Decimal(used),
        catalogue=reference_catalogue(),
    )


@pytest.mark.parametrize(
    "hts_code",
    [
        "0901110015",  # coffee, not roasted, arabica, certified organic
        "0901110035",  # robusta, certified organic: not the first organic code of its line
        "0804400020",  # Hass avocados, certified organic
        "0804400090",  # other avocados: that branch has no organic breakout
        "0101210010",  # live purebred horses, males: no organic code anywhere in the line
        "09011100",  # an 8-digit line itself
    ],
)
def test_a_known_listed_code_within_capacity_has_no_findings(hts_code: str):
    assert line(hts_code) == []


@pytest.mark.parametrize("hts_code", ["9999999999", "0804", "99011100", "080440002"])
def test_hts_code_not_in_the_reference_is_hard(hts_code: str):
    assert codes(line(hts_code)) == {("hts_unknown", True)}


def test_ten_digit_code_missing_under_a_known_line_is_a_soft_newer_suffix():
    assert codes(line("0101210099")) == {("hts_newer_suffix", False)}


def test_newer_suffix_under_a_line_with_organic_breakout_is_also_told_the_organic_code():
    findings = line("0901110099")
    assert codes(findings) == {("hts_newer_suffix", False), ("hts_not_organic_suffix", False)}
    assert any("0901110015" in finding.message for finding in findings)


@pytest.mark.parametrize(
    ("hts_code", "organic_code"),
    [
        ("0804400040", "0804400020"),  # Hass avocados: Other
        ("0901110025", "0901110015"),  # arabica: Other
        ("0901110040", "0901110035"),  # robusta: Other -> the robusta organic code
        ("0901110065", "0901110050"),  # other coffee: Other
        ("2204215040", "2204215035"),  # red wine: "Not certified organic"
    ],
)
def test_conventional_suffix_beside_a_certified_organic_one_is_soft(hts_code, organic_code):
    [finding] = line(hts_code)
    assert (finding.rule, finding.code, finding.hard) == ("R4", "hts_not_organic_suffix", False)
    assert organic_code in finding.message


def test_product_not_on_the_exporters_list_is_hard_and_skips_mass_balance():
    findings = line("0901110015", "999999", capacity="1", listed="0901110035")
    assert codes(findings) == {("product_not_certified", True)}


def test_unknown_code_not_on_the_list_gets_both_hard_findings():
    assert codes(line("9999999999", listed="0901110015")) == {
        ("hts_unknown", True),
        ("product_not_certified", True),
    }


@pytest.mark.parametrize(
    ("quantity", "capacity", "used", "expected"),
    [
        pytest.param("100", "1000", "0", set(), id="well-within"),
        pytest.param("500", "1000", "400", set(), id="exactly-90-percent"),
        pytest.param("500.001", "1000", "400", {("mass_balance_high", False)}, id="just-over-90"),
        pytest.param("600", "1000", "400", {("mass_balance_high", False)}, id="exactly-the-rest"),
        pytest.param("601", "1000", "400", {("mass_balance_exceeded", True)}, id="1-kg-over"),
        pytest.param("0.5", "1000", "999.5", {("mass_balance_high", False)}, id="last-half-kg"),
        pytest.param("1", "1000", "1200", {("mass_balance_exceeded", True)}, id="already-over"),
        pytest.param("950", "1000", "0", {("mass_balance_high", False)}, id="one-big-line"),
    ],
)
def test_mass_balance_against_declared_annual_capacity(quantity, capacity, used, expected):
    findings = line("0901110015", quantity, capacity=capacity, used=used)
    assert codes(findings) == expected
    assert all(finding.rule == "R4" for finding in findings)


def test_exceeded_message_never_shows_negative_capacity_left():
    [finding] = line("0901110015", "1", capacity="1000", used="1200")
    assert "exceeds the 0 kg left" in finding.message


def test_finding_as_dict_carries_every_field():
    finding = Finding("R4", "hts_unknown", "no such code", True)
    assert finding.as_dict() == {
        "rule": "R4",
        "code": "hts_unknown",
        "message": "no such code",
        "hard": True,
    }


@pytest.mark.parametrize(
    ("quantity", "used", "left"),
    [
        pytest.param("500.001", "400", "600", id="high"),
        pytest.param("601", "400", "600", id="exceeded"),
        pytest.param("1", "1200", "0", id="already-over"),
    ],
)
def test_mass_balance_findings_carry_the_capacity_figures(quantity, used, left):
    [finding] = line("0901110015", quantity, capacity="1000", used=used)
    assert finding.details == {
        "annual_capacity_kg": Decimal(1000),
        "used_kg": Decimal(used),
        "requested_kg": Decimal(quantity),
        "left_kg": Decimal(left),
    }
    assert finding.as_dict()["details"] == finding.details
