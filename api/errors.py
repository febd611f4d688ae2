"""The one place where errors become HTTP: every body is an ErrorBody, {"detail", "code"}.

Foreign errors (Temporal, SQLAlchemy, Starlette, pydantic) are translated here by type, never by
matching message text, so routes and repositories only ever raise the domain vocabulary.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.observe import route_template
from api.schemas.errors import ErrorBody, FieldError
from api.temporal import BUSY, NOT_READY, workflow_not_ready
from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooManyAttempts,
    Unavailable,
)
from persistence.db import database_unreachable

logger = logging.getLogger(__name__)

# The workflows raise ApplicationError(type=<DomainError class name>, details=[{"code": ...}]).
_BY_APPLICATION_TYPE: dict[str, type[DomainError]] = {
    cls.__name__: cls for cls in (Conflict, Forbidden, NotFound, Invalid)
}
_UNAVAILABLE_RPC = frozenset({RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE})
# The server's limits (updates in flight per workflow, requests per second): try again later.
_BUSY_RPC = frozenset({RPCStatusCode.RESOURCE_EXHAUSTED})
_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def error_response(
    status_code: int,
    detail: str,
    code: str,
    *,
    headers: Mapping[str, str] | None = None,
    errors: list[FieldError] | None = None,
) -> JSONResponse:
    body = ErrorBody(detail=detail, code=code, errors=errors)
    all_headers = dict(headers or {})
    if status_code == 401:
        all_headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status_code,
        headers=all_headers or None,
    )


def domain_error_of_update(exc: WorkflowUpdateFailedError) -> DomainError | None:
    """The domain error a workflow's update validator or handler refused the command with."""
    cause = exc.cause
    if not isinstance(cause, ApplicationError) or cause.type not in _BY_APPLICATION_TYPE:
        return None
    cls = _BY_APPLICATION_TYPE[cause.type]
    code = None
    details = cause.details
    if details and isinstance(details[0], Mapping) and isinstance(details[0].get("code"), str):
        code = details[0]["code"]
    return cls(cause.message, code=code)


def _field_errors(errors: Sequence[Any]) -> list[FieldError]:
    out = []
    for error in errors:
        # The first element says where the value came from (body, query, path, header).
        loc = [str(part) for part in error.get("loc", ())[1:]]
        out.append(FieldError(field=".".join(loc), message=str(error.get("msg", "invalid"))))
    return out


async def _on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    # A rule about one field answers as pydantic's refusals do: that field, in `errors`.
    fields = None if exc.field is None else [FieldError(field=exc.field, message=exc.message)]
    headers = None
    if isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after)}
    elif isinstance(exc, Unavailable):
        headers = {"Retry-After": "1"}
    return error_response(exc.status_code, exc.detail, exc.code, headers=headers, errors=fields)


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = _field_errors(exc.errors())
    detail = "; ".join(f"{f.field}: {f.message}" if f.field else f.message for f in fields)
    return error_response(422, detail or "invalid input", "invalid", errors=fields)


async def _on_update_failed(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WorkflowUpdateFailedError)
    mapped = domain_error_of_update(exc)
    if mapped is None:
        return await _on_unexpected(request, exc)
    return error_response(mapped.status_code, mapped.detail, mapped.code)


async def _on_rpc_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RPCError)
    if exc.status in _UNAVAILABLE_RPC:
        return _unavailable("the workflow engine did not answer in time")
    if workflow_not_ready(exc):
        return _unavailable(NOT_READY)
    if exc.status in _BUSY_RPC:
        return _unavailable(BUSY)
    return await _on_unexpected(request, exc)


async def _on_timeout(_request: Request, _exc: Exception) -> JSONResponse:
    return _unavailable("the workflow engine did not answer in time")


async def _on_database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    logger.warning("database did not answer: %s", exc)
    return _unavailable("the database did not answer in time")


async def _on_http_exception(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "error"
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot even decode (not UTF-8, a broken form): invalid
        # input like any other, so the 422 every operation declares.
        return error_response(422, f"the request body is unreadable: {detail}", "invalid_body")
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, detail, code, headers=exc.headers)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if database_unreachable(exc):
        # Drivers say "the database is away" in many ways, some before SQLAlchemy wraps them.
        return await _on_database_unavailable(request, exc)
    # The route's template, not the path: paths carry ids, query strings verification codes.
    route = route_template(request.scope, request.app)
    logger.exception("unexpected error on %s %s", request.method, route, exc_info=exc)
    return error_response(500, "internal error", "internal")


def _unavailable(detail: str) -> JSONResponse:
    return error_response(503, detail, Unavailable.code, headers={"Retry-After": "1"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(WorkflowUpdateFailedError, _on_update_failed)
    app.add_exception_handler(RPCTimeoutOrCancelledError, _on_timeout)
    app.add_exception_handler(TimeoutError, _on_timeout)
    app.add_exception_handler(RPCError, _on_rpc_error)
    app.add_exception_handler(OperationalError, _on_database_unavailable)
    app.add_exception_handler(PoolTimeoutError, _on_database_unavailable)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
