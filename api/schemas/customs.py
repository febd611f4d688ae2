"""What a certificate is used for: customs entries (R7) and the actual shipments report (R8)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from api.schemas.common import Comment, Kg, Port, Reference
from domain.model import Coverage, OrganicCategory, Status
from persistence.models import ActualShipment, Certificate, CustomsEntry
from workflows.contracts import EntryLine, ShipmentActual

# A CBP entry number is a filer code and a serial, often written with dashes; brokers type it in
# either case, and the same entry must be recognised as the same (R7), so it is kept upper-case.
EntryNumber = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$"
    ),
]
PositiveKg = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)]


class EntryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_number: EntryNumber
    line_number: int = Field(ge=1, le=99_999)
    quantity_kg: PositiveKg
    entry_date: dt.date
    port_of_entry: Port

    def to_line(self) -> EntryLine:
        return EntryLine(**self.model_dump())


class EntryRead(BaseModel):
    entry_number: str
    line_number: int
    quantity_kg: Kg
    entry_date: dt.date
    port_of_entry: str

    @classmethod
    def of(cls, row: CustomsEntry) -> EntryRead:
        return cls(
            entry_number=row.entry_number,
            line_number=row.line_number,
            quantity_kg=row.quantity_kg,
            entry_date=row.entry_date,
            port_of_entry=row.port_of_entry,
        )


class EntryRecorded(BaseModel):
    certificate_id: str
    status: Status
    remaining_kg: Kg
    # True when this (entry number, line) had been recorded before: one entry, not two (R7).
    repeat: bool
    # The entry as recorded the first time, which a repeat does not change.
    entry: EntryRead | None


class CustomsRead(BaseModel):
    """What the importer's broker files with customs for each entry line."""

    certificate_id: str
    number: str
    status: Status
    hts_code: str
    product_name: str
    organic_category: OrganicCategory
    coverage: Coverage
    quantity_kg: Kg
    remaining_kg: Kg
    lot_numbers: list[str]
    valid_from: dt.date
    valid_until: dt.date
    # The first page of entry lines; the rest from GET .../entries with this cursor.
    entries: list[EntryRead]
    entries_next_cursor: str | None = None

    @classmethod
    def of(
        cls, row: Certificate, entries: list[CustomsEntry], next_cursor: str | None = None
    ) -> CustomsRead:
        assert row.number is not None, "only an issued certificate has customs data"
        return cls(
            certificate_id=row.id,
            number=row.number,
            status=Status(row.status),
            hts_code=row.hts_code,
            product_name=row.product_name,
            organic_category=OrganicCategory(row.organic_category),
            coverage=Coverage(row.coverage),
            quantity_kg=row.quantity_kg,
            remaining_kg=row.quantity_kg if row.remaining_kg is None else row.remaining_kg,
            lot_numbers=list(row.lot_numbers),
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            entries=[EntryRead.of(e) for e in entries],
            entries_next_cursor=next_cursor,
        )


class ShipmentActualCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: Reference
    net_kg: PositiveKg
    date: dt.date


class ActualsCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shipments: list[ShipmentActualCreate] = Field(min_length=1, max_length=500)

    @field_validator("shipments")
    @classmethod
    def _one_line_per_shipment(
        cls, shipments: list[ShipmentActualCreate]
    ) -> list[ShipmentActualCreate]:
        references = [s.reference for s in shipments]
        if len(set(references)) != len(references):
            raise ValueError("each shipment reference may appear only once")
        return shipments

    def to_actuals(self) -> list[ShipmentActual]:
        return [ShipmentActual(**s.model_dump()) for s in self.shipments]


class ActualsConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Comment = ""


class ShipmentActualRead(BaseModel):
    reference: str
    net_kg: Kg
    date: dt.date

    @classmethod
    def of(cls, row: ActualShipment) -> ShipmentActualRead:
        return cls(reference=row.reference, net_kg=row.net_kg, date=row.shipped_on)


class ReconciliationRead(BaseModel):
    """R8: the actual net weights the exporter reported against what the certificate allowed."""

    certificate_id: str
    status: Status
    reconciliation: str | None
    quantity_kg: Kg
    reported_kg: Kg
    shipments: list[ShipmentActualRead]

    @classmethod
    def of(cls, row: Certificate, shipments: list[ActualShipment]) -> ReconciliationRead:
        return cls(
            certificate_id=row.id,
            status=Status(row.status),
            reconciliation=row.reconciliation,
            quantity_kg=row.quantity_kg,
            reported_kg=sum((s.net_kg for s in shipments), Decimal(0)),
            shipments=[ShipmentActualRead.of(s) for s in shipments],
        )
