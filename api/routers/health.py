"""Liveness for load balancers and operators: can this process reach its database and Temporal?"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import get_sessions, get_temporal
from api.schemas.errors import HealthRead, HealthUnavailable

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)

# Short on purpose: a health probe that hangs is worse than one that says "unavailable".
PROBE_TIMEOUT = timedelta(seconds=2)


async def _database_ok(request: Request) -> bool:
    try:
        async with (
            asyncio.timeout(PROBE_TIMEOUT.total_seconds()),
            get_sessions(request)() as session,
        ):
            await session.execute(text("SELECT 1"))
        return True
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        logger.warning("health: database did not answer: %s", exc)
        return False


async def _temporal_ok(request: Request) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT.total_seconds()):
            return await (await get_temporal(request)).healthy(PROBE_TIMEOUT)
    except TimeoutError:
        return False


@router.get(
    "/healthz",
    response_model=HealthRead,
    responses={503: {"model": HealthUnavailable, "description": "A part did not answer."}},
)
async def healthz(request: Request) -> JSONResponse:
    database, temporal = await asyncio.gather(_database_ok(request), _temporal_ok(request))
    parts = {
        "database": "ok" if database else "unavailable",
        "temporal": "ok" if temporal else "unavailable",
    }
    if database and temporal:
        return JSONResponse(HealthRead(status="ok", **parts).model_dump())
    failing = [name for name, ok in (("database", database), ("temporal", temporal)) if not ok]
    body = HealthUnavailable(
        status="unavailable",
        **parts,
        detail=f"{' and '.join(failing)} did not answer",
        code="unavailable",
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=503)
