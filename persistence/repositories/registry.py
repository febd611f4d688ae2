"""The organic registry as screening sees it (R3, R4)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import OperationStatus
from domain.screening import CertifiedProduct as ProductRecord
from domain.screening import OperationRecord
from persistence.models import CertifiedProduct, Organisation, RegistryOperation


class RegistryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def operation(self, operation_id: str) -> OperationRecord | None:
        row = (
            await self.session.execute(
                select(RegistryOperation, Organisation)
                .join(Organisation, Organisation.id == RegistryOperation.organisation_id)
                .where(RegistryOperation.organisation_id == operation_id)
            )
        ).first()
        if row is None:
            return None
        op, org = row
        return OperationRecord(
            operation_id=op.organisation_id,
            name=org.name,
            status=OperationStatus(op.status),
            certifier_id=op.certifier_id,
        )

    async def products(self, operation_id: str) -> list[ProductRecord]:
        rows = await self.session.scalars(
            select(CertifiedProduct).where(CertifiedProduct.operation_id == operation_id)
        )
        return [ProductRecord(p.hts_code, p.annual_capacity_kg) for p in rows.all()]

    async def organisation(self, organisation_id: str) -> Organisation | None:
        return await self.session.get(Organisation, organisation_id)
