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
from api.schemas.customs import EntryCreate
from api.web.certificates import SentForm, UserDep, certificate_response
from api.web.exporter import field_errors, posted_fields, refused_on_page
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
        recorded = await record_entry(session, temporal, user, certificate_id, body)
    except ValidationError as refused:
        status_code, errors = 422, field_errors(refused)
    except (Conflict, Invalid, WorkflowUpdateFailedError) as exc:
        # Over the quantity left, or no longer usable: said beside the form, kept as typed.
        said = refused_on_page(exc, typed)
        if said is None:
            raise
        await session.rollback()
        status_code, errors = said
    else:
        outcome = "repeat" if recorded.repeat else "recorded"
        return RedirectResponse(f"/certificates/{certificate_id}?entry={outcome}#entries", 303)
    sent = SentForm("entry", typed, errors)
    return await certificate_response(
        session, user, visitor, certificate_id, sent=sent, status_code=status_code
    )
