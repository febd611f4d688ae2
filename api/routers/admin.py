"""`/api/admin`: the figures, what is stuck and why, and the remedies (DESIGN 5). Admins only.

Every remedy is audited, one row per workflow, with the administrator and the reason, written
in a transaction of its own: the record stays even when the remedy then fails. A remedy for a
whole cause first answers the count and the workflows (`dry_run`, the default); sent again with
`dry_run: false` it acts on each; repeating it is safe, as each remedy skips what is done.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request
from temporalio.service import RPCError

from api.admin import REMEDIES, Operations, RemedyOutcome, StuckGroup
from api.deps import (
    CurrentUser,
    Cursor,
    Limit,
    SessionDep,
    SettingsDep,
    TemporalDep,
    get_sessions,
    reads_only,
)
from api.responses import SIGNED_IN, errors
from api.schemas.admin import (
    AdminActionRead,
    BulkRemedyBody,
    BulkRemedyRead,
    CertifierCountsRead,
    HourRead,
    RemedyBody,
    RemedyName,
    RemedyRead,
    StatsRead,
    StuckGroupRead,
    StuckRead,
    StuckReason,
    StuckWorkflowRead,
    TaskCountsRead,
    TerminateBody,
)
from api.schemas.common import Page
from api.security import Principal
from domain.errors import Conflict, Forbidden, NotFound
from domain.model import Role
from persistence.repositories.operations import OperationsRepository
from persistence.repositories.pagination import decode_cursor, encode_cursor

router = APIRouter(prefix="/api/admin", tags=["admin"])

WorkflowId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")]
Cause = Annotated[str, Path(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9_.:-]+$")]


async def require_admin(user: CurrentUser) -> Principal:
    if user.role is not Role.ADMIN:
        raise Forbidden("only administrators see the operations of the system", code="not_an_admin")
    return user


Admin = Annotated[Principal, Depends(require_admin)]


async def _operations(request: Request, temporal: TemporalDep, settings: SettingsDep) -> Operations:
    return Operations(temporal, settings, get_sessions(request))


OperationsDep = Annotated[Operations, Depends(_operations)]


@router.get("/stats", responses=errors(*SIGNED_IN, 403))
@reads_only
async def stats(_admin: Admin, session: SessionDep) -> StatsRead:
    """Certificates by state and by certifier, live and overdue tasks, issuance per hour."""
    figures = await OperationsRepository(session).stats(datetime.now(UTC))
    return StatsRead(
        generated_at=figures.generated_at,
        total=sum(figures.by_state.values()),
        by_state=figures.by_state,
        by_certifier=[
            CertifierCountsRead(
                certifier_id=c.certifier_id,
                name=c.name,
                total=sum(c.by_state.values()),
                by_state=c.by_state,
            )
            for c in figures.by_certifier
        ],
        tasks=TaskCountsRead(
            open=figures.tasks_by_state.get("open", 0),
            claimed=figures.tasks_by_state.get("claimed", 0),
            overdue=figures.tasks_overdue,
        ),
        issued_last_day=sum(count for _, count in figures.issued_per_hour),
        issued_per_hour=[HourRead(hour=h, issued=n) for h, n in figures.issued_per_hour],
    )


def _read(group: StuckGroup, cls: type[StuckRead] = StuckRead) -> Any:
    first = group.workflows[0] if group.workflows else None
    return cls(
        workflow_id=first.workflow_id or None if first else None,
        certificate_id=first.certificate_id if first else None,
        reason=group.reason,
        since=group.since,
        detail=group.detail,
        cause=group.cause,
        count=group.count,
        remedies=list(group.remedies),
        workflows=[
            StuckWorkflowRead(
                workflow_id=w.workflow_id,
                certificate_id=w.certificate_id,
                since=w.since,
                detail=w.detail,
            )
            for w in group.workflows
            if w.workflow_id
        ],
    )


@router.get("/stuck", responses=errors(*SIGNED_IN, 403, 422))
async def stuck(
    _admin: Admin,
    operations: OperationsDep,
    reason: StuckReason | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[StuckRead]:
    """What is stuck, one item per cause, most urgent reason first and oldest first in it."""
    start = 0
    if cursor is not None:
        [offset] = decode_cursor(cursor, 1)
        start = int(offset) if offset.isdigit() else 0
    groups = await operations.stuck(datetime.now(UTC), reason)
    page = groups[start : start + limit]
    following = start + limit
    return Page(
        items=[_read(g) for g in page],
        next_cursor=encode_cursor(following) if following < len(groups) else None,
    )


@router.get("/stuck/{cause}", responses=errors(*SIGNED_IN, 403, 404, 422))
async def stuck_cause(_admin: Admin, operations: OperationsDep, cause: Cause) -> StuckGroupRead:
    """One cause with every workflow stuck for it (up to 1,000)."""
    group: StuckGroupRead = _read(await operations.group(cause, datetime.now(UTC)), StuckGroupRead)
    return group


async def _audited(
    request: Request,
    admin: Principal,
    remedy: RemedyName,
    workflow_id: str,
    reason: str,
    outcome: RemedyOutcome,
) -> RemedyRead:
    async with get_sessions(request)() as session, session.begin():
        await OperationsRepository(session).audit(
            admin.actor,
            admin.email,
            action=remedy,
            workflow_id=workflow_id,
            certificate_id=outcome.certificate_id,
            reason=reason,
            outcome=outcome.outcome,
            detail=outcome.detail,
            now=datetime.now(UTC),
        )
    return RemedyRead(
        workflow_id=workflow_id,
        certificate_id=outcome.certificate_id,
        remedy=remedy,
        outcome=outcome.outcome,
        detail=outcome.detail,
    )


async def _one(
    request: Request,
    admin: Principal,
    operations: Operations,
    remedy: RemedyName,
    workflow_id: str,
    reason: str,
) -> RemedyRead:
    outcome = await operations.remedy(remedy, workflow_id, reason, admin, datetime.now(UTC))
    done = await _audited(request, admin, remedy, workflow_id, reason, outcome)
    if outcome.outcome == "skipped":
        raise Conflict(f"nothing done: {outcome.detail}", code="nothing_to_do")
    return done


REMEDY_ERRORS = errors(*SIGNED_IN, 403, 404, 409, 413, 422)


@router.post("/workflows/{workflow_id}/retry", responses=REMEDY_ERRORS)
async def retry(
    request: Request,
    admin: Admin,
    operations: OperationsDep,
    workflow_id: WorkflowId,
    body: Annotated[RemedyBody | None, Body()] = None,
) -> RemedyRead:
    """Run the workflow's failing activities again now instead of after their backoff."""
    reason = body.reason if body else ""
    return await _one(request, admin, operations, "retry", workflow_id, reason)


