"""The certifier's review page (DESIGN 6): `/review/{certificate_id}`, the request as filed,
its screening flags, the exporter's capacity for the product, the timeline, the decision form, and
void on an issued certificate.

Reads and commands are the API's: `certificate_detail`, `CertificateRepository.events`,
`send_command`, `DecisionCreate` and `VoidCreate` for the form's rules; a refusal the API would
answer with a status is a page with that status (404 for a certificate of another organisation)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.commands import send_command
from api.deps import SessionDep, TemporalDep
from api.routers.certificates import certificate_detail
from api.schemas.certificates import CertificateDetail, DecisionCreate, EventRead, VoidCreate
from api.security import Principal
from api.web.certifier_queue import certifier
from api.web.rendering import PageRoute, render
from api.web.sessions import Visitor, VisitorDep, check_csrf
from domain.errors import Conflict, DomainError, Invalid
from domain.lifecycle import Command, Parties, Situation, transition
from domain.model import TaskState
from domain.screening import capacity_figures
from persistence.repositories import CertificateRepository, RegistryRepository
from persistence.repositories.pagination import MAX_LIMIT
from workflows.contracts import DECIDE, VOID, ActorRef, DecideInput, VoidInput

router = APIRouter(
    route_class=PageRoute, dependencies=[Depends(check_csrf)], include_in_schema=False
)

# Timeline events on one page: the API's largest page; a test makes it small.
EVENTS_PAGE_SIZE = MAX_LIMIT

DECISIONS = {"approve": "Approve", "request_info": "Request information", "reject": "Reject"}


def may_do(user: Principal, certificate: CertificateDetail, command: Command) -> bool:
    """Whether the state machine would take `command` from `user` now (the workflow decides
    again when it comes): the page offers only the forms that can succeed."""
    parties = Parties(certificate.certifier_id, certificate.exporter_id, certificate.importer_id)
    live = [t for t in certificate.tasks if t.state is not TaskState.CLOSED]
    holder = live[-1].assignee if live else None
    try:
        transition(Situation(certificate.status, parties, holder), command, user.actor)
    except DomainError:
        return False
    return True


def replacement_form(certificate: CertificateDetail) -> dict[str, str]:
    """The replace form as it opens: the certificate's own values, to be corrected."""
    return {
        "product_name": certificate.product_name,
        "hts_code": certificate.hts_code,
        "quantity_kg": f"{certificate.quantity_kg.normalize():f}",
        "lot_numbers": ", ".join(certificate.lot_numbers),
        "valid_from": certificate.valid_from.isoformat(),
        "valid_until": certificate.valid_until.isoformat(),
        "reason": "",
    }


async def _capacity(session: AsyncSession, detail: CertificateDetail) -> dict[str, Decimal] | None:
    """The exporter's declared capacity for the product, what its other live certificates of
    the year take and what is left: the figures screening weighs (R4), from the same queries."""
    products = await RegistryRepository(session).products(detail.exporter_id)
    product = next((p for p in products if p.hts_code == detail.hts_code), None)
    if product is None:
        return None
    used = await CertificateRepository(session).used_kg_in_year(
        exporter_id=detail.exporter_id,
        hts_code=detail.hts_code,
        year=detail.valid_from.year,
        excluding=detail.id,
    )
    return capacity_figures(product, used, detail.quantity_kg)


