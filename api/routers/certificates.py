"""Certificates: what each party may read, and the commands of the exporter and the certifier."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from api.commands import send_command
from api.deps import (
    CurrentUser,
    Cursor,
    IdempotencyKey,
    Limit,
    SessionDep,
    TemporalDep,
    reads_only,
)
from api.replacement import replace_certificate
from api.responses import SIGNED_IN, errors
from api.schemas.certificates import (
    AnswerCreate,
    CertificateDetail,
    CertificateRead,
    DecisionCreate,
    EventRead,
    VoidCreate,
    WithdrawCreate,
)
from api.schemas.common import Page, page_of
from api.schemas.replacement import ReplaceCreate
from api.schemas.tasks import TaskRead
from api.security import Principal
from domain.model import Role, Status
from persistence.repositories import CertificateRepository, TaskRepository
from workflows.contracts import (
    ACKNOWLEDGE,
    ANSWER,
    DECIDE,
    VOID,
    WITHDRAW,
    AcknowledgeInput,
    ActorRef,
    AnswerInput,
    DecideInput,
    VoidInput,
    WithdrawInput,
)

router = APIRouter(prefix="/api/certificates", tags=["certificates"])


async def certificate_detail(
    session: AsyncSession, user: Principal, certificate_id: str
) -> CertificateDetail:
    row = await CertificateRepository(session).get_visible(user.actor, certificate_id)
    tasks: list[TaskRead] = []
    if user.role is Role.CERTIFIER:
        now = datetime.now(UTC)
        tasks = [
            TaskRead.of(t, now=now) for t in await TaskRepository(session).for_certificate(row.id)
        ]
    return CertificateDetail(**CertificateRead.fields_of(row, user.actor), tasks=tasks)


@router.get("", responses=errors(*SIGNED_IN, 422))
@reads_only
async def list_certificates(
    user: CurrentUser,
    session: SessionDep,
    status: Status | None = None,
    hts_code: str | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CertificateRead]:
    page = await CertificateRepository(session).list_visible(
        user.actor, status=status, hts_code=hts_code, q=q, limit=limit, cursor=cursor
    )
    return page_of(
        CertificateRead,
        (CertificateRead.fields_of(row, user.actor) for row in page.items),
        page.next_cursor,
    )


@router.get("/{certificate_id}", responses=errors(*SIGNED_IN, 404, 422))
@reads_only
async def read_certificate(
    certificate_id: str, user: CurrentUser, session: SessionDep
) -> CertificateDetail:
    return await certificate_detail(session, user, certificate_id)


@router.get("/{certificate_id}/events", responses=errors(*SIGNED_IN, 404, 422))
@reads_only
async def list_events(
    certificate_id: str,
    user: CurrentUser,
    session: SessionDep,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[EventRead]:
    """The audit timeline, oldest first."""
    page = await CertificateRepository(session).events(
        user.actor, certificate_id, limit=limit, cursor=cursor
    )
    return page_of(
        EventRead, (EventRead.fields_of(e, user.actor) for e in page.items), page.next_cursor
    )


@router.post("/{certificate_id}/answer", responses=errors(*SIGNED_IN, 403, 404, 409, 413, 422))
async def answer(
    certificate_id: str,
    body: AnswerCreate,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> CertificateDetail:
    payload = AnswerInput(actor=ActorRef.of(user.actor), message=body.message)
    await send_command(session, temporal, user, certificate_id, ANSWER, payload, idempotency_key)
    return await certificate_detail(session, user, certificate_id)


@router.post("/{certificate_id}/withdraw", responses=errors(*SIGNED_IN, 403, 404, 409, 413, 422))
async def withdraw(
    certificate_id: str,
    body: WithdrawCreate,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> CertificateDetail:
    payload = WithdrawInput(actor=ActorRef.of(user.actor), reason=body.reason)
    await send_command(session, temporal, user, certificate_id, WITHDRAW, payload, idempotency_key)
    return await certificate_detail(session, user, certificate_id)


@router.post("/{certificate_id}/decision", responses=errors(*SIGNED_IN, 403, 404, 409, 413, 422))
async def decide(
    certificate_id: str,
    body: DecisionCreate,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> CertificateDetail:
    payload = DecideInput(
        actor=ActorRef.of(user.actor), decision=body.decision, comment=body.comment
    )
    await send_command(session, temporal, user, certificate_id, DECIDE, payload, idempotency_key)
    return await certificate_detail(session, user, certificate_id)


@router.post("/{certificate_id}/acknowledge", responses=errors(*SIGNED_IN, 403, 404, 409, 422))
async def acknowledge(
    certificate_id: str,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> CertificateDetail:
    payload = AcknowledgeInput(actor=ActorRef.of(user.actor))
    await send_command(
        session, temporal, user, certificate_id, ACKNOWLEDGE, payload, idempotency_key
    )
    return await certificate_detail(session, user, certificate_id)


@router.post("/{certificate_id}/void", responses=errors(*SIGNED_IN, 403, 404, 409, 413, 422))
async def void(
    certificate_id: str,
    body: VoidCreate,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> CertificateDetail:
    payload = VoidInput(actor=ActorRef.of(user.actor), reason=body.reason)
    await send_command(session, temporal, user, certificate_id, VOID, payload, idempotency_key)
    return await certificate_detail(session, user, certificate_id)


@router.post(
    "/{certificate_id}/replace",
    status_code=201,
    responses=errors(*SIGNED_IN, 403, 404, 409, 413, 422),
)
async def replace(
    certificate_id: str,
    body: ReplaceCreate,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> CertificateDetail:
    """R6: a new certificate that points to this one; the answer is the replacement."""
    result = await replace_certificate(
        session, temporal, user, certificate_id, body, idempotency_key
    )
    # The workflow created the replacement's row before the update returned.
    return await certificate_detail(session, user, result.replacement_id)
