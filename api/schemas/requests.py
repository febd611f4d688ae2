"""`POST /api/requests` exactly as DESIGN 5 writes it, and what the exporter reads back."""

from __future__ import annotations

from datetime import UTC, date, datetime
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

from api.schemas.common import Kg, Port, ProductName, Reference, TransportMode, field_rule
from domain.customs import check_valid_from, check_valid_until
from domain.model import Coverage, OrganicCategory, Status

MAX_LINES = 100

HtsCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
# R5: an operation of the organic registry is known by 10 digits.
OperationId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{10}$")]


class ShipmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transport_mode: TransportMode
    bill_of_lading: Reference | None = None
    containers: list[Reference] = Field(default_factory=list, max_length=500)


class RequestLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hts_code: HtsCode
    product_name: ProductName
    organic_category: OrganicCategory
    quantity_kg: Decimal = Field(gt=0, max_digits=14, decimal_places=3)
    lot_numbers: list[Reference] = Field(default_factory=list, max_length=200)


class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    importer_id: OperationId
    coverage: Coverage
    valid_from: date
    valid_until: date
    country_of_origin: CountryCode
    port_of_export: Port
    port_of_entry: Port
    shipment: ShipmentCreate
    lines: list[RequestLineCreate] = Field(min_length=1, max_length=MAX_LINES)

    @field_validator("valid_from")
    @classmethod
    def _starts_around_the_request(cls, valid_from: date) -> date:
        field_rule(check_valid_from, valid_from, requested_on=datetime.now(UTC).date())
        return valid_from

    @field_validator("valid_until")
    @classmethod
    def _ends_in_time(cls, valid_until: date, info: ValidationInfo) -> date:
        valid_from = info.data.get("valid_from")
        if valid_from is not None:
            field_rule(check_valid_until, valid_from, valid_until)
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
