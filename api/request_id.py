"""Each request has an id: the caller's `X-Request-ID` if it is a sane short token, else a new
one. Every log line written while serving the request carries it, and so does the response, so a
client that reports a problem can name the lines that tell of it.

A pure ASGI middleware, outside everything else, so even a refused body's answer carries the id.
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.logs import log_context

HEADER = "X-Request-ID"
# What a proxy or a client sends as an id (a uuid, a hex trace id); anything else, a long value,
# a space, a quote, something to smuggle into the logs, is replaced.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def request_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given: str = value.decode("latin-1")
            if _SANE.fullmatch(given):
                return given
            break
    return str(uuid.uuid4())


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        with log_context(request_id=request_id):
            await self.app(scope, receive, send_with_id)
