"""Business time: the review clock counts Monday to Friday only (UTC)."""

from __future__ import annotations

from datetime import datetime, timedelta

DAY = timedelta(days=1)


def _is_business_day(moment: datetime) -> bool:
    return moment.weekday() < 5


def _next_midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0) + DAY


def add_business_time(start: datetime, amount: timedelta) -> datetime:
    """The moment when `amount` of business time has passed after `start`."""
    moment, left = start, amount
    while left > timedelta(0):
        if not _is_business_day(moment):
            moment = _next_midnight(moment)
            continue
        step = min(left, _next_midnight(moment) - moment)
        moment += step
        left -= step
    return moment


def business_time_between(start: datetime, end: datetime) -> timedelta:
    total, moment = timedelta(0), start
    while moment < end:
        boundary = min(end, _next_midnight(moment))
        if _is_business_day(moment):
            total += boundary - moment
        moment = boundary
    return total
