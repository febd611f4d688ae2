"""Customs use of a certificate (R7): the importer records entry lines and reads what to file."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import CurrentUser, Cursor, Limit, SessionDep, TemporalDep
from api.entries import customs_data, entry_lines, record_entry
from api.responses import SIGNED_IN, errors
from api.schemas.common import Page
from api.schemas.customs import CustomsRead, EntryCreate, EntryRead, EntryRecorded

router = APIRouter(prefix="/api/certificates", tags=["customs"])


@router.post(
    "/{certificate_id}/entries",
    status_code=201,
    responses={
        200: {"model": EntryRecorded, "description": "This entry line was recorded before."},
        **errors(*SIGNED_IN, 403, 404, 409, 413, 422),
    },
)
async def create_entry(
    certificate_id: str,
    body: EntryCreate,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
    response: Response,
) -> EntryRecorded:
    """201 for a new entry line; 200 when this (entry number, line) was recorded before."""
    recorded = await record_entry(session, temporal, user, certificate_id, body)
    if recorded.repeat:
        response.status_code = 200
    return recorded


@router.get("/{certificate_id}/entries", responses=errors(*SIGNED_IN, 404, 422))
async def list_entries(
    certificate_id: str,
    user: CurrentUser,
    session: SessionDep,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[EntryRead]:
    """The customs entry lines that used the certificate, in the order customs saw them."""
    return await entry_lines(session, user, certificate_id, limit, cursor)


@router.get("/{certificate_id}/customs", responses=errors(*SIGNED_IN, 403, 404, 409, 422))
async def read_customs(certificate_id: str, user: CurrentUser, session: SessionDep) -> CustomsRead:
    return await customs_data(session, user, certificate_id)
