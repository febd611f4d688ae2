"""`/admin`: the figures of `/api/admin/stats`, what is stuck by cause, and the remedies (DESIGN 6).

Administrators only; anyone else gets the API's 403. Each page calls what the JSON routes call:
the statistics repository, `Operations.stuck` / `Operations.group`, and the remedy routes'
own functions, so a remedy from a page is the same remedy with the same audit rows. A remedy
for a whole cause is a dry run first (the count and the workflows), then a confirmation that
acts and shows the outcome per workflow. Without JavaScript, a long remedy shows as the page
loading; its result page follows when it is done.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.admin import Operations, StuckGroup
from api.deps import SessionDep, SettingsDep, TemporalDep, get_sessions
from api.routers import admin as admin_api
from api.schemas.admin import (
    BulkRemedyBody,
    RemedyBody,
    RemedyName,
    RemedyRead,
    TerminateBody,
)
from api.security import Principal
from api.web.rendering import PageRoute, render
from api.web.sessions import Visitor, VisitorDep, check_csrf
from config.settings import Settings
from domain.errors import Conflict, NotFound, Unauthorized
from persistence.repositories.operations import OperationsRepository

router = APIRouter(
    prefix="/admin",
    route_class=PageRoute,
    dependencies=[Depends(check_csrf)],
    include_in_schema=False,
)

Cause = admin_api.Cause
WorkflowId = admin_api.WorkflowId
# Remedies applied to one workflow, per page; a test makes it small.
ACTIONS_PAGE = 50
REMEDY_WORDS = {
    "retry": "Retry now",
    "terminate": "Terminate",
    "reset": "Reset to the last good workflow task",
}


async def _admin(visitor: VisitorDep) -> Visitor:
    """The signed-in administrator; others get what the API answers them (401, 403)."""
    if visitor.user is None:
        raise Unauthorized("Sign in first, as an administrator.", code="not_signed_in")
    await admin_api.require_admin(visitor.user)
    return visitor


AdminVisitor = Annotated[Visitor, Depends(_admin)]


async def _operations(request: Request, temporal: TemporalDep, settings: SettingsDep) -> Operations:
    return Operations(temporal, settings, get_sessions(request))


OperationsDep = Annotated[Operations, Depends(_operations)]


def temporal_ui(settings: Settings) -> str:
    """The Temporal UI's address for a browser: the setting, else this host's UI port."""
    return settings.temporal_ui_url.rstrip("/") or (
        f"http://{settings.temporal_host}:{settings.temporal_ui_port}"
    )


def workflow_link(settings: Settings, workflow_id: str) -> str:
    namespace = quote(settings.temporal_namespace, safe="")
    return f"{temporal_ui(settings)}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"


def _user(visitor: Visitor) -> Principal:
    assert visitor.user is not None  # _admin saw to it
    return visitor.user


@router.get("")
async def overview(
    visitor: AdminVisitor,
    session: SessionDep,
    settings: SettingsDep,
    operations: OperationsDep,
) -> Response:
    now = datetime.now(UTC)
    figures = await OperationsRepository(session).stats(now)
    groups = await operations.stuck(now)
    busiest = max((n for _, n in figures.issued_per_hour), default=0)
    return render(
        "admin.html",
        visitor=visitor,
        figures=figures,
        total=sum(figures.by_state.values()),
        issued_last_day=sum(n for _, n in figures.issued_per_hour),
        busiest=max(busiest, 1),
        groups=groups,
        link=lambda w: workflow_link(settings, w),
        words=REMEDY_WORDS,
    )


@router.get("/stuck/{cause}")
async def cause_page(
    visitor: AdminVisitor, settings: SettingsDep, operations: OperationsDep, cause: Cause
) -> Response:
    group = await operations.group(cause, datetime.now(UTC))
    return _group_page(visitor, settings, group)


def _group_page(visitor: Visitor, settings: Settings, group: StuckGroup) -> Response:
    return render(
        "admin_cause.html",
        visitor=visitor,
        group=group,
        link=lambda w: workflow_link(settings, w),
        words=REMEDY_WORDS,
    )


@router.post("/stuck/{cause}/{remedy}")
async def remedy_cause(
    request: Request,
    visitor: AdminVisitor,
    settings: SettingsDep,
    operations: OperationsDep,
    cause: Cause,
    remedy: RemedyName,
    reason: Annotated[str, Form(max_length=2_000)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Without `confirm`, a dry run: the count, the workflows and the form that acts. With it,
    the remedy on each workflow of the cause, as `POST /api/admin/stuck/{cause}/{remedy}`."""
    acting = confirm == "yes"
    reason = reason.strip()
    context: dict[str, Any] = {
        "visitor": visitor,
        "cause": cause,
        "remedy": remedy,
        "reason": reason,
    }
    shown: dict[str, Any] = {"link": lambda w: workflow_link(settings, w), "words": REMEDY_WORDS}
    if not acting or (remedy == "terminate" and not reason):
        # The dry run: the workflows the remedy would act on, as the JSON route's dry run
        # names them (it wants the reason of a terminate up front; this page asks it next).
        group = await operations.group(cause, datetime.now(UTC))
        if remedy not in group.remedies:
            raise Conflict(
                f"{remedy} is not a remedy for {group.reason}; "
                f"these are: {', '.join(group.remedies) or 'none'}",
                code="not_a_remedy",
            )
        refused = acting  # a terminate confirmed without its reason
        return render(
            "admin_remedy.html",
            status_code=422 if refused else 200,
            workflows=[w.workflow_id for w in group.workflows if w.workflow_id],
            results=None,
            error="Terminating needs a reason: the parties are told it." if refused else None,
            **context,
            **shown,
        )
    # The JSON route's own function: the same checks, the same remedy, the same audit rows.
    answer = await admin_api.remedy_cause(
        request,
        _user(visitor),
        operations,
        cause,
        remedy,
        BulkRemedyBody(reason=reason, dry_run=False),
    )
    return render(
        "admin_remedy.html",
        workflows=answer.workflows,
        results=answer.results,
        error=None,
        **context,
        **shown,
    )


