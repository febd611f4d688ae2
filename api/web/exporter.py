"""The exporter's forms: a new request (`/requests/new`), and on a certificate page the answer
to an information request, the withdrawal and the report of actual weights. Each is validated
by the API's own schema and sent through the API's own function."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from api.commands import send_command
from api.deps import SessionDep, TemporalDep
from api.schemas.certificates import AnswerCreate, WithdrawCreate
from api.schemas.customs import ActualsCreate
from api.schemas.requests import RequestCreate
from api.security import Principal
from api.submission import submit_request
from api.web.certificates import UserDep
from api.web.rendering import PageRoute, error_page, render
from api.web.sessions import VisitorDep, check_csrf
from domain.errors import Forbidden, Invalid
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


def field_name(loc: tuple[int | str, ...]) -> str:
    """The form field a refusal of the schema is about."""
    parts = [str(part) for part in loc]
    if parts[0] == "shipment" and len(parts) > 1:
        return parts[1]  # transport_mode, bill_of_lading, containers
    if parts[0] == "lines":
        return ".".join(parts[:3]) if len(parts) > 2 else "lines.0.hts_code"
    return parts[0]


def field_errors(error: ValidationError, rows: list[int]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in error.errors():
        errors.setdefault(renumber(field_name(item["loc"]), rows), item["msg"])
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
    if parts[0] == "lines" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(rows):
        parts[1] = str(rows[int(parts[1])])
    return ".".join(parts)


def refusal(error: ValidationError) -> Response:
    detail = "; ".join(f"{field_name(e['loc'])}: {e['msg']}" for e in error.errors())
    return error_page(422, detail)


async def posted_fields(request: Request) -> dict[str, str]:
    posted = await request.form()
    return {k: v for k, v in posted.items() if k != "csrf_token" and isinstance(v, str)}


@router.post("/certificates/{certificate_id}/answer")
async def answer(
    certificate_id: str, request: Request, user: UserDep, session: SessionDep, temporal: TemporalDep
) -> Response:
    try:
        body = AnswerCreate.model_validate(await posted_fields(request))
    except ValidationError as refused:
        return refusal(refused)
    payload = AnswerInput(actor=ActorRef.of(user.actor), message=body.message)
    await send_command(session, temporal, user, certificate_id, ANSWER, payload, None)
    return RedirectResponse(f"/certificates/{certificate_id}", 303)


@router.post("/certificates/{certificate_id}/withdraw")
async def withdraw(
    certificate_id: str, request: Request, user: UserDep, session: SessionDep, temporal: TemporalDep
) -> Response:
    try:
        body = WithdrawCreate.model_validate(await posted_fields(request))
    except ValidationError as refused:
        return refusal(refused)
    payload = WithdrawInput(actor=ActorRef.of(user.actor), reason=body.reason)
    await send_command(session, temporal, user, certificate_id, WITHDRAW, payload, None)
    return RedirectResponse(f"/certificates/{certificate_id}", 303)


@router.post("/certificates/{certificate_id}/actuals")
async def report_actuals(
    certificate_id: str, request: Request, user: UserDep, session: SessionDep, temporal: TemporalDep
) -> Response:
    posted = await posted_fields(request)
    shipments = [
        {name: posted.get(f"shipments.{row}.{name}", "").strip() for name in SHIPMENT_FIELDS}
        for row in range(SHIPMENT_ROWS)
    ]
    try:
        body = ActualsCreate.model_validate(
            {"shipments": [s for s in shipments if any(s.values())]}
        )
    except ValidationError as refused:
        return refusal(refused)
    payload = ReportActualsInput(actor=ActorRef.of(user.actor), shipments=body.to_actuals())
    await send_command(session, temporal, user, certificate_id, REPORT_ACTUALS, payload, None)
    return RedirectResponse(f"/certificates/{certificate_id}", 303)
