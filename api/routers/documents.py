"""The issued document of a certificate, as its parties download it (DESIGN 4.3)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CurrentUser, SessionDep
from api.responses import SIGNED_IN, errors_beside_a_document
from api.security import Principal
from domain.errors import Conflict
from persistence.models import CertificateDocument
from persistence.repositories import CertificateRepository, DocumentRepository

router = APIRouter(prefix="/api/certificates", tags=["documents"])

# Trade data: no shared cache keeps a copy. The HTML runs no script and loads nothing from
# elsewhere (its QR code and styles are inline), so a browser may forbid both.
PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
NOT_YET = errors_beside_a_document(*SIGNED_IN, 404, 409, 422)


class PdfResponse(Response):
    media_type = "application/pdf"


async def issued_document(
    session: AsyncSession, user: Principal, certificate_id: str
) -> CertificateDocument:
    row = await CertificateRepository(session).get_visible(user.actor, certificate_id)
    document = await DocumentRepository(session).get(row.id) if row.issued_at else None
    if document is None:
        raise Conflict("the certificate has not been issued", code="not_issued")
    return document


@router.get("/{certificate_id}/document.pdf", response_class=PdfResponse, responses=NOT_YET)
async def document_pdf(certificate_id: str, user: CurrentUser, session: SessionDep) -> PdfResponse:
    document = await issued_document(session, user, certificate_id)
    disposition = f'attachment; filename="{document.number}.pdf"'
    return PdfResponse(document.pdf, headers={**PRIVATE, "Content-Disposition": disposition})


@router.get("/{certificate_id}/document.html", response_class=HTMLResponse, responses=NOT_YET)
async def document_html(
    certificate_id: str, user: CurrentUser, session: SessionDep
) -> HTMLResponse:
    document = await issued_document(session, user, certificate_id)
    return HTMLResponse(document.html, headers={**PRIVATE, "Content-Security-Policy": HTML_POLICY})
