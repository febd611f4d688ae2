"""Registry and HTS screening (R3, R4): read the registry, let the domain decide."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from domain.hts import reference_catalogue
from domain.screening import Finding, screen_line, screen_parties
from persistence.repositories import CertificateRepository, RegistryRepository
from workflows.contracts import SCREEN_LINE_ACTIVITY, SCREEN_PARTIES_ACTIVITY, FindingRecord
from workflows.payloads import ScreenLineInput, ScreenPartiesInput


def _records(findings: list[Finding]) -> list[FindingRecord]:
    return [
        FindingRecord(
            rule=f.rule,
            code=f.code,
            message=f.message,
            hard=f.hard,
            details=None if f.details is None else dict(f.details),
        )
        for f in findings
    ]


class ScreeningActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name=SCREEN_PARTIES_ACTIVITY)
    async def screen_parties(self, parties: ScreenPartiesInput) -> list[FindingRecord]:
        async with self.sessions() as session:
            registry = RegistryRepository(session)
            exporter = await registry.operation(parties.exporter_id)
            importer = await registry.operation(parties.importer_id)
        return _records(screen_parties(exporter, importer, parties.certifier_id))

    @activity.defn(name=SCREEN_LINE_ACTIVITY)
    async def screen_line(self, line: ScreenLineInput) -> list[FindingRecord]:
        async with self.sessions() as session:
            products = await RegistryRepository(session).products(line.exporter_id)
            used = await CertificateRepository(session).used_kg_in_year(
                exporter_id=line.exporter_id,
                hts_code=line.hts_code,
                year=line.year,
                excluding=line.certificate_id,
            )
        return _records(
            screen_line(
                hts_code=line.hts_code,
                quantity_kg=line.quantity_kg,
                products=products,
                used_this_year_kg=used,
                catalogue=reference_catalogue(),
            )
        )
