"""`/verify/{number}?code=...`: what the QR code of a document opens, for a phone at a port."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import SessionDep
from api.verification import verify_certificate
from api.web.rendering import PageRoute, render
from domain.errors import NotFound

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/verify/{number}")
async def verification_page(
    number: str,
    code: Annotated[str, Query(min_length=1, max_length=64)],
    session: SessionDep,
) -> Response:
    """The facts of `GET /api/verify`, from the same code: valid or not, status, dates."""
    try:
        verified = await verify_certificate(session, number, code)
    except NotFound:
        return render("verify.html", status_code=404, number=number, verified=None)
    return render("verify.html", number=number, verified=verified)
