"""The screening activities read the registry and let the domain rules decide (R3, R4)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from activities.screening import ScreeningActivities
from persistence.models import RegistryOperation
from workflows.payloads import ScreenLineInput, ScreenPartiesInput

DEMO_PARTIES = ScreenPartiesInput(
    certifier_id="555", exporter_id="5550000001", importer_id="5550000002"
)


def avocados(kg: int) -> ScreenLineInput:
    return ScreenLineInput(
        certificate_id="new",
        exporter_id="5550000001",
        hts_code="0804400020",
        quantity_kg=Decimal(kg),
        year=2026,
    )


async def test_demo_parties_pass_and_a_suspended_importer_fails(sessions) -> None:
    screening = ScreeningActivities(sessions)
    assert await screening.screen_parties(DEMO_PARTIES) == []

    async with sessions() as session, session.begin():
        await session.execute(
            update(RegistryOperation)
            .where(RegistryOperation.organisation_id == "5550000002")
            .values(status="suspended")
        )
    findings = await screening.screen_parties(DEMO_PARTIES)

    assert [(f.code, f.hard) for f in findings] == [("importer_not_certified", True)]


async def test_a_line_within_capacity_passes_and_one_beyond_it_fails(sessions) -> None:
    screening = ScreeningActivities(sessions)

    assert await screening.screen_line(avocados(18_000)) == []
    [finding] = await screening.screen_line(avocados(500_001))
    assert (finding.rule, finding.code, finding.hard) == ("R4", "mass_balance_exceeded", True)
    # The demo exporter declares 500,000 kg of avocados a year and has used none of it.
    assert finding.details == {
        "annual_capacity_kg": Decimal(500_000),
        "used_kg": Decimal(0),
        "requested_kg": Decimal(500_001),
        "left_kg": Decimal(500_000),
    }
