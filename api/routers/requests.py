"""Import requests: an exporter files one, and the workflow engine takes it from there."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentUser, IdempotencyKey, SessionDep, TemporalDep, reads_only
from api.responses import SIGNED_IN, errors
from api.schemas.requests import RequestCreate, RequestCreated, RequestLineRead, RequestRead
from api.submission import submit_request
from domain.model import Coverage, OrganicCategory, Status
from persistence.repositories import CertificateRepository, RequestRepository

router = APIRouter(prefix="/api/requests", tags=["requests"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=errors(*SIGNED_IN, 403, 413, 422),
)
async def create_request(
    body: RequestCreate,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> RequestCreated:
    return await submit_request(session, temporal, user, body, idempotency_key)


@router.get("/{request_id}", responses=errors(*SIGNED_IN, 404, 422))
@reads_only
async def read_request(request_id: str, user: CurrentUser, session: SessionDep) -> RequestRead:
    request = await RequestRepository(session).get_for_exporter(user.actor, request_id)
    rows = await CertificateRepository(session).for_request(request.id)
    return RequestRead(
        id=request.id,
        created_at=request.created_at,
        created_by=request.created_by,
        certifier_id=request.certifier_id,
        exporter_id=request.exporter_id,
        importer_id=request.importer_id,
        coverage=Coverage(request.coverage),
        valid_from=request.valid_from,
        valid_until=request.valid_until,
        country_of_origin=request.country_of_origin,
        port_of_export=request.port_of_export,
        port_of_entry=request.port_of_entry,
        shipment=dict(request.shipment),
        certificates=[
            RequestLineRead(
                id=row.id,
                hts_code=row.hts_code,
                status=Status(row.status),
                line_no=row.line_no,
                product_name=row.product_name,
                organic_category=OrganicCategory(row.organic_category),
                quantity_kg=row.quantity_kg,
                lot_numbers=list(row.lot_numbers),
                number=row.number if row.issued_at is not None else None,
            )
            for row in rows
        ],
    )
