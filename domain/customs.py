"""Customs use (R7) and the dates of a certificate's validity (R2, R8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from domain.errors import Conflict, Invalid
from domain.model import Coverage, Status

MAX_TIME_FRAME_DAYS = 366


@dataclass(frozen=True)
class EntryOutcome:
    remaining_kg: Decimal
    # True when this entry uses the certificate up: single shipment entered, or quantity exhausted.
    used: bool


def record_entry(
    *, status: Status, coverage: Coverage, remaining_kg: Decimal, quantity_kg: Decimal
) -> EntryOutcome:
    """A new customs entry line against a certificate, or why it is refused.

    A repeat of an entry already recorded is not a new entry and never reaches this function.
    """
    if quantity_kg <= 0:
        raise Invalid("quantity_kg must be greater than 0", code="invalid_quantity")
    if status is not Status.DELIVERED:
        raise Conflict(f"a {status} certificate cannot be used for an entry", code="not_usable")
    if quantity_kg > remaining_kg:
        raise Conflict(
            f"{quantity_kg} kg exceeds the {remaining_kg} kg left on the certificate",
            code="over_quantity",
        )
    left = remaining_kg - quantity_kg
    return EntryOutcome(left, coverage is Coverage.SINGLE_SHIPMENT or left == 0)


def expires_at(valid_until: date) -> datetime:
    """A certificate is valid through its last day (UTC) and expires at the following midnight."""
    return datetime.combine(valid_until + timedelta(days=1), time(0), tzinfo=UTC)


def needs_reconciliation(coverage: Coverage) -> bool:
    """R8: multi-shipment and time-frame certificates report actual net weights."""
    return coverage is not Coverage.SINGLE_SHIPMENT


def reconciliation_notice_at(valid_until: date, ahead: timedelta) -> datetime:
    return expires_at(valid_until) - ahead


def check_validity(coverage: Coverage, valid_from: date, valid_until: date) -> None:
    """R2: a period that ends after it starts; a time frame of at most 366 days."""
    if valid_until < valid_from:
        raise Invalid("valid_until: must not be before valid_from", code="invalid_validity")
    days = (valid_until - valid_from).days + 1
    if coverage is Coverage.TIME_FRAME and days > MAX_TIME_FRAME_DAYS:
        raise Invalid(
            f"valid_until: a time frame covers at most {MAX_TIME_FRAME_DAYS} days, not {days}",
            code="invalid_validity",
        )
