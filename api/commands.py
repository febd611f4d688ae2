"""A person's command on a certificate: visibility first, then the workflow's verdict."""

from __future__ import annotations

from typing import TypeVar, overload

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.security import Principal
from api.temporal import TemporalGateway
from persistence.repositories import CertificateRepository
from workflows.contracts import CommandResult

R = TypeVar("R", bound=BaseModel)


@overload
async def send_command(
    session: AsyncSession,
    temporal: TemporalGateway,
    user: Principal,
    certificate_id: str,
    update: str,
    payload: BaseModel,
    idempotency_key: str | None,
    *,
    update_id: str | None = None,
) -> CommandResult: ...


@overload
async def send_command(
    session: AsyncSession,
    temporal: TemporalGateway,
    user: Principal,
    certificate_id: str,
    update: str,
    payload: BaseModel,
    idempotency_key: str | None,
    *,
    update_id: str | None = None,
    result_type: type[R],
) -> R: ...


async def send_command(
    session: AsyncSession,
    temporal: TemporalGateway,
    user: Principal,
    certificate_id: str,
    update: str,
    payload: BaseModel,
    idempotency_key: str | None,
    *,
    update_id: str | None = None,
    result_type: type[BaseModel] = CommandResult,
) -> BaseModel:
    """Run one Update and return its result; afterwards `session` reads what it projected.

    A certificate the caller may not see is a 404 before Temporal is asked anything; what the
    state machine refuses comes back from the workflow's validator as 403 or 409. `update_id`
    names the update when the command itself says what makes it the same command again.
    """
    row = await CertificateRepository(session).get_visible(user.actor, certificate_id)
    if update_id is None:
        # Without a key, the same command on the same projected state is one update: a double
        # click is then answered twice with the first outcome instead of being applied twice.
        suffix = idempotency_key if idempotency_key is not None else str(row.projected_seq)
        update_id = f"{update}-{user.id}-{suffix}"
    # End the read transaction: the worker writes the projection while we wait for it, and
    # no pooled connection should be held across a call to another service.
    await session.commit()
    await temporal.require_worker(row.id)
    result = await temporal.command(
        row.id, update, payload, update_id=update_id, result_type=result_type
    )
    # Rows loaded before the update are stale now; the next reads must go to the database.
    session.expire_all()
    return result
