"""Screening rules R3 (parties) and R4 (product, HTS code, mass balance).

Each rule returns findings; a hard finding rejects the certificate, a soft one becomes a risk
flag on the certifier's review task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from domain.hts import HtsCatalogue, HtsMatch
from domain.model import Actor, OperationStatus, Role

# Share of the annual capacity above which the reviewer is told to look at mass balance.
HIGH_USE_SHARE = Decimal("0.9")

# Flags carry the exporter's declared capacity and volumes: its certifier reviews them and the
# exporter reads its own; the importer named on the same certificate may not (DESIGN 5).
FLAG_READERS = frozenset({Role.CERTIFIER, Role.EXPORTER})
# The key under which a screening's audit event holds its findings, flags and figures included.
FINDINGS_DETAIL = "findings"


def reads_flags(actor: Actor) -> bool:
    return actor.role in FLAG_READERS


@dataclass(frozen=True)
class Finding:
    rule: str
    code: str
    message: str
    hard: bool
    # The figures the finding was decided on, for the reviewer; None where a message says it all.
    details: Mapping[str, Decimal] | None = None

    def as_dict(self) -> dict[str, object]:
        fields: dict[str, object] = {
            "rule": self.rule,
            "code": self.code,
            "message": self.message,
            "hard": self.hard,
        }
        if self.details is not None:
            fields["details"] = dict(self.details)
        return fields


@dataclass(frozen=True)
class OperationRecord:
    """An operation as the organic registry knows it."""

    operation_id: str
    name: str
    status: OperationStatus
    certifier_id: str | None


@dataclass(frozen=True)
class CertifiedProduct:
    hts_code: str
    annual_capacity_kg: Decimal


def screen_parties(
    exporter: OperationRecord | None, importer: OperationRecord | None, certifier_id: str
) -> list[Finding]:
    """R3: both operations certified and active; issued by the exporter's own certifier."""
    findings: list[Finding] = []
    for label, op in (("exporter", exporter), ("importer", importer)):
        if op is None:
            findings.append(
                Finding("R3", f"{label}_unknown", f"the {label} is not in the registry", True)
            )
        elif op.status is not OperationStatus.CERTIFIED:
            findings.append(
                Finding(
                    "R3",
                    f"{label}_not_certified",
                    f"the {label} {op.name} is {op.status}, not certified",
                    True,
                )
            )
    if exporter is not None and exporter.certifier_id != certifier_id:
        findings.append(
            Finding(
                "R3",
                "wrong_certifier",
                "the certificate must be issued by the exporter's own certifier",
                True,
            )
        )
    return findings


def screen_line(
    *,
    hts_code: str,
    quantity_kg: Decimal,
    products: list[CertifiedProduct],
    used_this_year_kg: Decimal,
    catalogue: HtsCatalogue,
) -> list[Finding]:
    """R4 for one product line: HTS code known, product certified, quantity within capacity."""
    findings: list[Finding] = []
    match = catalogue.match(hts_code)
    if match is HtsMatch.UNKNOWN:
        findings.append(
            Finding("R4", "hts_unknown", f"HTS code {hts_code} is not in the HTS reference", True)
        )
    elif match is HtsMatch.NEWER_SUFFIX:
        findings.append(
            Finding(
                "R4",
                "hts_newer_suffix",
                f"HTS code {hts_code} is not in the 2025 Rev 24 reference but its heading is: "
                "possibly a newer statistical suffix",
                False,
            )
        )
    organic = catalogue.organic_sibling(hts_code)
    if organic is not None and organic != hts_code:
        findings.append(
            Finding(
                "R4",
                "hts_not_organic_suffix",
                f"heading has a 'certified organic' code {organic}; {hts_code} is not it",
                False,
            )
        )
    product = next((p for p in products if p.hts_code == hts_code), None)
    if product is None:
        findings.append(
            Finding(
                "R4",
                "product_not_certified",
                f"HTS code {hts_code} is not on the exporter's certified product list",
                True,
            )
        )
        return findings
    left = product.annual_capacity_kg - used_this_year_kg
    figures = capacity_figures(product, used_this_year_kg, quantity_kg)
    if quantity_kg > left:
        findings.append(
            Finding(
                "R4",
                "mass_balance_exceeded",
                f"{quantity_kg} kg exceeds the {figures['left_kg']} kg left of the "
                f"exporter's {product.annual_capacity_kg} kg declared for the year",
                True,
                figures,
            )
        )
    elif used_this_year_kg + quantity_kg > product.annual_capacity_kg * HIGH_USE_SHARE:
        findings.append(
            Finding(
                "R4",
                "mass_balance_high",
                "with this certificate the exporter uses over 90% of its declared capacity",
                False,
                figures,
            )
        )
    return findings


def capacity_figures(
    product: CertifiedProduct, used_this_year_kg: Decimal, quantity_kg: Decimal
) -> dict[str, Decimal]:
    """Mass balance (R4) as the reviewer weighs it: the exporter's declared annual capacity for
    the product, what its other live certificates of the year take, this line, and what is left
    before this line (never below zero)."""
    return {
        "annual_capacity_kg": product.annual_capacity_kg,
        "used_kg": used_this_year_kg,
        "requested_kg": quantity_kg,
        "left_kg": max(product.annual_capacity_kg - used_this_year_kg, Decimal(0)),
    }
