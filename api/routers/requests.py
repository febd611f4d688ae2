"""Import requests: an exporter files one, and the workflow engine takes it from there."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, status
from sqlalchemy.exc import IntegrityError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.deps import CurrentUser, IdempotencyKey, SessionDep, SettingsDep, TemporalDep
from api.schemas.requests import (
    CertificateOfRequest,
    RequestCreate,
    RequestCreated,
    RequestLineRead,
    RequestRead,
)
from api.security import Principal
from api.temporal import timer_settings
from config.settings import Settings
from domain.errors import Forbidden, Invalid
from domain.model import Coverage, OrganicCategory, Role, Status
from persistence.repositories import CertificateRepository, RegistryRepository, RequestRepository
from workflows.contracts import (
    IMPORT_REQUEST_WORKFLOW,
    ImportRequestInput,
    RequestLine,
    Shipment,
    request_workflow_id,
)

router = APIRouter(prefix="/api/requests", tags=["requests"])

# Ids derived from an Idempotency-Key live in their own uuid5 namespace.
IDEMPOTENT_REQUESTS = uuid.UUID("5b0f7c8e-2a44-4d0b-9a51-6c1f3f0b8e21")


def _ids(user: Principal, key: str | None, lines: int) -> tuple[str, list[str]]:
    """A fresh request id, or with a key the same ids again, so a retried POST is one request."""
    if key is None:
        return str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(lines)]
    request_id = uuid.uuid5(IDEMPOTENT_REQUESTS, f"{user.id}:{key}")
    return str(request_id), [str(uuid.uuid5(request_id, str(no))) for no in range(1, lines + 1)]


def _workflow_input(
    body: RequestCreate, user: Principal, certifier_id: str, key: str | None, settings: Settings
) -> ImportRequestInput:
    assert user.organisation_id is not None
    request_id, certificate_ids = _ids(user, key, len(body.lines))
    return ImportRequestInput(
        request_id=request_id,
        created_by=user.id,
        created_at=datetime.now(UTC),
        certifier_id=certifier_id,
        exporter_id=user.organisation_id,
        importer_id=body.importer_id,
        coverage=body.coverage,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        country_of_origin=body.country_of_origin,
        port_of_export=body.port_of_export,
        port_of_entry=body.port_of_entry,
        shipment=Shipment(**body.shipment.model_dump()),
        lines=[
            RequestLine(certificate_id=certificate_id, line_no=no, **line.model_dump())
            for no, (certificate_id, line) in enumerate(
                zip(certificate_ids, body.lines, strict=True), start=1
            )
        ],
        timers=timer_settings(settings),
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_request(
    body: RequestCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> RequestCreated:
    if user.role is not Role.EXPORTER or user.organisation_id is None:
        raise Forbidden("only exporters file requests", code="not_an_exporter")
    registry = RegistryRepository(session)
    exporter = await registry.operation(user.organisation_id)
    if exporter is None or exporter.certifier_id is None:
        raise Invalid("your operation is not in the organic registry", code="unknown_exporter")
    if await registry.operation(body.importer_id) is None:
        raise Invalid(
            "importer_id: no operation with this id in the organic registry",
            code="unknown_importer",
        )
    request = _workflow_input(body, user, exporter.certifier_id, idempotency_key, settings)
    # Nothing is written before the workflow exists: if Temporal is down the caller gets a 503
    # and no orphan rows. The read transaction is ended so no connection waits on Temporal.
    await session.commit()
    client = await temporal.client()
    # A retried POST after the request workflow finished must not fan out again: the reuse
    # policy refuses a second run, and the rows of the first are answered below.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            IMPORT_REQUEST_WORKFLOW,
            request,
            id=request_workflow_id(request.request_id),
            task_queue=settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            rpc_timeout=settings.temporal_rpc_timeout,
        )
    try:
        # The workflow records the same rows; writing them here lets the caller read its write.
        await RequestRepository(session).record(request)
        await session.commit()
    except IntegrityError:
        await session.rollback()
    rows = await CertificateRepository(session).for_request(request.request_id)
    return RequestCreated(
        id=request.request_id,
        certificates=[
            CertificateOfRequest(id=row.id, hts_code=row.hts_code, status=Status(row.status))
            for row in rows
        ],
    )


@router.get("/{request_id}")
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
