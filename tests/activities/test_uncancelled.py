"""An activity that Temporal cancels runs to its end (activities.uncancelled)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput

from activities.projection import ProjectionActivities
from activities.uncancelled import FinishActivities, finishing
from persistence.db import transaction
from persistence.models import AuditEvent
from tests.activities.test_projection import recorded_certificate, screening_passed
from workflows.contracts import PROJECT_TRANSITION_ACTIVITY


class _Call(ActivityInboundInterceptor):
    """The end of the chain, as the SDK's: call the activity function."""

    def __init__(self) -> None:
        pass

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        return await input.fn(*input.args)


async def _cancel_soon(
    name: str, sessions: async_sessionmaker[AsyncSession], finisher: FinishActivities
) -> str:
    projection = ProjectionActivities(sessions)
    cert = await recorded_certificate(sessions)
    chain = finisher.intercept_activity(_Call())
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, activity_type=name)
    call = ExecuteActivityInput(
        fn=projection.project_transition, args=[screening_passed(cert)], executor=None, headers={}
    )
    running = asyncio.ensure_future(env.run(chain.execute_activity, call))
    for _ in range(3):  # under way, waiting on its first database round trips
        await asyncio.sleep(0)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    return cert


async def _written(sessions: async_sessionmaker[AsyncSession], cert: str) -> bool:
    async with sessions() as session:
        found = await session.scalar(select(AuditEvent.id).where(AuditEvent.certificate_id == cert))
    return found is not None


async def test_a_cancelled_activity_finishes_its_write_and_frees_the_database(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    finisher = FinishActivities()
    cert = await _cancel_soon(PROJECT_TRANSITION_ACTIVITY, sessions, finisher)

    deadline = time.monotonic() + 10
    while finishing() or not await _written(sessions, cert):
        assert time.monotonic() < deadline, "the cancelled step did not finish"
        await asyncio.sleep(0.01)
    # Nothing holds the database: another write goes through at once.
    async with transaction(sessions) as session:
        await session.execute(select(1))