@router.get("/workflows/{workflow_id}")
async def workflow_page(
    visitor: AdminVisitor,
    session: SessionDep,
    settings: SettingsDep,
    workflow_id: WorkflowId,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    """The workflow's remedies, and those applied to it a page at a time from `cursor` (the
    cursor of `GET /api/admin/actions`)."""
    return await _workflow_page(visitor, session, settings, workflow_id, cursor=cursor)


async def _workflow_page(
    visitor: Visitor,
    session: AsyncSession,
    settings: Settings,
    workflow_id: str,
    *,
    cursor: str | None = None,
    result: RemedyRead | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    # The JSON route's own function: the same order, page and cursor.
    actions = await admin_api.actions(_user(visitor), session, workflow_id, ACTIONS_PAGE, cursor)
    here = f"/admin/workflows/{quote(workflow_id, safe='')}"
    following = actions.next_cursor
    return render(
        "admin_workflow.html",
        status_code=status_code,
        visitor=visitor,
        workflow_id=workflow_id,
        temporal_link=workflow_link(settings, workflow_id),
        actions=actions.items,
        older_url=f"{here}?{urlencode({'cursor': following})}#applied" if following else None,
        newest_url=f"{here}#applied" if cursor else None,
        result=result,
        error=error,
        words=REMEDY_WORDS,
    )


@router.post("/workflows/{workflow_id}/{remedy}")
async def remedy_workflow(
    request: Request,
    visitor: AdminVisitor,
    session: SessionDep,
    settings: SettingsDep,
    operations: OperationsDep,
    workflow_id: WorkflowId,
    remedy: RemedyName,
    reason: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    """One workflow's remedy, as `POST /api/admin/workflows/{workflow_id}/{remedy}`."""
    admin = _user(visitor)
    reason = reason.strip()
    result: RemedyRead | None = None
    error: str | None = None
    status = 200
    if remedy == "terminate" and not reason:
        error, status = "Terminating needs a reason: the parties are told it.", 422
    else:
        try:
            if remedy == "retry":
                result = await admin_api.retry(
                    request, admin, operations, workflow_id, RemedyBody(reason=reason)
                )
            elif remedy == "reset":
                result = await admin_api.reset(
                    request, admin, operations, workflow_id, RemedyBody(reason=reason)
                )
            else:
                result = await admin_api.terminate(
                    request, admin, operations, workflow_id, TerminateBody(reason=reason)
                )
        except Conflict as exc:  # nothing to do: audited as skipped, said as such
            error, status = str(exc.detail), 409
        except NotFound as exc:
            error, status = str(exc.detail), 404
    return await _workflow_page(
        visitor, session, settings, workflow_id, result=result, error=error, status_code=status
    )
