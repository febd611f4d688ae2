"""A request body over the limit answers 413 before anything parses it (DESIGN 5).

A pure ASGI middleware, so it sees the bytes before Starlette, FastAPI or pydantic do: a declared
Content-Length over the limit is refused without reading the body; a body sent without one
(chunked) is read up to the limit and refused as soon as it passes it, so an endless stream costs
at most the limit in memory. The server itself holds a body to its declared length.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

# "1 MB" as HTTP servers count it (nginx's `1m`): 1 MiB.
MAX_BODY_BYTES = 1024 * 1024


def declared_length(scope: Scope) -> int | None:
    """The Content-Length the client declared, if it declared one that is a number."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = declared_length(scope)
        if length is not None:
            if length > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        body = await self._read_up_to_limit(receive)
        if body is None:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_up_to_limit(self, receive: Receive) -> list[Message] | None:
        """The body's messages, or None once they pass the limit (the rest is never read)."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # the client went away; the app hears it in turn
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return None
            if not message.get("more_body", False):
                return messages

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            f"the request body is larger than {self.max_bytes} bytes",
            "payload_too_large",
            # The rest of the body is left unread: the connection cannot carry another request.
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """The messages already read, in order, then whatever the client sends next (a disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
