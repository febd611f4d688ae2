"""Import requests: recorded once, whoever gets there first (the API or the workflow)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import NotFound
from domain.model import Actor, Awaiting, Role, Status
from persistence.models import Certificate, ImportRequest
from workflows.contracts import ImportRequestInput


class RequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, request: ImportRequestInput) -> bool:
        """Write the request and one `submitted` certificate per line; False if already there.

        The API and the request's workflow both record it, at the same moment often: the first
        insert wins and the other one does nothing (ON CONFLICT), rather than failing on the key.
        """
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        written = await self.session.execute(
            insert(ImportRequest)
            .values(
                id=request.request_id,
                created_by=request.created_by,
                created_at=request.created_at,
                certifier_id=request.certifier_id,
                exporter_id=request.exporter_id,
                importer_id=request.importer_id,
                coverage=request.coverage,
                valid_from=request.valid_from,
                valid_until=request.valid_until,
                country_of_origin=request.country_of_origin,
                port_of_export=request.port_of_export,
                port_of_entry=request.port_of_entry,
                shipment=request.shipment.model_dump(mode="json"),
            )
            .on_conflict_do_nothing(index_elements=[ImportRequest.id])
        )
        if not written.rowcount:  # type: ignore[attr-defined]
            return False
        for line in request.lines:
            self.session.add(
                Certificate(
                    id=line.certificate_id,
                    request_id=request.request_id,
                    line_no=line.line_no,
                    certifier_id=request.certifier_id,
                    exporter_id=request.exporter_id,
                    importer_id=request.importer_id,
                    hts_code=line.hts_code,
                    product_name=line.product_name,
                    organic_category=line.organic_category,
                    quantity_kg=line.quantity_kg,
                    lot_numbers=list(line.lot_numbers),
                    coverage=request.coverage,
                    valid_from=request.valid_from,
                    valid_until=request.valid_until,
                    status=Status.SUBMITTED,
                    awaiting=Awaiting.SYSTEM,
                    flags=[],
                    projected_seq=0,
                    created_at=request.created_at,
                    updated_at=request.created_at,
                )
            )
        await self.session.flush()
        return True

    async def get_for_exporter(self, actor: Actor, request_id: str) -> ImportRequest:
        found = None
        if actor.role is Role.EXPORTER and actor.organisation_id is not None:
            found = await self.session.scalar(
                select(ImportRequest).where(
                    ImportRequest.id == request_id,
                    ImportRequest.exporter_id == actor.organisation_id,
                )
            )
        if found is None:
            raise NotFound("request not found", code="request_not_found")
        return found
