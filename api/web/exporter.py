"""The exporter's forms: a new request (`/requests/new`), and on a certificate page the answer
to an information request, the withdrawal and the report of actual weights. Each is validated
by the API's own schema and sent through the API's own function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from temporalio.client import WorkflowUpdateFailedError

from api.commands import send_command
from api.deps import SessionDep, TemporalDep
from api.errors import domain_error_of_update
from api.schemas.certificates import AnswerCreate, WithdrawCreate
from api.schemas.customs import ActualsCreate
from api.schemas.requests import RequestCreate
from api.security import Principal
from api.submission import submit_request
from api.web.certificates import SentForm, UserDep, certificate_response
from api.web.rendering import PageRoute, render
from api.web.sessions import Visitor, VisitorDep, check_csrf
from domain.errors import Conflict, Forbidden, Invalid
from domain.hts import reference_catalogue
from domain.model import Coverage, OrganicCategory, Role
from persistence.repositories import RegistryRepository
from workflows.contracts import (
    ANSWER,
    REPORT_ACTUALS,
    WITHDRAW,
    ActorRef,
    AnswerInput,
    ReportActualsInput,
    WithdrawInput,
)

router = APIRouter(
    route_class=PageRoute, dependencies=[Depends(check_csrf)], include_in_schema=False
)

LINE_ROWS = 3  # product lines on the form; a blank row is no line
SHIPMENT_ROWS = 3
TRANSPORT_MODES = ("sea", "air", "road", "rail")
SHIPMENT_FIELDS = ("reference", "net_kg", "date")
LINE_FIELDS = ("hts_code", "product_name", "organic_category", "quantity_kg", "lot_numbers")
REQUEST_FIELDS = (
    "importer_id",
    "coverage",
    "valid_from",
    "valid_until",
    "country_of_origin",
    "port_of_export",
    "port_of_entry",
    "transport_mode",
    "bill_of_lading",
    "containers",
)


def exporter(user: Principal) -> Principal:
    if user.role is not Role.EXPORTER or user.organisation_id is None:
        raise Forbidden("only exporters file requests", code="not_an_exporter")
    return user


def listed(text: str) -> list[str]:
    """Lots and containers are typed separated by commas."""
    return [part.strip() for part in text.split(",") if part.strip()]


# The forms' lists of rows, each with the field a refusal of the whole list is shown beside.
ROW_LISTS = {"lines": "hts_code", "shipments": "reference"}


def field_name(loc: tuple[int | str, ...]) -> str:
    """The form field a refusal of the schema is about (`form` for one about the whole)."""
    parts = [str(part) for part in loc]
    if not parts:
        return "form"
    if parts[0] == "shipment" and len(parts) > 1:
        return parts[1]  # transport_mode, bill_of_lading, containers
    if parts[0] in ROW_LISTS:
        return ".".join(parts[:3]) if len(parts) > 2 else f"{parts[0]}.0.{ROW_LISTS[parts[0]]}"
    return parts[0]


def field_errors(error: ValidationError, rows: list[int] | None = None) -> dict[str, str]:
    """The first refusal of each field, by the form's name of it; `rows` are the form's rows
    that were filled, in the order the schema numbers them."""
    errors: dict[str, str] = {}
    for item in error.errors():
        errors.setdefault(renumber(field_name(item["loc"]), rows or []), item["msg"])
    return errors


def request_body(form: dict[str, str], rows: list[int]) -> dict[str, Any]:
    return {
        "importer_id": form["importer_id"],
        "coverage": form["coverage"],
        "valid_from": form["valid_from"],
        "valid_until": form["valid_until"],
        "country_of_origin": form["country_of_origin"].strip().upper(),
        "port_of_export": form["port_of_export"],
        "port_of_entry": form["port_of_entry"],
        "shipment": {
            "transport_mode": form["transport_mode"],
            "bill_of_lading": form["bill_of_lading"].strip() or None,
            "containers": listed(form["containers"]),
        },
        "lines": [
            {
                "hts_code": form[f"lines.{row}.hts_code"],
                "product_name": form[f"lines.{row}.product_name"],
                "organic_category": form[f"lines.{row}.organic_category"],
                "quantity_kg": form[f"lines.{row}.quantity_kg"].strip(),
                "lot_numbers": listed(form[f"lines.{row}.lot_numbers"]),
            }
            for row in rows
        ],
    }


def blank_form() -> dict[str, str]:
    today = datetime.now(UTC).date().isoformat()
    form = dict.fromkeys(REQUEST_FIELDS, "")
    form.update(coverage="single_shipment", valid_from=today, transport_mode="sea")
    for row in range(LINE_ROWS):
        form.update({f"lines.{row}.{name}": "" for name in LINE_FIELDS})
        form[f"lines.{row}.organic_category"] = "organic"
    return form


async def render_form(
    session: SessionDep,
    user: Principal,
    visitor: VisitorDep,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    assert user.organisation_id is not None
    catalogue = reference_catalogue()
    products = await RegistryRepository(session).products(user.organisation_id)
    return render(
        "exporter_request_form.html",
        status_code=status_code,
        visitor=visitor,
        form=form,
        errors=errors,
        rows=range(LINE_ROWS),
        # The exporter's certified products (R4), each with its description in the reference.
        products=[
            (
                p.hts_code,
                f"{p.hts_code} · {catalogue.description(p.hts_code) or 'not in the reference'}",
            )
            for p in products
        ],
        coverage_options=[(c.value, c.value.replace("_", " ")) for c in Coverage],
        category_options=[(c.value, c.value.replace("_", " ")) for c in OrganicCategory],
        transport_options=[(mode, mode) for mode in TRANSPORT_MODES],
    )


@router.get("/requests/new")
async def new_request(user: UserDep, visitor: VisitorDep, session: SessionDep) -> Response:
    return await render_form(session, exporter(user), visitor, blank_form(), {})


@router.post("/requests/new")
async def file_request(
    request: Request,
    user: UserDep,
    visitor: VisitorDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> Response:
    exporter(user)
    posted = await request.form()
    form = blank_form() | {
        key: value
        for key, value in posted.items()
        if isinstance(value, str) and key in blank_form()
    }
    rows = [
        row
        for row in range(LINE_ROWS)
        if any(
            form[f"lines.{row}.{name}"].strip()
            for name in LINE_FIELDS
            if name != "organic_category"
        )
    ]
    errors: dict[str, str] = {}
    try:
        body = RequestCreate.model_validate(request_body(form, rows))
    except ValidationError as refused:
        errors = field_errors(refused, rows)
        if not rows:
            errors["lines.0.hts_code"] = "fill in at least one product line"
        return await render_form(session, user, visitor, form, errors, 422)
    try:
        created = await submit_request(session, temporal, user, body, None)
    except Invalid as refused:
        name = refused.detail.split(":", 1)[0] if ":" in refused.detail else "form"
        errors[name if name in form else "form"] = refused.message.split(": ", 1)[-1]
        return await render_form(session, user, visitor, form, errors, 422)
    first = created.certificates[0].id
    return RedirectResponse(f"/certificates/{first}", 303)


def renumber(name: str, rows: list[int]) -> str:
    """The schema numbers the filled rows; the form numbers all of them."""
    parts = name.split(".")
    if (
        parts[0] in ROW_LISTS
        and len(parts) > 1
        and parts[1].isdigit()
        and int(parts[1]) < len(rows)
    ):
        parts[1] = str(rows[int(parts[1])])
    return ".".join(parts)


async def posted_fields(request: Request) -> dict[str, str]:
    posted = await request.form()
    return {k: v for k, v in posted.items() if k != "csrf_token" and isinstance(v, str)}


PageCommand = Callable[[], tuple[str, BaseModel]]


def refused_on_page(exc: Exception, typed: dict[str, str]) -> tuple[int, dict[str, str]] | None:
    """The status and the refusal of a form's command the state machine (409) or a domain rule
    (422) refused, by the field of `typed` it is about (`form` for the whole form, or a field
    the form does not have); None for any other error, which stays an error page."""
    said = domain_error_of_update(exc) if isinstance(exc, WorkflowUpdateFailedError) else exc
    if not isinstance(said, Conflict | Invalid):
        return None
    return said.status_code, {said.field if said.field in typed else "form": said.message}


async def command_or_page(
    session: SessionDep,
    temporal: TemporalDep,
    user: Principal,
    visitor: Visitor,
    certificate_id: str,
    sent: SentForm,
    command: PageCommand,
    rows: list[int] | None = None,
) -> Response:
    """Send the command a certificate page's form makes (`command` validates the form by the
    API's schema); what the schema, the state machine or a domain rule refuses, the page shows
    again with the form as typed and the refusal beside its field."""
    status_code = 422
    try:
        update, payload = command()
        await send_command(session, temporal, user, certificate_id, update, payload, None)
    except ValidationError as refused:
        errors = field_errors(refused, rows)
    except (Conflict, Invalid, WorkflowUpdateFailedError) as exc:
        said = refused_on_page(exc, sent.typed)
        if said is None:
            raise
        await session.rollback()
        status_code, errors = said
    else:
        return RedirectResponse(f"/certificates/{certificate_id}", 303)
    return await certificate_response(
        session,
        user,
        visitor,
        certificate_id,
        sent=replace(sent, errors=errors),
        status_code=status_code,
    )


@router.post("/certificates/{certificate_id}/answer")
async def answer(
    certificate_id: str,
    request: Request,
    user: UserDep,
    visitor: VisitorDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> Response:
    typed = await posted_fields(request)

    def command() -> tuple[str, BaseModel]:
        body = AnswerCreate.model_validate(typed)
        return ANSWER, AnswerInput(actor=ActorRef.of(user.actor), message=body.message)

    sent = SentForm("answer", typed)
    return await command_or_page(session, temporal, user, visitor, certificate_id, sent, command)


@router.post("/certificates/{certificate_id}/withdraw")
async def withdraw(
    certificate_id: str,
    request: Request,
    user: UserDep,
    visitor: VisitorDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> Response:
    typed = await posted_fields(request)

    def command() -> tuple[str, BaseModel]:
        body = WithdrawCreate.model_validate(typed)
        return WITHDRAW, WithdrawInput(actor=ActorRef.of(user.actor), reason=body.reason)

    sent = SentForm("withdraw", typed)
    return await command_or_page(session, temporal, user, visitor, certificate_id, sent, command)


@router.post("/certificates/{certificate_id}/actuals")
async def report_actuals(
    certificate_id: str,
    request: Request,
    user: UserDep,
    visitor: VisitorDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> Response:
    typed = await posted_fields(request)
    shipments = {
        row: {name: typed.get(f"shipments.{row}.{name}", "").strip() for name in SHIPMENT_FIELDS}
        for row in range(SHIPMENT_ROWS)
    }
    # A blank row is no shipment; the schema numbers the filled ones.
    rows = [row for row, shipment in shipments.items() if any(shipment.values())]

    def command() -> tuple[str, BaseModel]:
        body = ActualsCreate.model_validate({"shipments": [shipments[row] for row in rows]})
        actuals = body.to_actuals()
        return REPORT_ACTUALS, ReportActualsInput(actor=ActorRef.of(user.actor), shipments=actuals)

    sent = SentForm("actuals", typed)
    return await command_or_page(
        session, temporal, user, visitor, certificate_id, sent, command, rows
    )
