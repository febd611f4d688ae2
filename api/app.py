"""The FastAPI application factory. The CLI runs it under uvicorn; tests drive it in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.body_limit import BodyLimit
from api.errors import install_error_handlers
from api.metrics import ApiMetrics
from api.observe import ObserveRequests
from api.printable_url import printable_url
from api.request_id import RequestId
from api.routers import (
    admin,
    auth,
    certificates,
    customs,
    documents,
    health,
    metrics,
    reconciliation,
    requests,
    tasks,
    verification,
)
from api.temporal import TemporalGateway
from api.web import dev_mail, install_pages
from config.settings import Settings
from persistence.db import create_engine, create_sessionmaker, reading_sessions


def create_app(
    settings: Settings,
    *,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    temporal: Client | None = None,
) -> FastAPI:
    """The API over `settings`; `sessions` and `temporal` are created from them when not given.

    Temporal is connected on first use, not at start: the API comes up (and `/healthz` says
    what is missing) while the workflow engine is still starting or down.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if sessions is not None:
            yield
            return
        engine = create_engine(settings.database_url)
        app.state.sessions = create_sessionmaker(engine)
        app.state.reading_sessions = reading_sessions(app.state.sessions)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="NOP-IC",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(printable_url)],
    )
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.reading_sessions = None if sessions is None else reading_sessions(sessions)
    app.state.temporal = TemporalGateway(settings, temporal)
    app.state.metrics = ApiMetrics()
    install_error_handlers(app)
    # The last added runs first: the request id, then the timing, then the body limit.
    app.add_middleware(BodyLimit)
    app.add_middleware(ObserveRequests, metrics=app.state.metrics, api=app)
    app.add_middleware(RequestId)
    for router in (
        auth.router,
        requests.router,
        certificates.router,
        customs.router,
        reconciliation.router,
        documents.router,
        tasks.router,
        verification.router,
        admin.router,
        health.router,
        metrics.router,
    ):
        app.include_router(router)
    install_pages(app)
    if settings.env == "dev":
        app.include_router(dev_mail.router)
    return app
