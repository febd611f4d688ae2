"""`/`: the login page, or the signed-in user's home; `POST /logout`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Response
from fastapi.responses import RedirectResponse

from api.deps import ClientAddress, LoginThrottleDep, SessionDep, SettingsDep
from api.schemas.certificates import CertificateRead
from api.security import Principal, authenticate
from api.web.certificates import where_it_stands
from api.web.rendering import PageRoute, render
from api.web.sessions import (
    VisitorDep,
    check_csrf,
    clear_session_cookie,
    keep_login_csrf,
    session_lifetime,
    set_session_cookie,
)
from domain.errors import Unauthorized
from domain.model import Role
from persistence.repositories import (
    CertificateRepository,
    RegistryRepository,
    TaskRepository,
    WebSessionRepository,
)

router = APIRouter(
    route_class=PageRoute, dependencies=[Depends(check_csrf)], include_in_schema=False
)

# What an exporter's home lists of what awaits it; `/certificates` lists every one.
AWAITING_SHOWN = 10

ROLE_NAMES = {
    "exporter": "exporter",
    "certifier": "certifier",
    "importer": "importer",
    "admin": "administrator",
}


@router.get("/")
async def home(visitor: VisitorDep, session: SessionDep, settings: SettingsDep) -> Response:
    if visitor.user is None:
        response = render("login.html", visitor=visitor, username="", error=None)
        keep_login_csrf(response, visitor, settings)
        return response
    return render(
        "home.html",
        visitor=visitor,
        role=ROLE_NAMES[visitor.user.role],
        organisation=await _organisation_name(session, visitor.user),
        **await _work(session, visitor.user),
    )


async def _work(session: SessionDep, user: Principal) -> dict[str, Any]:
    """What awaits the user first (DESIGN 6): an exporter's questions to answer and reports
    due, a certifier's queue in three counts; read by the queries the lists use."""
    if user.role is Role.EXPORTER:
        page = await CertificateRepository(session).list_by_exporter_turn(
            user.actor, awaiting=True, limit=AWAITING_SHOWN
        )
        awaiting = [CertificateRead.of(row, user.actor) for row in page.items]
        return {
            "awaiting": [(c, where_it_stands(c, user.role)) for c in awaiting],
            "more_awaiting": page.next_cursor is not None,
        }
    if user.role is Role.CERTIFIER:
        counts = await TaskRepository(session).queue_counts(user.actor)
        return {
            "queue": {
                "open": counts.count(state="open"),
                "claimed": counts.count(state="claimed"),
                "mine": counts.count(mine=True),
            }
        }
    return {}


@router.post("/")
async def sign_in(
    username: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1_000)],
    visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    throttle: LoginThrottleDep,
    address: ClientAddress,
) -> Response:
    try:
        # Too many failures of late go up as TooManyAttempts: the 429 page, with Retry-After.
        user = await authenticate(session, username, password, throttle=throttle, address=address)
    except Unauthorized as exc:
        return render(
            "login.html", status_code=401, visitor=visitor, username=username, error=exc.detail
        )
    sessions = WebSessionRepository(session)
    now = datetime.now(UTC)
    if visitor.session_token is not None:
        # Signing in again from a signed-in browser: the old session ends, a new one begins.
        await sessions.end(visitor.session_token, now=now)
    started = await sessions.start(user.id, now=now, lifetime=session_lifetime(settings))
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, started, settings)
    return response


@router.post("/logout")
async def sign_out(visitor: VisitorDep, session: SessionDep, settings: SettingsDep) -> Response:
    if visitor.session_token is not None:
        await WebSessionRepository(session).end(visitor.session_token, now=datetime.now(UTC))
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response, settings)
    return response


async def _organisation_name(session: SessionDep, user: Principal) -> str | None:
    if user.organisation_id is None:
        return None
    organisation = await RegistryRepository(session).organisation(user.organisation_id)
    return None if organisation is None else organisation.name
