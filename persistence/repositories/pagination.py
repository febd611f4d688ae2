"""Keyset pagination: an opaque cursor holds the sort key of the last item of the page."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from domain.errors import Invalid
from domain.text import first_unprintable

T = TypeVar("T")

MAX_LIMIT = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(*key: Any) -> str:
    raw = json.dumps([str(part) for part in key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError) as exc:
        raise Invalid("cursor is not one this API gave out", code="invalid_cursor") from exc
    if not isinstance(key, list) or len(key) != parts or not all(isinstance(k, str) for k in key):
        raise Invalid("cursor is not one this API gave out", code="invalid_cursor")
    # A forged cursor must not carry to the database what PostgreSQL refuses, such as a NUL.
    if any(first_unprintable(k) is not None for k in key):
        raise Invalid("cursor is not one this API gave out", code="invalid_cursor")
    return key


def decode_time(value: str) -> datetime:
    """A cursor's timestamp; aware, as the UTC columns it is compared with require."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("cursor is not one this API gave out", code="invalid_cursor") from exc
    if moment.tzinfo is None:
        raise Invalid("cursor is not one this API gave out", code="invalid_cursor")
    return moment


def decode_date(value: str) -> date:
    """A cursor's calendar day."""
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("cursor is not one this API gave out", code="invalid_cursor") from exc


def decode_id(value: str) -> int:
    """A cursor's integer row id."""
    try:
        return int(value)
    except ValueError as exc:
        raise Invalid("cursor is not one this API gave out", code="invalid_cursor") from exc


def keyset_page(rows: Sequence[T], limit: int, key: Callable[[T], tuple[Any, ...]]) -> Page[T]:
    """The page of `rows`, fetched with LIMIT limit + 1: the extra row says another page follows.

    `key` gives the sort key of a row, which the next page's cursor carries.
    """
    if len(rows) <= limit:
        return Page(list(rows), None)
    items = list(rows[:limit])
    return Page(items, encode_cursor(*key(items[-1])))


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}", code="invalid_limit")
    return limit
