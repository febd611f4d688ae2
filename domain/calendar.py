"""Business time: the review clock counts Monday to Friday only (UTC)."""

from __future__ import annotations

from datetime import datetime, timedelta

DAY = timedelta(days=1)


def _is_business_day(moment: datetime) -> bool:
    return moment.weekday() < 5


def later(moment: datetime, amount: timedelta) -> datetime:
    """`moment + amount`, held at the ends of the calendar instead of overflowing: a date that
    the API accepts must never make a timer fail the workflow task that computes it."""
    try:
        return moment + amount
    except OverflowError:
        edge = datetime.max if amount > timedelta(0) else datetime.min
        return edge.replace(tzinfo=moment.tzinfo)


def earlier(moment: datetime, amount: timedelta) -> datetime:
    return later(moment, -amount)


def _next_midnight(moment: datetime) -> datetime:
    return later(moment.replace(hour=0, minute=0, second=0, microsecond=0), DAY)


def add_business_time(start: datetime, amount: timedelta) -> datetime:
    """The moment when `amount` of business time has passed after `start`."""
    moment, left = start, amount
    while left > timedelta(0):
        if not _is_business_day(moment):
            following = _next_midnight(moment)
            if following == moment:
                return moment
            moment = following
            continue
        step = min(left, _next_midnight(moment) - moment)
        if step <= timedelta(0):
            return moment  # the end of the calendar: no business time is left after it
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
