"""The importer's forms on a certificate page: acknowledge receipt, record a customs entry line.
Both go through what POST /api/certificates/{id}/acknowledge and .../entries call."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from api.commands import send_command
from api.deps import SessionDep, TemporalDep
from api.entries import record_entry
from api.schemas.customs import EntryCreate
from api.web.certificates import UserDep
from api.web.exporter import posted_fields, refusal
from api.web.rendering import PageRoute
from api.web.sessions import check_csrf
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
    session: SessionDep,
    temporal: TemporalDep,
) -> Response:
    try:
        body = EntryCreate.model_validate(await posted_fields(request))
    except ValidationError as refused:
        return refusal(refused)
    recorded = await record_entry(session, temporal, user, certificate_id, body)
    outcome = "repeat" if recorded.repeat else "recorded"
    return RedirectResponse(f"/certificates/{certificate_id}?entry={outcome}#entries", 303)
