"""Replace an issued certificate from its review page (R6): `POST /review/{id}/replace`.

The form opens with the certificate's own values; what differs, with the reason, goes through
`ReplaceCreate` and `replace_certificate` (the API's rules: something must change, dates by R2,
the HTS code in the reference; the workflow's REPLACE update), as
`POST /api/certificates/{id}/replace` does it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from api.deps import SessionDep, TemporalDep
from api.replacement import replace_certificate
from api.schemas.replacement import ReplaceCreate
from api.web.certifier_queue import certifier
from api.web.certifier_review import field_errors, review
from api.web.rendering import PageRoute
from api.web.sessions import VisitorDep, check_csrf
from domain.errors import Conflict, Invalid

router = APIRouter(
    route_class=PageRoute, dependencies=[Depends(check_csrf)], include_in_schema=False
)

Field = Annotated[str, Form(max_length=5_000)]


@router.post("/review/{certificate_id}/replace")
async def replace(
    certificate_id: str,
    visitor: VisitorDep,
    session: SessionDep,
    temporal: TemporalDep,
    product_name: Field = "",
    hts_code: Field = "",
    quantity_kg: Field = "",
    lot_numbers: Field = "",
    valid_from: Field = "",
    valid_until: Field = "",
    reason: Field = "",
) -> Response:
    user = certifier(visitor)
    typed = {
        "product_name": product_name,
        "hts_code": hts_code,
        "quantity_kg": quantity_kg,
        "lot_numbers": lot_numbers,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "reason": reason,
    }
    # A field left empty stays as it is, as a field left out of the JSON body does.
    fields: dict[str, object] = {k: v.strip() for k, v in typed.items() if v.strip()}
    if "lot_numbers" in fields:
        fields["lot_numbers"] = [lot.strip() for lot in lot_numbers.split(",") if lot.strip()]
    fields.setdefault("reason", "")
    try:
        body = ReplaceCreate.model_validate(fields)
        result = await replace_certificate(session, temporal, user, certificate_id, body, None)
    except ValidationError as exc:
        errors = {f"replace_{k}": v for k, v in field_errors(exc).items()}
        return await review(
            session, visitor, certificate_id, status_code=422, errors=errors, replacement=typed
        )
    except (Conflict, Invalid) as exc:
        key = f"replace_{exc.field}" if exc.field else "replace"
        return await review(
            session,
            visitor,
            certificate_id,
            status_code=exc.status_code,
            errors={key: exc.detail},
            replacement=typed,
        )
    return RedirectResponse(f"/review/{result.replacement_id}", status_code=303)
