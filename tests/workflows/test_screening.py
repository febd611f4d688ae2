"""Automatic screening at submission: hard findings reject (R3, R4), soft ones become flags."""

from __future__ import annotations

import pytest

from tests.workflows.support import (
    AVOCADOS,
    EXPORTERS,
    IMPORTER_ORG,
    OLIVE_OIL,
    Harness,
    line,
    request_input,
)


@pytest.mark.parametrize(
    ("spec", "suspend", "code"),
    [
        pytest.param(line(hts_code="9999999999"), None, "hts_unknown", id="unknown_hts_code"),
        pytest.param(line(hts_code=OLIVE_OIL), None, "product_not_certified", id="not_certified"),
        pytest.param(line(quantity_kg=500_001), None, "mass_balance_exceeded", id="mass_balance"),
        pytest.param(line(), IMPORTER_ORG, "importer_not_certified", id="party_not_certified"),
    ],
)
async def test_hard_finding_rejects_and_mails_the_exporter(
    harness: Harness, spec: dict[str, object], suspend: str | None, code: str
) -> None:
    if suspend is not None:
        await harness.set_registry_status(suspend, "suspended")

    [cert] = await harness.submit(request_input(spec))

    row = await harness.certificate(cert)
    assert row is not None
    assert (row.status, row.awaiting) == ("rejected", "none")
    assert code in [flag["code"] for flag in row.flags if flag["hard"]]
    assert await harness.actions(cert) == ["submitted", "screening_failed"]
    assert await harness.tasks(cert) == []
    assert await harness.handle(cert).result() == "rejected"
    [mail] = await harness.smtp.wait_for(1)
    assert harness.mails_to(EXPORTERS) == [str(mail["Subject"])]
    assert str(mail["Subject"]).startswith("Certificate request rejected")
    assert "Automatic screening rejected" in mail.get_content()


async def test_mass_balance_counts_certificates_still_pending(harness: Harness) -> None:
    # A certificate in review holds its kilograms: 300 000 kg taken, 250 000 more exceed the
    # exporter's 500 000 kg of avocados a year, while 200 000 kg still fit.
    [held] = await harness.submit(request_input(line(quantity_kg=300_000)))
    [refused] = await harness.submit(request_input(line(quantity_kg=250_000)))
    [fits] = await harness.submit(request_input(line(quantity_kg=200_000)))

    assert await harness.status(held) == "in_review"
    assert await harness.status(refused) == "rejected"
    assert await harness.status(fits) == "in_review"


async def test_soft_findings_become_risk_flags_on_the_review(harness: Harness) -> None:
    # 460 000 of 500 000 kg: over 90% of the declared capacity, within it.
    [cert] = await harness.submit(request_input(line(AVOCADOS, quantity_kg=460_000)))

    row = await harness.certificate(cert)
    assert row is not None
    assert row.status == "in_review"
    assert [(f["code"], f["hard"]) for f in row.flags] == [("mass_balance_high", False)]
    [mail] = await harness.smtp.wait_for(1)
    assert "90%" in mail.get_content()
