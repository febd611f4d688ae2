"""Who is at the browser, from the session cookie, and the CSRF check of every form.

The cookie carries a random token of a server-side session (`web_sessions`): logout ends the
session, so a copied cookie is worthless at once, and a disabled user's session stops working at
their next page. Every form carries a CSRF token in a hidden field: the session's own once signed
in, before that (the login form) one kept in a cookie of its own, so that no other site can sign
a browser in to an account of its choosing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request, Response

from api.deps import SessionDep
from api.security import Principal
from config.settings import Settings
from domain.errors import Forbidden
from persistence.repositories import WebSessionRepository
from persistence.repositories.web_sessions import StartedSession

SESSION_COOKIE = "nopic_session"
LOGIN_CSRF_COOKIE = "nopic_login_csrf"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Visitor:
    """A signed-in user with their session, or someone not signed in yet."""

    user: Principal | None
    csrf_token: str  # what this page's forms carry
    session_token: str | None = None
    new_login_csrf: bool = False  # the login CSRF cookie is still to be set


async def get_visitor(request: Request, session: SessionDep) -> Visitor:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        live = await WebSessionRepository(session).live(token, now=datetime.now(UTC))
        if live is not None:
            return Visitor(Principal.of(live.user), live.csrf_token, session_token=token)
    login_csrf = request.cookies.get(LOGIN_CSRF_COOKIE)
    if login_csrf:
        return Visitor(None, login_csrf)
    return Visitor(None, secrets.token_urlsafe(32), new_login_csrf=True)


VisitorDep = Annotated[Visitor, Depends(get_visitor)]


async def check_csrf(request: Request, visitor: VisitorDep) -> None:
    """Refuses (403) a form posted without this browser's CSRF token: every page router with
    a form depends on it, so no form can forget it."""
    if request.method not in UNSAFE_METHODS:
        return
    given = (await request.form()).get(CSRF_FIELD)
    if (
        visitor.new_login_csrf
        or not isinstance(given, str)
        or not secrets.compare_digest(given.encode(), visitor.csrf_token.encode())
    ):
        raise Forbidden(
            "This form has expired or was not sent from this site. Go back, reload the page "
            "and send it again.",
            code="csrf_failed",
        )


def _secure(settings: Settings) -> bool:
    # Outside dev, cookies go over HTTPS only; dev serves plain HTTP on 127.0.0.1.
    return settings.env != "dev"


def keep_login_csrf(response: Response, visitor: Visitor, settings: Settings) -> None:
    """Sets the login form's CSRF cookie when this browser has none yet."""
    if visitor.user is None and visitor.new_login_csrf:
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            visitor.csrf_token,
            httponly=True,
            samesite="lax",
            secure=_secure(settings),
        )


def set_session_cookie(response: Response, started: StartedSession, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        started.token,
        max_age=int(session_lifetime(settings).total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(settings),
    )
    response.delete_cookie(
        LOGIN_CSRF_COOKIE, httponly=True, samesite="lax", secure=_secure(settings)
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=_secure(settings))


def session_lifetime(settings: Settings) -> timedelta:
    return timedelta(hours=settings.web_session_hours)
