"""Every request, once answered: counted and timed in the API's metrics, and one access log line.

Both name the route by its template (`/api/certificates/{certificate_id}`), never by the path it
was called with: paths carry ids and certificate numbers, query strings verification codes, and
as metric labels they would make a new series per certificate. This line replaces uvicorn's
access log, which writes the path and the query string as they came.

A pure ASGI middleware (not BaseHTTPMiddleware): it adds no task and buffers nothing.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import FastAPI
from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import ApiMetrics
from config.logs import log_context

access_log = logging.getLogger("api.access")

# The label of a request that matched no route (a 404, or refused before routing).
UNMATCHED = "unmatched"


def route_template(scope: Scope, app: FastAPI) -> str:
    """The template of the route that served (or would serve) the request."""
    route = scope.get("route")
    if route is None:
        # Refused before routing (a body over the limit): the route it was sent to.
        return next(
            (t for t, pattern in _templates(app) if pattern.fullmatch(scope["path"])), UNMATCHED
        )
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    return f"{path}/{{path}}" if isinstance(route, Mount) else path


def _templates(app: FastAPI) -> list[tuple[str, re.Pattern[str]]]:
    # The templates the OpenAPI document declares, compiled once: routes are all added by then.
    compiled: list[tuple[str, re.Pattern[str]]] | None = getattr(app.state, "route_patterns", None)
    if compiled is None:
        compiled = [(path, compile_path(path)[0]) for path in app.openapi()["paths"]]
        app.state.route_patterns = compiled
    return compiled


def certificate_of(scope: Scope, app: FastAPI) -> dict[str, str]:
    """The certificate a request is about: the id in its path, if it is one. Known before the
    route runs, so every line the request writes carries it, not only the access line."""
    for _, pattern in _templates(app):
        found = pattern.fullmatch(scope["path"])
        if found is None:
            continue
        value = found.groupdict().get("certificate_id")
        try:
            return {"certificate_id": str(uuid.UUID(value))} if value else {}
        except ValueError:
            return {}
    return {}


class ObserveRequests:
    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics, api: FastAPI) -> None:
        self.app = app
        self.metrics = metrics
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # An exception that escapes the app is answered 500 by Starlette's outermost layer.
        status = 500

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with log_context(**certificate_of(scope, self.api)):
            try:
                await self.app(scope, receive, send_observed)
            finally:
                seconds = time.perf_counter() - started
                method = str(scope["method"])
                route = route_template(scope, self.api)
                self.metrics.observe(method, route, status, seconds)
                self._log(method, route, status, seconds)

    def _log(self, method: str, route: str, status: int, seconds: float) -> None:
        access_log.info(
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
            },
        )
