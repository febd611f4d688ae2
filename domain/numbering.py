"""Certificate numbers, R5: `CCC-OOOOOOOOOO-SSSSSS`."""

from __future__ import annotations

import re

# [0-9], not \d, which also matches other scripts' digits; fullmatch, since $ allows a final "\n".
NUMBER_PATTERN = re.compile(r"^([0-9]{3})-([0-9]{10})-([0-9]{6})$")
MAX_SEQUENCE = 999_999


def format_number(certifier_code: str, operation_id: str, sequence: int) -> str:
    if not re.fullmatch(r"[0-9]{3}", certifier_code):
        raise ValueError(f"certifier code must be 3 digits, got {certifier_code!r}")
    if not re.fullmatch(r"[0-9]{10}", operation_id):
        raise ValueError(f"operation id must be 10 digits, got {operation_id!r}")
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence must be 1..{MAX_SEQUENCE}, got {sequence}")
    return f"{certifier_code}-{operation_id}-{sequence:06d}"


def parse_number(number: str) -> tuple[str, str, int]:
    found = NUMBER_PATTERN.fullmatch(number)
    if found is None:
        raise ValueError(f"not a certificate number: {number!r}")
    return found.group(1), found.group(2), int(found.group(3))
