"""The importer's forms on a certificate page: acknowledge receipt, record a customs entry line.
Both go through what POST /api/certificates/{id}/acknowledge and .../entries call."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError

from api.commands import send_command
from api.deps import SessionDep, TemporalDep
from api.entries import record_entry
from api.errors import domain_error_of_update
from api.schemas.customs import EntryCreate
from api.web.certificates import UserDep, certificate_response
from api.web.exporter import field_name, posted_fields
from api.web.rendering import PageRoute
from api.web.sessions import VisitorDep, check_csrf
from domain.errors import Conflict, Invalid
from workflows.contracts import ACKNOWLEDGE, AcknowledgeInput, ActorRef

router = APIRouter(
    route_class=PageRoute, dependencies=[Depends(check_csrf)], include_in_schema=False
)


@router.post("/certificates/{certificate_id}/acknowledge")
async def acknowledge(
    certificate_id: str, user: UserDep, session: SessionDep, temporal: TemporalDep
) -> Response:
    payload = AcknowledgeInput(actor=ActorRef.of(user.actor))
    await send_command(session, temporal, user, certificate_id, ACKNOWLEDGE, payload, None)
    return RedirectResponse(f"/certificates/{certificate_id}", 303)


@router.post("/certificates/{certificate_id}/entries")
async def record_entry_line(
    certificate_id: str,
    request: Request,
    user: UserDep,
    visitor: VisitorDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> Response:
    typed = await posted_fields(request)
    try:
        body = EntryCreate.model_validate(typed)
    except ValidationError as refused:
        errors = {field_name(e["loc"]): e["msg"] for e in reversed(refused.errors())}
        return await certificate_response(
            session,
            user,
            visitor,
            certificate_id,
            entry=typed,
            entry_errors=errors,
            status_code=422,
        )
    try:
        recorded = await record_entry(session, temporal, user, certificate_id, body)
    except (Conflict, WorkflowUpdateFailedError) as exc:
        # Over the quantity left, or no longer usable: said beside the form, kept as typed.
        said = exc if isinstance(exc, Conflict) else domain_error_of_update(exc)
        if not isinstance(said, Conflict | Invalid):
            raise
        await session.rollback()
        return await certificate_response(
            session,
            user,
            visitor,
            certificate_id,
            entry=typed,
            entry_errors={"form": said.message},
            status_code=said.status_code,
        )
    outcome = "repeat" if recorded.repeat else "recorded"
    return RedirectResponse(f"/certificates/{certificate_id}?entry={outcome}#entries", 303)
