"""R2 as amended: the window a certificate's validity starts in, and how long it may last."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.customs import check_valid_from, check_valid_until
from domain.errors import Invalid

REQUESTED_ON = date(2026, 12, 1)


def day(offset: int, start: date = REQUESTED_ON) -> date:
    return start + timedelta(days=offset)


@pytest.mark.parametrize(
    ("offset", "allowed"),
    [
        (-31, False),
        (-30, True),
        (0, True),
        (365, True),
        (366, False),
        (-4000, False),
        (4000, False),
    ],
)
def test_valid_from_lies_between_30_days_before_and_365_days_after_the_request(
    offset: int, allowed: bool
) -> None:
    if allowed:
        check_valid_from(day(offset), requested_on=REQUESTED_ON)
        return
    with pytest.raises(Invalid) as refused:
        check_valid_from(day(offset), requested_on=REQUESTED_ON)
    assert (refused.value.code, refused.value.field) == ("invalid_validity", "valid_from")
    assert refused.value.detail == (
        "valid_from: must be between 2026-11-01 and 2027-12-01: at most 30 days before and "
        "365 days after 2026-12-01"
    )


@pytest.mark.parametrize(
    ("length", "allowed"),
    [(-1, False), (0, True), (1, True), (365, True), (366, True), (367, False)],
)
@pytest.mark.parametrize("starts", [day(-30), day(365), date(2028, 2, 29)])
def test_valid_until_lies_on_or_up_to_366_days_after_valid_from(
    starts: date, length: int, allowed: bool
) -> None:
    if allowed:
        check_valid_until(starts, day(length, starts))
        return
    with pytest.raises(Invalid) as refused:
        check_valid_until(starts, day(length, starts))
    assert (refused.value.code, refused.value.field) == ("invalid_validity", "valid_until")
    assert refused.value.detail.startswith("valid_until: must be ")


def test_the_ends_of_the_calendar_are_refused_without_overflowing() -> None:
    with pytest.raises(Invalid):
        check_valid_from(date.max, requested_on=REQUESTED_ON)
    with pytest.raises(Invalid):
        check_valid_until(date.min, date.max)
    with pytest.raises(Invalid):
        check_valid_until(date.max, date.min)
