"""The database projection of the workflows (DESIGN 4.2): each write idempotent, one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from persistence.db import transaction
from persistence.repositories import ProjectionRepository, RequestRepository
from persistence.repositories.projection import ProjectionConflict
from workflows.contracts import (
    PROJECT_TRANSITION_ACTIVITY,
    PROJECT_TRANSITIONS_ACTIVITY,
    RECORD_REQUEST_ACTIVITY,
    ImportRequestInput,
)
from workflows.payloads import ProjectionInput


@asynccontextmanager
async def _not_ready_is_retried() -> AsyncIterator[None]:
    """A row written by another process that is not there yet: retried, never a failure. So is
    a conflict under a seen key: loud (a failing activity operators see), never dropped."""
    try:
        yield
    except (IntegrityError, LookupError) as exc:
        raise ApplicationError(str(exc), type="ProjectionNotReady") from exc
    except ProjectionConflict as exc:
        raise ApplicationError(str(exc), type="ProjectionConflict") from exc


class ProjectionActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn(name=RECORD_REQUEST_ACTIVITY)
    async def record_request(self, request: ImportRequestInput) -> bool:
        """True when this call wrote the request; False when the API (or a retry) already had."""
        async with _not_ready_is_retried(), transaction(self.sessions) as session:
            return await RequestRepository(session).record(request)

    @activity.defn(name=PROJECT_TRANSITION_ACTIVITY)
    async def project_transition(self, change: ProjectionInput) -> bool:
        """True when this call wrote the transition; False when it was written before.

        A certificate row that does not exist yet fails the write on its foreign key, and
        Temporal retries it: the request's recording may still be on its way.
        """
        async with _not_ready_is_retried(), transaction(self.sessions) as session:
            return await ProjectionRepository(session).apply(change)

    @activity.defn(name=PROJECT_TRANSITIONS_ACTIVITY)
    async def project_transitions(self, changes: list[ProjectionInput]) -> int:
        """Several transitions in one transaction, in order; how many were new."""
        async with _not_ready_is_retried(), transaction(self.sessions) as session:
            projection = ProjectionRepository(session)
            return sum([await projection.apply(change) for change in changes])
