"""`POST /api/requests` exactly as DESIGN 5 writes it, and what the exporter reads back."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from api.schemas.common import Kg
from domain.model import Coverage, OrganicCategory, Status

# R2: a time-frame certificate covers at most 366 days, both ends included.
MAX_TIME_FRAME_DAYS = 366
MAX_LINES = 100

HtsCode = Annotated[str, StringConstraints(pattern=r"^\d{10}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Port = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class ShipmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transport_mode: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)
    ]
    bill_of_lading: Reference | None = None
    containers: list[Reference] = Field(default_factory=list, max_length=500)


class RequestLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hts_code: HtsCode
    product_name: Text
    organic_category: OrganicCategory
    quantity_kg: Decimal = Field(gt=0, max_digits=14, decimal_places=3)
    lot_numbers: list[Reference] = Field(default_factory=list, max_length=200)


class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    importer_id: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)
    ]
    coverage: Coverage
    valid_from: date
    valid_until: date
    country_of_origin: CountryCode
    port_of_export: Port
    port_of_entry: Port
    shipment: ShipmentCreate
    lines: list[RequestLineCreate] = Field(min_length=1, max_length=MAX_LINES)

    @field_validator("valid_until")
    @classmethod
    def _validity(cls, valid_until: date, info: ValidationInfo) -> date:
        valid_from = info.data.get("valid_from")
        if valid_from is None:
            return valid_until
        if valid_until < valid_from:
            raise ValueError("must not be before valid_from")
        days = (valid_until - valid_from).days + 1
        if info.data.get("coverage") is Coverage.TIME_FRAME and days > MAX_TIME_FRAME_DAYS:
            raise ValueError(f"a time frame covers at most {MAX_TIME_FRAME_DAYS} days")
        return valid_until


class CertificateOfRequest(BaseModel):
    id: str
    hts_code: str
    status: Status


class RequestCreated(BaseModel):
    id: str
    certificates: list[CertificateOfRequest]


class RequestLineRead(CertificateOfRequest):
    line_no: int
    product_name: str
    organic_category: OrganicCategory
    quantity_kg: Kg
    lot_numbers: list[str]
    number: str | None


class RequestRead(BaseModel):
    id: str
    created_at: datetime
    created_by: str
    certifier_id: str
    exporter_id: str
    importer_id: str
    coverage: Coverage
    valid_from: date
    valid_until: date
    country_of_origin: str
    port_of_export: str
    port_of_entry: str
    shipment: dict[str, Any]
    certificates: list[RequestLineRead]
