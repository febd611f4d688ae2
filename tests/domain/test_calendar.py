"""Business time (Monday to Friday, UTC): adding it and measuring it agree across weekends."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from domain.calendar import add_business_time, business_time_between

DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in January 2025, which starts on a Wednesday."""
    return datetime(2025, 1, day, hour, minute, tzinfo=UTC)


FRIDAY, SATURDAY, SUNDAY, MONDAY = 3, 4, 5, 6


def test_the_helper_calendar_is_right():
    assert [at(d).strftime("%a") for d in (1, FRIDAY, SATURDAY, SUNDAY, MONDAY)] == [
        "Wed",
        "Fri",
        "Sat",
        "Sun",
        "Mon",
    ]


@pytest.mark.parametrize(
    ("start", "amount", "end"),
    [
        pytest.param(at(FRIDAY, 15), DAY, at(MONDAY, 15), id="friday-afternoon-plus-a-day"),
        pytest.param(at(SATURDAY, 10), HOUR, at(MONDAY, 1), id="saturday-counts-from-monday"),
        pytest.param(at(SUNDAY, 23, 59), DAY, at(MONDAY + 1), id="sunday-night-plus-a-day"),
        pytest.param(at(1, 9), 5 * DAY, at(8, 9), id="five-days-from-wednesday"),
        pytest.param(at(1, 9), 10 * DAY, at(15, 9), id="ten-days-spans-two-weekends"),
        pytest.param(at(MONDAY, 8), 4 * HOUR, at(MONDAY, 12), id="within-one-day"),
        pytest.param(at(FRIDAY, 22), 3 * HOUR, at(MONDAY, 1), id="friday-night-over-weekend"),
        pytest.param(at(1, 9), timedelta(0), at(1, 9), id="nothing-to-add"),
    ],
)
def test_add_business_time_skips_weekends(start: datetime, amount: timedelta, end: datetime):
    assert add_business_time(start, amount) == end


def test_add_business_time_keeps_the_timezone():
    assert add_business_time(at(FRIDAY, 15), DAY).tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "end", "amount"),
    [
        pytest.param(at(FRIDAY, 15), at(MONDAY, 15), DAY, id="friday-to-monday"),
        pytest.param(at(SATURDAY, 1), at(SUNDAY, 23), timedelta(0), id="all-weekend"),
        pytest.param(at(SATURDAY, 12), at(MONDAY, 6), 6 * HOUR, id="from-the-weekend"),
        pytest.param(at(FRIDAY, 18), at(SATURDAY, 12), 6 * HOUR, id="into-the-weekend"),
        pytest.param(at(1, 9), at(8, 9), 5 * DAY, id="wednesday-to-wednesday"),
        pytest.param(at(MONDAY, 12), at(FRIDAY, 12), timedelta(0), id="end-before-start"),
    ],
)
def test_business_time_between_counts_weekdays_only(
    start: datetime, end: datetime, amount: timedelta
):
    assert business_time_between(start, end) == amount


STARTS = [at(day, hour, 30) for day in range(1, 8) for hour in (0, 9, 23)] + [
    at(FRIDAY, 23, 59),
    at(SUNDAY, 23, 59),
]
AMOUNTS = [
    timedelta(0),
    timedelta(minutes=1),
    HOUR,
    8 * HOUR,
    DAY,
    DAY + 5 * HOUR,
    3 * DAY,
    5 * DAY,
    7 * DAY + 13 * HOUR,
    14 * DAY,
]


@pytest.mark.parametrize(("start", "amount"), list(itertools.product(STARTS, AMOUNTS)))
def test_measuring_what_was_added_gives_it_back(start: datetime, amount: timedelta):
    end = add_business_time(start, amount)
    assert end >= start
    assert business_time_between(start, end) == amount


@pytest.mark.parametrize(
    ("start", "end"), list(itertools.combinations([at(1, 9), at(FRIDAY, 20), at(SATURDAY, 8)], 2))
)
def test_adding_what_was_measured_reaches_the_end_or_the_weekend_before_it(start, end):
    reached = add_business_time(start, business_time_between(start, end))
    assert reached <= end
    assert business_time_between(reached, end) == timedelta(0)
