"""`/certificates` (each party's list) and `/certificates/{id}` (where it stands, the timeline
and what this user may do now), read through the functions the JSON routers answer with."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import NoMatchFound

from api.deps import Cursor, SessionDep
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

# Certificates on one page of a list, and events on one page of a timeline; each page links to
# the next by the repository's keyset cursor, so every one can be reached without JavaScript.
LIST_SIZE = 200
TIMELINE_SIZE = 200


async def signed_in(visitor: VisitorDep) -> Principal:
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


def with_query(request: Request, **changes: str | None) -> str:
    """This page's address with its query string kept but for `changes` (None drops a key)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    query = urlencode(kept + [(k, v) for k, v in changes.items() if v is not None])
    return f"{request.url.path}?{query}" if query else request.url.path


ListPart = Literal["awaiting", "rest"]


async def exporter_page(
    session: AsyncSession, user: Principal, part: ListPart, cursor: str | None
) -> tuple[list[CertificateRead], list[CertificateRead], dict[str, str] | None]:
    """One page of the exporter's home: what awaits the exporter, then the rest, each newest
    first, one sequence cut into pages of LIST_SIZE; with the query of the next page, if any."""
    repository = CertificateRepository(session)
    awaiting: list[CertificateRead] = []
    room = LIST_SIZE
    if part == "awaiting":
        first = await repository.list_by_exporter_turn(
            user.actor, awaiting=True, limit=LIST_SIZE, cursor=cursor
        )
        awaiting = [CertificateRead.of(row, user.actor) for row in first.items]
        if first.next_cursor is not None:
            return awaiting, [], {"part": "awaiting", "cursor": first.next_cursor}
        room, cursor = LIST_SIZE - len(awaiting), None
        if room == 0:  # the page is full: a next page only if there is a rest to show
            peek = await repository.list_by_exporter_turn(user.actor, awaiting=False, limit=1)
            return awaiting, [], {"part": "rest"} if peek.items else None
    rest = await repository.list_by_exporter_turn(
        user.actor, awaiting=False, limit=room, cursor=cursor
    )
    after = None if rest.next_cursor is None else {"part": "rest", "cursor": rest.next_cursor}
    return awaiting, [CertificateRead.of(row, user.actor) for row in rest.items], after


@router.get("/certificates")
async def certificate_list(
    request: Request,
    user: UserDep,
    visitor: VisitorDep,
    session: SessionDep,
    part: ListPart = "awaiting",
    cursor: Cursor = None,
) -> Response:
    """Newest first, a page at a time; the exporter's home puts what awaits it first (DESIGN
    6). The order is the repository's keyset, so no page is re-sorted here."""
    awaiting: list[CertificateRead] = []
    if user.role is Role.EXPORTER:
        awaiting, items, after = await exporter_page(session, user, part, cursor)
    else:
        page = await CertificateRepository(session).list_visible(
            user.actor, limit=LIST_SIZE, cursor=cursor
        )
        items = [CertificateRead.of(row, user.actor) for row in page.items]
        after = None if page.next_cursor is None else {"cursor": page.next_cursor}
    first_page = part == "awaiting" and cursor is None
    return render(
        "certificates.html",
        visitor=visitor,
        role=user.role.value,
        first_page=first_page,
        awaiting=[(c, where_it_stands(c, user.role)) for c in awaiting],
        items=[(c, where_it_stands(c, user.role)) for c in items],
        next_page=None
        if after is None
        else with_query(request, part=after.get("part"), cursor=after.get("cursor")),
        first_link=None if first_page else with_query(request, part=None, cursor=None),
    )


@router.get("/certificates/{certificate_id}")
async def certificate_page(
    certificate_id: str,
    request: Request,
    user: UserDep,
    visitor: VisitorDep,
    session: SessionDep,
    events: Cursor = None,
) -> Response:
    """The same page for the exporter and the importer, each with their own actions; a
    certifier works a certificate on the review page, where there is one. `events` is the
    cursor of a later page of the timeline."""
    review = review_page(request, certificate_id)
    if user.role is Role.CERTIFIER and review is not None:
        await certificate_detail(session, user, certificate_id)  # 404 before anything else
        return RedirectResponse(review, 303)
    return await certificate_response(session, user, visitor, certificate_id, events=events)


@dataclass(frozen=True)
class SentForm:
    """A form of the certificate page sent back refused: which one (`answer`, `withdraw`,
    `actuals`, `entry`), its fields as typed, and each refusal by the field it is about
    (`form` for one about the whole form, such as the state machine's)."""

    name: str
    typed: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


async def certificate_response(
    session: AsyncSession,
    user: Principal,
    visitor: Visitor,
    certificate_id: str,
    *,
    sent: SentForm | None = None,
    events: str | None = None,
    status_code: int = 200,
) -> Response:
    """The certificate page; after a refused form, with that form as typed and each refusal
    beside its field. The timeline is a page from the cursor `events` (from the first event
    without one), with links to the next page and back to the first."""
    certificate = await certificate_detail(session, user, certificate_id)
    timeline = await CertificateRepository(session).events(
        user.actor, certificate_id, limit=TIMELINE_SIZE, cursor=events
    )
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
        forms={} if sent is None else {sent.name: sent},
        names=names,
        visitor=visitor,
        c=certificate,
        sentence=where_it_stands(certificate, user.role),
        hts_description=reference_catalogue().description(certificate.hts_code),
        events=[EventRead.of(e, user.actor) for e in timeline.items],
        later_events=None
        if timeline.next_cursor is None
        else f"/certificates/{certificate_id}?{urlencode({'events': timeline.next_cursor})}",
        earlier_events=None if events is None else f"/certificates/{certificate_id}",
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
