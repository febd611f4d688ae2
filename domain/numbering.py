"""Certificate numbers, R5: `CCC-OOOOOOOOOO-SSSSSS`."""

from __future__ import annotations

import re

NUMBER_PATTERN = re.compile(r"^(\d{3})-(\d{10})-(\d{6})$")
MAX_SEQUENCE = 999_999


def format_number(certifier_code: str, operation_id: str, sequence: int) -> str:
    if not re.fullmatch(r"\d{3}", certifier_code):
        raise ValueError(f"certifier code must be 3 digits, got {certifier_code!r}")
    if not re.fullmatch(r"\d{10}", operation_id):
        raise ValueError(f"operation id must be 10 digits, got {operation_id!r}")
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence must be 1..{MAX_SEQUENCE}, got {sequence}")
    return f"{certifier_code}-{operation_id}-{sequence:06d}"


def parse_number(number: str) -> tuple[str, str, int]:
    found = NUMBER_PATTERN.match(number)
    if found is None:
        raise ValueError(f"not a certificate number: {number!r}")
    return found.group(1), found.group(2), int(found.group(3))