@router.post("/workflows/{workflow_id}/terminate", responses=REMEDY_ERRORS)
async def terminate(
    request: Request,
    admin: Admin,
    operations: OperationsDep,
    workflow_id: WorkflowId,
    body: TerminateBody,
) -> RemedyRead:
    """End the workflow; its certificate is marked `terminated` and its parties are told."""
    return await _one(request, admin, operations, "terminate", workflow_id, body.reason)


@router.post("/workflows/{workflow_id}/reset", responses=REMEDY_ERRORS)
async def reset(
    request: Request,
    admin: Admin,
    operations: OperationsDep,
    workflow_id: WorkflowId,
    body: Annotated[RemedyBody | None, Body()] = None,
) -> RemedyRead:
    """Reset a workflow whose workflow task fails to its last good workflow task (after the
    fix of a bad deploy is out): a new run takes over from there."""
    reason = body.reason if body else ""
    return await _one(request, admin, operations, "reset", workflow_id, reason)


@router.post("/stuck/{cause}/{remedy}", responses=REMEDY_ERRORS)
async def remedy_cause(
    request: Request,
    admin: Admin,
    operations: OperationsDep,
    cause: Cause,
    remedy: RemedyName,
    body: BulkRemedyBody,
) -> BulkRemedyRead:
    """The same remedy for every workflow of one cause: a dry run by default."""
    group = await operations.group(cause, datetime.now(UTC))
    if remedy not in REMEDIES[group.reason]:
        raise Conflict(
            f"{remedy} is not a remedy for {group.reason}; "
            f"these are: {', '.join(REMEDIES[group.reason]) or 'none'}",
            code="not_a_remedy",
        )
    if remedy == "terminate" and not body.reason:
        raise Conflict("terminating needs a reason, told to the parties", code="reason_required")
    workflows = [w.workflow_id for w in group.workflows if w.workflow_id]
    results: list[RemedyRead] = []
    if not body.dry_run:
        for workflow_id in workflows:
            try:
                outcome = await operations.remedy(
                    remedy, workflow_id, body.reason, admin, datetime.now(UTC)
                )
            except NotFound:
                outcome = RemedyOutcome(workflow_id, None, "skipped", "the workflow is gone")
            except (RPCError, Conflict) as exc:
                outcome = RemedyOutcome(workflow_id, None, "failed", str(exc))
            results.append(
                await _audited(request, admin, remedy, workflow_id, body.reason, outcome)
            )
    return BulkRemedyRead(
        cause=cause,
        remedy=remedy,
        dry_run=body.dry_run,
        count=len(workflows),
        workflows=workflows,
        results=results,
    )


@router.get("/actions", responses=errors(*SIGNED_IN, 403, 422))
async def actions(
    _admin: Admin,
    session: SessionDep,
    workflow_id: str | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AdminActionRead]:
    """The remedies applied, newest first: who, to which workflow, why, and what came of it."""
    before = None
    if cursor is not None:
        [last] = decode_cursor(cursor, 1)
        before = int(last) if last.isdigit() else 0
    rows = await OperationsRepository(session).actions(workflow_id, limit + 1, before)
    items = [
        AdminActionRead(
            id=r.id,
            at=r.at,
            admin_id=r.admin_id,
            admin_email=r.admin_email,
            action=r.action,
            workflow_id=r.workflow_id,
            certificate_id=r.certificate_id,
            reason=r.reason,
            outcome=r.outcome,
            detail=r.detail,
        )
        for r in rows[:limit]
    ]
    following = encode_cursor(items[-1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=following)