async def review(
    session: AsyncSession,
    visitor: Visitor,
    certificate_id: str,
    *,
    status_code: int = 200,
    decision: str = "",
    comment: str = "",
    errors: dict[str, str] | None = None,
    void_reason: str = "",
    replacement: dict[str, str] | None = None,
    events_cursor: str | None = None,
) -> Response:
    """The page; its timeline from `events_cursor` on (the API's events cursor), a page of
    events at a time, since a certificate in long customs use has thousands of them."""
    user = certifier(visitor)
    detail = await certificate_detail(session, user, certificate_id)
    events = await CertificateRepository(session).events(
        user.actor, certificate_id, limit=EVENTS_PAGE_SIZE, cursor=events_cursor
    )
    here, later = f"/review/{certificate_id}", events.next_cursor
    registry = RegistryRepository(session)
    exporter = await registry.organisation(detail.exporter_id)
    importer = await registry.organisation(detail.importer_id)
    live_tasks = [t for t in detail.tasks if t.state is not TaskState.CLOSED]
    return render(
        "certifier/review.html",
        status_code=status_code,
        visitor=visitor,
        c=detail,
        exporter=exporter.name if exporter else detail.exporter_id,
        importer=importer.name if importer else detail.importer_id,
        capacity=await _capacity(session, detail),
        events=[EventRead.of(e, user.actor) for e in events.items],
        later_events=f"{here}?{urlencode({'events': later})}#timeline-h" if later else None,
        first_events=f"{here}#timeline-h" if events_cursor else None,
        live_tasks=live_tasks,
        can_decide=may_do(user, detail, Command.APPROVE),
        can_void=may_do(user, detail, Command.VOID),
        can_replace=may_do(user, detail, Command.REPLACE),
        replacement=replacement or replacement_form(detail),
        decisions=DECISIONS,
        decision=decision,
        comment=comment,
        errors=errors or {},
        void_reason=void_reason,
        user_id=user.id,
    )


@router.get("/review/{certificate_id}")
async def review_page(
    certificate_id: str,
    visitor: VisitorDep,
    session: SessionDep,
    events: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    """A certificate of another organisation is a 404, as `GET /api/certificates/{id}`;
    `events` is the timeline's cursor, as `GET /api/certificates/{id}/events` takes it."""
    return await review(session, visitor, certificate_id, events_cursor=events)


def field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "form"
        message = str(error["msg"]).removeprefix("Value error, ")
        errors.setdefault(field, message[:1].upper() + message[1:])
    return errors


@router.post("/review/{certificate_id}/decision")
async def decide(
    certificate_id: str,
    visitor: VisitorDep,
    session: SessionDep,
    temporal: TemporalDep,
    decision: Annotated[str, Form(max_length=40)] = "",
    comment: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """`POST /api/certificates/{id}/decision` from a form: its rules (`DecisionCreate`), its
    command; a refusal is shown next to the field with the form as typed."""
    user = certifier(visitor)
    try:
        body = DecisionCreate.model_validate({"decision": decision, "comment": comment})
    except ValidationError as exc:
        errors = field_errors(exc)
        return await review(
            session,
            visitor,
            certificate_id,
            status_code=422,
            decision=decision,
            comment=comment,
            errors=errors,
        )
    payload = DecideInput(
        actor=ActorRef.of(user.actor), decision=body.decision, comment=body.comment
    )
    try:
        await send_command(session, temporal, user, certificate_id, DECIDE, payload, None)
    except (Conflict, Invalid) as exc:
        return await review(
            session,
            visitor,
            certificate_id,
            status_code=exc.status_code,
            decision=decision,
            comment=comment,
            errors={exc.field or "form": exc.detail},
        )
    return RedirectResponse(f"/review/{certificate_id}", status_code=303)


@router.post("/review/{certificate_id}/void")
async def void(
    certificate_id: str,
    visitor: VisitorDep,
    session: SessionDep,
    temporal: TemporalDep,
    reason: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """`POST /api/certificates/{id}/void` from a form: a reason is required."""
    user = certifier(visitor)
    try:
        body = VoidCreate.model_validate({"reason": reason})
    except ValidationError as exc:
        errors = {"void_reason": field_errors(exc).get("reason", "A reason is required")}
        return await review(
            session, visitor, certificate_id, status_code=422, errors=errors, void_reason=reason
        )
    payload = VoidInput(actor=ActorRef.of(user.actor), reason=body.reason)
    try:
        await send_command(session, temporal, user, certificate_id, VOID, payload, None)
    except (Conflict, Invalid) as exc:
        return await review(
            session,
            visitor,
            certificate_id,
            status_code=exc.status_code,
            errors={"void_reason": exc.detail},
            void_reason=reason,
        )
    return RedirectResponse(f"/review/{certificate_id}", status_code=303)
