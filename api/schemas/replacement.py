"""`POST /api/certificates/{id}/replace`: the fields a correction changes (R6), and why."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Message, ProductName, Reference
from api.schemas.requests import HtsCode
from domain.customs import check_valid_from, check_valid_until
from domain.errors import Invalid
from domain.hts import HtsMatch, reference_catalogue
from domain.model import OrganicCategory
from persistence.models import Certificate
from workflows.contracts import CertificateChanges

CHANGEABLE = tuple(CertificateChanges.model_fields)


class ReplaceCreate(BaseModel):
    """Any of the changeable fields at the top level; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    product_name: ProductName | None = None
    hts_code: HtsCode | None = None
    organic_category: OrganicCategory | None = None
    quantity_kg: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=3)
    lot_numbers: list[Reference] | None = Field(default=None, max_length=200)
    valid_from: date | None = None
    valid_until: date | None = None
    reason: Message

    def changes_to(self, original: Certificate) -> CertificateChanges:
        """What differs from `original`; Invalid (422) when nothing does or the dates break R2."""
        current: dict[str, Any] = {
            "product_name": original.product_name,
            "hts_code": original.hts_code,
            "organic_category": OrganicCategory(original.organic_category),
            "quantity_kg": original.quantity_kg,
            "lot_numbers": list(original.lot_numbers),
            "valid_from": original.valid_from,
            "valid_until": original.valid_until,
        }
        changed = {
            name: getattr(self, name)
            for name in CHANGEABLE
            if getattr(self, name) is not None and getattr(self, name) != current[name]
        }
        if not changed:
            raise Invalid(
                f"a replacement must change at least one of {', '.join(CHANGEABLE)}",
                code="no_change",
            )
        code = changed.get("hts_code")
        if code is not None and reference_catalogue().match(code) is HtsMatch.UNKNOWN:
            # A replacement is not screened again, so the reference check (R4) happens here.
            raise Invalid(f"hts_code: {code} is not in the HTS reference", code="hts_unknown")
        if "valid_from" in changed:
            # R2 for a changed start, as if the certificate were requested on the day it is
            # replaced; dates left as they are were checked when it was requested.
            check_valid_from(changed["valid_from"], requested_on=datetime.now(UTC).date())
        if "valid_from" in changed or "valid_until" in changed:
            merged = {**current, **changed}
            check_valid_until(merged["valid_from"], merged["valid_until"])
        return CertificateChanges(**changed)
