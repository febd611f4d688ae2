"""Customs use (R7) and the dates of a certificate's validity (R2, R8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from domain.calendar import earlier
from domain.errors import Conflict, Invalid
from domain.model import Coverage, Status

# R2 as amended, for every coverage: a validity starts at most 30 days before the day of the
# request and at most 365 days after it, and ends at most 366 days after it starts.
START_AT_MOST_BEFORE = timedelta(days=30)
START_AT_MOST_AFTER = timedelta(days=365)
LONGEST_VALIDITY = timedelta(days=366)


@dataclass(frozen=True)
class EntryOutcome:
    remaining_kg: Decimal
    # True when this entry uses the certificate up: single shipment entered, or quantity exhausted.
    used: bool


@dataclass(frozen=True)
class Validity:
    """The days a certificate is in force (R2), both ends included; `until` is None only for
    workflows started before the end date was part of their input."""

    since: date
    until: date | None


def record_entry(
    *,
    status: Status,
    coverage: Coverage,
    remaining_kg: Decimal,
    quantity_kg: Decimal,
    entry_date: date,
    validity: Validity,
    now: datetime,
) -> EntryOutcome:
    """A new customs entry line against a certificate, or why it is refused.

    R7 is a date rule too: an entry dated outside the validity, or recorded once the certificate
    has expired, is refused even before the expiry timer has moved it to `expired`. A repeat of
    an entry already recorded is not a new entry and never reaches this function.
    """
    if quantity_kg <= 0:
        raise Invalid("quantity_kg must be greater than 0", code="invalid_quantity")
    if status not in (Status.ISSUED, Status.DELIVERED):
        raise Conflict(f"a {status} certificate cannot be used for an entry", code="not_usable")
    if validity.until is not None:
        if now >= expires_at(validity.until):
            raise Conflict(
                f"the certificate expired at the end of {validity.until}", code="not_usable"
            )
        if not validity.since <= entry_date <= validity.until:
            raise Conflict(
                f"entry_date {entry_date} is outside the validity {validity.since} to "
                f"{validity.until}",
                code="outside_validity",
            )
    if quantity_kg > remaining_kg:
        raise Conflict(
            f"{quantity_kg} kg exceeds the {remaining_kg} kg left on the certificate",
            code="over_quantity",
        )
    left = remaining_kg - quantity_kg
    return EntryOutcome(left, coverage is Coverage.SINGLE_SHIPMENT or left == 0)


def expires_at(valid_until: date) -> datetime:
    """A certificate is valid through its last day (UTC) and expires at the following midnight.

    The last day of the calendar has no following midnight: such a certificate expires at the
    last representable instant instead of overflowing.
    """
    if valid_until == date.max:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.combine(valid_until + timedelta(days=1), time(0), tzinfo=UTC)


def needs_reconciliation(coverage: Coverage) -> bool:
    """R8: multi-shipment and time-frame certificates report actual net weights."""
    return coverage is not Coverage.SINGLE_SHIPMENT


def reconciliation_notice_at(valid_until: date, ahead: timedelta) -> datetime:
    return earlier(expires_at(valid_until), ahead)


def check_valid_from(valid_from: date, *, requested_on: date) -> None:
    """R2: `valid_from` in the window around `requested_on`, the day of the request (or of the
    replacement that changes it)."""
    earliest, latest = requested_on - START_AT_MOST_BEFORE, requested_on + START_AT_MOST_AFTER
    if not earliest <= valid_from <= latest:
        raise Invalid(
            f"must be between {earliest} and {latest}: at most {START_AT_MOST_BEFORE.days} days "
            f"before and {START_AT_MOST_AFTER.days} days after {requested_on}",
            code="invalid_validity",
            field="valid_from",
        )


def check_valid_until(valid_from: date, valid_until: date) -> None:
    """R2: `valid_until` on or after `valid_from` and at most 366 days after it."""
    if valid_until < valid_from:
        raise Invalid(
            f"must be on or after valid_from ({valid_from})",
            code="invalid_validity",
            field="valid_until",
        )
    if valid_until - valid_from > LONGEST_VALIDITY:
        raise Invalid(
            f"must be at most {LONGEST_VALIDITY.days} days after valid_from ({valid_from})",
            code="invalid_validity",
            field="valid_until",
        )
