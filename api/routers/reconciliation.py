"""R8: the exporter reports the actual net weights shipped; the certifier confirms them."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from api.commands import send_command
from api.deps import CurrentUser, IdempotencyKey, SessionDep, TemporalDep
from api.responses import SIGNED_IN, errors
from api.schemas.customs import ActualsConfirm, ActualsCreate, ReconciliationRead
from api.security import Principal
from persistence.repositories import CertificateRepository, CustomsRepository
from workflows.contracts import (
    CONFIRM_ACTUALS,
    REPORT_ACTUALS,
    ActorRef,
    ConfirmActualsInput,
    ReportActualsInput,
)

router = APIRouter(prefix="/api/certificates", tags=["reconciliation"])


async def reconciliation(
    session: AsyncSession, user: Principal, certificate_id: str
) -> ReconciliationRead:
    row = await CertificateRepository(session).get_visible(user.actor, certificate_id)
    shipments = await CustomsRepository(session).actual_shipments(user.actor, row.id)
    return ReconciliationRead.of(row, shipments)


@router.get("/{certificate_id}/actuals", responses=errors(*SIGNED_IN, 404, 422))
async def read_actuals(
    certificate_id: str, user: CurrentUser, session: SessionDep
) -> ReconciliationRead:
    """The latest report, for the certifier to check before confirming it."""
    return await reconciliation(session, user, certificate_id)


@router.post("/{certificate_id}/actuals", responses=errors(*SIGNED_IN, 403, 404, 409, 413, 422))
async def report_actuals(
    certificate_id: str,
    body: ActualsCreate,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> ReconciliationRead:
    payload = ReportActualsInput(actor=ActorRef.of(user.actor), shipments=body.to_actuals())
    await send_command(
        session, temporal, user, certificate_id, REPORT_ACTUALS, payload, idempotency_key
    )
    return await reconciliation(session, user, certificate_id)


@router.post(
    "/{certificate_id}/actuals/confirm", responses=errors(*SIGNED_IN, 403, 404, 409, 413, 422)
)
async def confirm_actuals(
    certificate_id: str,
    body: ActualsConfirm,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> ReconciliationRead:
    """By the certifier holding the certificate's reconcile task (claimed from the queue)."""
    payload = ConfirmActualsInput(actor=ActorRef.of(user.actor), comment=body.comment.strip())
    await send_command(
        session, temporal, user, certificate_id, CONFIRM_ACTUALS, payload, idempotency_key
    )
    return await reconciliation(session, user, certificate_id)
