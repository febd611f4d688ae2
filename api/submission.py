"""An exporter files an import request: registry checks, ids, the workflow, rows to read back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.requests import CertificateOfRequest, RequestCreate, RequestCreated
from api.security import Principal
from api.temporal import TemporalGateway, timer_settings
from domain.errors import Forbidden, Invalid
from domain.model import Role, Status
from persistence.repositories import CertificateRepository, RegistryRepository, RequestRepository
from workflows.contracts import CURRENT_REVISION, ImportRequestInput, RequestLine, Shipment

# Ids derived from an Idempotency-Key live in their own uuid5 namespace.
IDEMPOTENT_REQUESTS = uuid.UUID("5b0f7c8e-2a44-4d0b-9a51-6c1f3f0b8e21")


def _ids(user: Principal, key: str | None, lines: int) -> tuple[str, list[str]]:
    """A fresh request id, or with a key the same ids again, so a retried POST is one request."""
    if key is None:
        return str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(lines)]
    request_id = uuid.uuid5(IDEMPOTENT_REQUESTS, f"{user.id}:{key}")
    return str(request_id), [str(uuid.uuid5(request_id, str(no))) for no in range(1, lines + 1)]


def _workflow_input(
    body: RequestCreate,
    user: Principal,
    certifier_id: str,
    key: str | None,
    temporal: TemporalGateway,
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
        timers=timer_settings(temporal.settings),
        revision=CURRENT_REVISION,
    )


async def submit_request(
    session: AsyncSession,
    temporal: TemporalGateway,
    user: Principal,
    body: RequestCreate,
    idempotency_key: str | None,
) -> RequestCreated:
    """Start the request's workflow and answer its certificates as the caller can read them.

    The same Idempotency-Key is the same request: its workflow is not started twice and the
    certificates of the first POST are answered again.
    """
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
    request = _workflow_input(body, user, exporter.certifier_id, idempotency_key, temporal)
    # Nothing is written before the workflow exists: if Temporal is down the caller gets a 503
    # and no orphan rows. The read transaction is ended so no connection waits on Temporal.
    await session.commit()
    await temporal.start_request(request)
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
