"""How every page is answered: Jinja2 from `templates/web/` with autoescaping on, the same
headers on each, and errors as a page with the status the API would answer."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from domain.errors import DomainError

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "web"
STATIC = Path(__file__).resolve().parent / "static"

# Autoescaping everywhere (`autoescape=True`, not by file extension): user text is never markup.
templates = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined
)

# No script at all, styles and images from here only, forms posted here only, never framed.
# No referrer: the verification page's address carries its code.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def render(template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(templates.get_template(template).render(**context), status_code)


def error_page(status_code: int, detail: str) -> HTMLResponse:
    return render("error.html", status_code=status_code, status=status_code, detail=detail)


class PageRoute(APIRoute):
    """A route that answers HTML: a refusal is a page with the API's status (403, 404, 422)
    and its words, not a JSON body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except DomainError as exc:
                response = error_page(exc.status_code, exc.detail)
            except RequestValidationError:
                response = error_page(
                    422,
                    "This address or form is missing something or has a value that is not allowed.",
                )
            response.headers.update(HEADERS)
            return response

        return handle
