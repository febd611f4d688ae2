"""The OpenAPI document is the truth (DESIGN 5): schemathesis sends each role's requests to the
running API, with the real worker behind it, and every answer must be one the document declares:
no 5xx, no undeclared status, the declared content type and body schema."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from tests.api.contract import Known, run_contract
from tests.api.flow import ADMIN, CERTIFIER, EXPORTER, IMPORTER, Auth, delivered, in_review
from tests.conftest import free_port
from workflows.contracts import certificate_workflow_id

# The demo users of every role, and nobody signed in.
CALLERS = {
    "anonymous": None,
    "exporter": EXPORTER,
    "certifier": CERTIFIER,
    "importer": IMPORTER,
    "admin": ADMIN,
}


@pytest.fixture
async def served(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    temporal_client: Client,
    worker: None,  # noqa: ARG001
) -> AsyncIterator[str]:
    """The API on a real port of this machine, as a client of it sees it."""
    app = create_app(settings, sessions=sessions, temporal=temporal_client)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    await serving


async def known_ids(base_url: str, auth: Auth) -> Known:
    """Ids that exist, so commands reach the workflows and not only the 404 of an unknown id."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        reviewed, task = await in_review(http, auth)
        issued = await delivered(http, auth)
        request = await http.get(f"/api/certificates/{reviewed}", headers=auth(EXPORTER))
    return Known(
        certificate_ids=(reviewed, issued["id"]),
        task_ids=(task["id"],),
        request_ids=(request.json()["request_id"],),
        verification=(issued["number"], issued["verification_code"]),
        workflow_ids=(certificate_workflow_id(reviewed), f"certificate-{issued['id']}"),
        causes=("overdue_task:review", "no_worker:nopic"),
    )


async def test_every_answer_of_the_api_is_declared_in_its_openapi_document(served: str, auth: Auth):
    known = await known_ids(served, auth)
    tokens: dict[str, dict[str, Any]] = {
        name: auth(email) if email else {} for name, email in CALLERS.items()
    }

    # Schemathesis and hypothesis are synchronous: they run beside the event loop that serves.
    report = await asyncio.to_thread(run_contract, served, tokens, known)

    assert report.cases >= 500, report.summary()
    assert not report.failures, report.summary()


def error_schema(response: dict[str, Any]) -> str:
    [(media_type, content)] = response["content"].items()
    assert media_type == "application/json"
    ref: str = content["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


async def test_every_operation_declares_its_errors_with_the_one_error_body(
    api: httpx.AsyncClient,
):
    document = (await api.get("/openapi.json")).json()

    # FastAPI's own 422 body is not what the API answers: no operation may be left with it.
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            responses = operation["responses"]
            errors = {int(code) for code in responses if int(code) >= 400}
            for code in errors:
                expected = "HealthUnavailable" if path == "/healthz" else "ErrorBody"
                assert error_schema(responses[str(code)]) == expected, (label, code)
            if operation.get("security"):
                assert {401, 503} <= errors, label
            if operation.get("parameters") or "requestBody" in operation:
                assert 422 in errors, label
            if "requestBody" in operation:
                assert 413 in errors, label
