"""The canonical form of certificate data: the exact bytes that are signed (R6, DESIGN 4.3).

Sorted keys, no insignificant whitespace, UTF-8, decimals and dates as strings: the same data
always gives the same bytes, on any machine, so anyone can check a signature offline.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

CANONICAL_VERSION = 1


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        # Normalised so 18000, 18000.0 and 18000.000 are one amount.
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"{type(value).__name__} has no canonical form")


def canonical_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(
        _plain(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def parse_canonical(raw: bytes) -> dict[str, Any]:
    parsed = json.loads(raw.decode("utf-8"))
    if not isinstance(parsed, dict):
        raise ValueError("canonical certificate data must be a JSON object")
    return parsed
