"""How every page is answered: Jinja2 from `templates/web/` with autoescaping on, the same
headers on each, and errors as a page with the status and words the API would answer."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "web"
STATIC = Path(__file__).resolve().parent / "static"

# Autoescaping everywhere (`autoescape=True`, not by file extension): user text is never markup.
templates = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined
)

# Scripts (static/nopic.js, never inline), styles and images from here only, forms posted here
# only, never framed. No referrer: the verification page's address carries its code.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def render(template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(templates.get_template(template).render(**context), status_code)


def error_page(status_code: int, detail: str) -> HTMLResponse:
    return render("error.html", status_code=status_code, status=status_code, detail=detail)


async def _as_page(request: Request, exc: Exception) -> Response:
    """The API's answer to `exc` (api/errors.py decides the status and the words), as a page."""
    handlers = request.app.exception_handlers
    handler = next((handlers[cls] for cls in type(exc).__mro__ if cls in handlers), None)
    if handler is None:
        raise exc
    answer = handler(request, exc)
    if inspect.isawaitable(answer):
        answer = await answer
    assert isinstance(answer, Response)
    detail = json.loads(bytes(answer.body)).get("detail", "error")
    page = error_page(answer.status_code, str(detail))
    if "retry-after" in answer.headers:
        page.headers["Retry-After"] = answer.headers["retry-after"]
    return page


class PageRoute(APIRoute):
    """A route that answers HTML: a refusal (403, 404, 422) or an outage (503) is a page with
    the API's status and words, not a JSON body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                # Mapped as the API maps it; one the API has no handler for goes on up.
                response = await _as_page(request, exc)
            response.headers.update(HEADERS)
            return response

        return handle
