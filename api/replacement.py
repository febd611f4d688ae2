"""R6, replace an issued certificate: the one way the API and the review page send it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api.commands import send_command
from api.schemas.replacement import ReplaceCreate
from api.security import Principal
from api.temporal import TemporalGateway
from persistence.repositories import CertificateRepository
from workflows.contracts import REPLACE, ActorRef, ReplaceInput, ReplaceResult


async def replace_certificate(
    session: AsyncSession,
    temporal: TemporalGateway,
    user: Principal,
    certificate_id: str,
    body: ReplaceCreate,
    idempotency_key: str | None,
) -> ReplaceResult:
    """The workflow's REPLACE update with what `body` changes on the certificate as it stands.

    The changes are taken against the certificate the caller can read (a 404 otherwise), so
    `changes_to` refuses a replacement that changes nothing before the workflow is asked.
    """
    original = await CertificateRepository(session).get_visible(user.actor, certificate_id)
    payload = ReplaceInput(
        actor=ActorRef.of(user.actor), changes=body.changes_to(original), reason=body.reason
    )
    return await send_command(
        session,
        temporal,
        user,
        certificate_id,
        REPLACE,
        payload,
        idempotency_key,
        result_type=ReplaceResult,
    )
