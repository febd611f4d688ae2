"""R7 as a quantity rule and a date rule, and date arithmetic that never overflows (issue 6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.calendar import add_business_time, business_time_between, earlier, later
from domain.customs import Validity, expires_at, reconciliation_notice_at, record_entry
from domain.errors import Conflict, Invalid
from domain.lifecycle import awaiting_for
from domain.model import Awaiting, Coverage, Reconciliation, Status

DECEMBER = Validity(date(2026, 12, 1), date(2026, 12, 31))
NOON = datetime(2026, 12, 10, 12, tzinfo=UTC)
MAX = datetime.max.replace(tzinfo=UTC)
MIN = datetime.min.replace(tzinfo=UTC)


def entry(
    kg: int = 100,
    *,
    on: date = date(2026, 12, 10),
    now: datetime = NOON,
    status: Status = Status.DELIVERED,
    left: int = 1000,
    coverage: Coverage = Coverage.MULTIPLE_SHIPMENTS,
    validity: Validity = DECEMBER,
) -> tuple[Decimal, bool]:
    outcome = record_entry(
        status=status,
        coverage=coverage,
        remaining_kg=Decimal(left),
        quantity_kg=Decimal(kg),
        entry_date=on,
        validity=validity,
        now=now,
    )
    return outcome.remaining_kg, outcome.used


def refusal(**kwargs: object) -> str:
    with pytest.raises((Conflict, Invalid)) as refused:
        entry(**kwargs)  # type: ignore[arg-type]
    return refused.value.code


def test_an_entry_takes_its_kilograms_and_the_last_one_uses_the_certificate() -> None:
    assert entry(100) == (Decimal(900), False)
    assert entry(1000) == (Decimal(0), True)
    assert entry(1, coverage=Coverage.SINGLE_SHIPMENT) == (Decimal(999), True)


def test_an_issued_certificate_not_delivered_yet_is_in_force() -> None:
    assert entry(100, status=Status.ISSUED) == (Decimal(900), False)


@pytest.mark.parametrize(
    ("case", "kwargs", "code"),
    [
        ("over the quantity", {"kg": 1001}, "over_quantity"),
        ("nothing", {"kg": 0}, "invalid_quantity"),
        ("in review", {"status": Status.IN_REVIEW}, "not_usable"),
        ("expired", {"status": Status.EXPIRED}, "not_usable"),
        ("voided", {"status": Status.VOIDED}, "not_usable"),
        ("dated after valid_until", {"on": date(2027, 1, 1)}, "outside_validity"),
        ("dated before valid_from", {"on": date(2026, 11, 30)}, "outside_validity"),
        # The expiry timer has not fired yet (still `delivered`), but validity has ended.
        ("recorded after expiry", {"now": expires_at(date(2026, 12, 31))}, "not_usable"),
    ],
)
def test_what_r7_refuses(case: str, kwargs: dict[str, object], code: str) -> None:
    assert refusal(**kwargs) == code, case


def test_the_last_second_of_validity_still_counts() -> None:
    last = expires_at(date(2026, 12, 31)) - timedelta(microseconds=1)
    assert entry(100, on=date(2026, 12, 31), now=last) == (Decimal(900), False)


def test_a_workflow_without_an_end_date_only_checks_the_quantity() -> None:
    undated = Validity(date(2026, 12, 1), None)
    assert entry(100, on=date(2030, 1, 1), validity=undated) == (Decimal(900), False)


def test_the_last_day_of_the_calendar_expires_without_overflowing() -> None:
    assert expires_at(date.max) == MAX
    assert expires_at(date(9999, 12, 30)) == datetime(9999, 12, 31, tzinfo=UTC)
    assert reconciliation_notice_at(date.max, timedelta(days=7)) == MAX - timedelta(days=7)
    assert reconciliation_notice_at(date.min, timedelta(days=7)) == MIN


@pytest.mark.parametrize(
    ("moment", "amount", "expected"),
    [
        (MAX - timedelta(days=1), timedelta(days=2), MAX),
        (MIN + timedelta(days=1), timedelta(days=-2), MIN),
        (NOON, timedelta(days=1), NOON + timedelta(days=1)),
    ],
)
def test_later_and_earlier_hold_at_the_ends_of_the_calendar(
    moment: datetime, amount: timedelta, expected: datetime
) -> None:
    assert later(moment, amount) == expected
    assert earlier(moment, -amount) == expected


def test_business_time_near_the_end_of_the_calendar_ends_there() -> None:
    start = MAX - timedelta(days=3)
    assert add_business_time(start, timedelta(days=30)) <= MAX
    assert business_time_between(start, MAX) <= timedelta(days=3)


@pytest.mark.parametrize(
    ("status", "reconciliation", "awaiting"),
    [
        (Status.SUBMITTED, None, Awaiting.SYSTEM),
        (Status.IN_REVIEW, None, Awaiting.CERTIFIER),
        (Status.INFO_REQUESTED, None, Awaiting.EXPORTER),
        (Status.ISSUED, None, Awaiting.SYSTEM),
        (Status.DELIVERED, None, Awaiting.IMPORTER),
        (Status.ISSUED, Reconciliation.REQUESTED, Awaiting.EXPORTER),
        (Status.DELIVERED, Reconciliation.REQUESTED, Awaiting.EXPORTER),
        (Status.DELIVERED, Reconciliation.REPORTED, Awaiting.CERTIFIER),
        (Status.EXPIRED, Reconciliation.REPORTED, Awaiting.CERTIFIER),
        (Status.EXPIRED, Reconciliation.MISSING, Awaiting.NONE),
        (Status.USED, None, Awaiting.NONE),
    ],
)
def test_who_is_awaited(
    status: Status, reconciliation: Reconciliation | None, awaiting: Awaiting
) -> None:
    assert awaiting_for(status, reconciliation) is awaiting
