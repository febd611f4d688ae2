"""A body over 1 MB gets 413 before it is parsed, declared or streamed (DESIGN 5)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx

from api.body_limit import MAX_BODY_BYTES
from tests.api.flow import EXPORTER, Auth, request_body

CHUNK = 64 * 1024
TOO_LARGE = {"detail": f"the request body is larger than {MAX_BODY_BYTES} bytes"}


def padded_request(size: int) -> bytes:
    """A valid request body made `size` bytes long with insignificant whitespace."""
    body = json.dumps(request_body()).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


async def streamed(data: bytes, sent: list[int]) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        sent.append(len(data[start : start + CHUNK]))
        yield data[start : start + CHUNK]


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.json() == {**TOO_LARGE, "code": "payload_too_large"}


async def test_a_declared_body_over_the_limit_gets_413_unread(api: httpx.AsyncClient, auth: Auth):
    sent: list[int] = []
    data = padded_request(MAX_BODY_BYTES + 1)
    headers = {**auth(EXPORTER), "Content-Length": str(len(data))}

    response = await api.post("/api/requests", content=streamed(data, sent), headers=headers)

    assert_too_large(response)
    assert sent == [], "the body was not read"


async def test_a_streamed_body_over_the_limit_gets_413(api: httpx.AsyncClient, auth: Auth):
    sent: list[int] = []
    data = padded_request(MAX_BODY_BYTES + 1)

    response = await api.post("/api/requests", content=streamed(data, sent), headers=auth(EXPORTER))

    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.request.headers
    assert_too_large(response)


async def test_an_endless_stream_is_cut_off_after_the_limit(api: httpx.AsyncClient):
    sent: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        while True:
            sent.append(CHUNK)
            yield b" " * CHUNK

    response = await api.post("/api/auth/token", content=endless())

    assert_too_large(response)
    assert sum(sent) <= MAX_BODY_BYTES + CHUNK


async def test_a_body_of_exactly_the_limit_is_parsed(api: httpx.AsyncClient, auth: Auth):
    data = padded_request(MAX_BODY_BYTES)
    headers = {**auth(EXPORTER), "Content-Type": "application/json"}

    declared = await api.post("/api/requests", content=data, headers=headers)
    chunked = await api.post("/api/requests", content=streamed(data, []), headers=headers)

    assert (declared.status_code, chunked.status_code) == (201, 201), chunked.text
