"""`/certificates` (each party's list) and `/certificates/{id}` (where it stands, the timeline
and what this user may do now), read through the functions the JSON routers answer with."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import NoMatchFound

from api.deps import SessionDep
from api.entries import customs_data
from api.routers.certificates import certificate_detail
from api.routers.documents import HTML_POLICY, PRIVATE, PdfResponse, issued_document
from api.schemas.certificates import CertificateRead, EventRead
from api.schemas.customs import CustomsRead
from api.security import Principal
from api.web.rendering import PageRoute, render
from api.web.sessions import Visitor, VisitorDep, check_csrf
from domain.customs import needs_reconciliation
from domain.errors import DomainError, Unauthorized
from domain.hts import reference_catalogue
from domain.lifecycle import Command, Parties, Situation, transition
from domain.model import Role, Status
from persistence.repositories import CertificateRepository, RegistryRepository

router = APIRouter(
    route_class=PageRoute, dependencies=[Depends(check_csrf)], include_in_schema=False
)

LIST_SIZE = 200
# The rest of a list after what awaits the user: live certificates first, then the ended ones.
STATUS_ORDER = {status: no for no, status in enumerate(Status)}


def signed_in(visitor: VisitorDep) -> Principal:
    if visitor.user is None:
        raise Unauthorized("sign in first: this page is for the parties of a certificate")
    return visitor.user


UserDep = Annotated[Principal, Depends(signed_in)]


def where_it_stands(certificate: CertificateRead, role: Role) -> str:
    """One sentence: where the certificate is and who acts next, as `role` reads it."""
    exporter = "you" if role is Role.EXPORTER else "the exporter"
    importer = "you" if role is Role.IMPORTER else "the importer"
    status = certificate.status
    if status is Status.INFO_REQUESTED:
        return f"The certifier asked a question; {exporter} must answer it within 14 days."
    if certificate.reconciliation == "requested":
        return (
            f"Valid until {certificate.valid_until}; {exporter} must report the actual net "
            "weights shipped."
        )
    if certificate.reconciliation == "reported":
        return "The actual net weights were reported; the certifier confirms them next."
    sentences = {
        Status.SUBMITTED: "Filed; automatic screening is running, then it goes to the certifier.",
        Status.IN_REVIEW: "In the certifier's review queue; the certifier decides next.",
        Status.APPROVED: "Approved; the number and the signed document are being issued.",
        Status.ISSUED: "Issued; it is being delivered to the importer.",
        Status.DELIVERED: (
            f"Delivered to {importer}"
            + (" and acknowledged" if certificate.acknowledged_at else "")
            + f"; {certificate.remaining_kg} kg left for customs entries until "
            f"{certificate.valid_until}."
        ),
        Status.USED: "Used by customs entries; nothing more to do.",
        Status.EXPIRED: "Expired; nothing more to do.",
        Status.VOIDED: "Voided by the certifier; it may not be used.",
        Status.REPLACED: "Replaced by a new certificate; use the replacement.",
        Status.REJECTED: "Rejected by the certifier; nothing more to do.",
        Status.WITHDRAWN: "Withdrawn before issuance; nothing more to do.",
        Status.TERMINATED: "Ended by an administrator; nothing more to do.",
    }
    return sentences[status]


def awaits_exporter(certificate: CertificateRead) -> int:
    """0 for a question to answer, 1 for a report due, 2 for the rest."""
    if certificate.status is Status.INFO_REQUESTED:
        return 0
    return 1 if certificate.reconciliation == "requested" else 2


# What a party may do from the certificate page; the state machine says whether it may now.
PAGE_COMMANDS = (
    Command.ANSWER,
    Command.WITHDRAW,
    Command.REPORT_ACTUALS,
    Command.ACKNOWLEDGE,
    Command.RECORD_ENTRY,
)


def may_do(user: Principal, certificate: CertificateRead, command: Command) -> bool:
    """Whether the state machine would take `command` from `user` now (the workflow decides
    again when it comes): the page offers only the forms that can succeed."""
    if command is Command.REPORT_ACTUALS and not needs_reconciliation(certificate.coverage):
        return False  # R8 asks it of multi-shipment and time-frame certificates only
    parties = Parties(certificate.certifier_id, certificate.exporter_id, certificate.importer_id)
    try:
        transition(Situation(certificate.status, parties), command, user.actor)
    except DomainError:
        return False
    return True


# The certifier's review page (api/web/certifier_review.py), by its route's name.
REVIEW_PAGE = "review_page"


def review_page(request: Request, certificate_id: str) -> str | None:
    try:
        return str(request.app.url_path_for(REVIEW_PAGE, certificate_id=certificate_id))
    except NoMatchFound:
        return None


@router.get("/certificates")
async def certificate_list(user: UserDep, visitor: VisitorDep, session: SessionDep) -> Response:
    page = await CertificateRepository(session).list_visible(user.actor, limit=LIST_SIZE)
    items = [CertificateRead.of(row, user.actor) for row in page.items]
    if user.role is Role.EXPORTER:
        items.sort(key=lambda c: (awaits_exporter(c), STATUS_ORDER[c.status]))
    else:
        items.sort(key=lambda c: STATUS_ORDER[c.status])
    return render(
        "certificates.html",
        visitor=visitor,
        role=user.role.value,
        items=[(c, where_it_stands(c, user.role)) for c in items],
        more=page.next_cursor is not None,
    )


@router.get("/certificates/{certificate_id}")
async def certificate_page(
    certificate_id: str, request: Request, user: UserDep, visitor: VisitorDep, session: SessionDep
) -> Response:
    """The same page for the exporter and the importer, each with their own actions; a
    certifier works a certificate on the review page, where there is one."""
    review = review_page(request, certificate_id)
    if user.role is Role.CERTIFIER and review is not None:
        await certificate_detail(session, user, certificate_id)  # 404 before anything else
        return RedirectResponse(review, 303)
    return await certificate_response(session, user, visitor, certificate_id)


async def certificate_response(
    session: AsyncSession,
    user: Principal,
    visitor: Visitor,
    certificate_id: str,
    *,
    entry: dict[str, str] | None = None,
    entry_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The certificate page; after a refused entry line, with the form as typed and the
    refusal beside its field."""
    certificate = await certificate_detail(session, user, certificate_id)
    events = await CertificateRepository(session).events(user.actor, certificate_id, limit=200)
    may = {command: may_do(user, certificate, command) for command in PAGE_COMMANDS}
    customs: CustomsRead | None = None
    if user.role is Role.IMPORTER and certificate.number is not None:
        customs = await customs_data(session, user, certificate_id)
    registry = RegistryRepository(session)
    names = {}
    for party in (certificate.exporter_id, certificate.importer_id):
        organisation = await registry.organisation(party)
        names[party] = organisation.name if organisation is not None else None
    return render(
        "certificate.html",
        status_code=status_code,
        entry=entry or {},
        entry_errors=entry_errors or {},
        names=names,
        visitor=visitor,
        c=certificate,
        sentence=where_it_stands(certificate, user.role),
        hts_description=reference_catalogue().description(certificate.hts_code),
        events=[EventRead.of(e, user.actor) for e in events.items],
        role=user.role.value,
        may=may,
        customs=customs,
    )


class DocumentRoute(PageRoute):
    """A page route whose success is the issued document: its own policy (inline styles, the QR
    code as a data image) replaces the pages' one, and no cache keeps a copy."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            response = await handler(request)
            if response.status_code == 200:
                response.headers.update({**PRIVATE, "Content-Security-Policy": HTML_POLICY})
            return response

        return handle


documents = APIRouter(route_class=DocumentRoute, include_in_schema=False)


@documents.get("/certificates/{certificate_id}/document.pdf")
async def document_pdf(certificate_id: str, user: UserDep, session: SessionDep) -> Response:
    """What GET /api/certificates/{id}/document.pdf answers, for a signed-in browser."""
    document = await issued_document(session, user, certificate_id)
    disposition = f'attachment; filename="{document.number}.pdf"'
    return PdfResponse(document.pdf, headers={**PRIVATE, "Content-Disposition": disposition})


@documents.get("/certificates/{certificate_id}/document.html")
async def document_html(certificate_id: str, user: UserDep, session: SessionDep) -> Response:
    document = await issued_document(session, user, certificate_id)
    # The document's own policy (inline styles and QR image) replaces the pages' one.
    return HTMLResponse(document.html, headers=PRIVATE)
