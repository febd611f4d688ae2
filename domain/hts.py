"""The HTS reference (2025 Rev 24, chapters 01-24 and a few headings) shipped with the project."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources


class HtsMatch(StrEnum):
    EXACT = "exact"
    # A 10-digit code missing here whose 8-digit line exists: later revisions add organic
    # breakouts, so this is a flag for the reviewer, not a refusal.
    NEWER_SUFFIX = "newer_suffix"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class HtsCatalogue:
    descriptions: dict[str, str]

    @classmethod
    def from_csv_text(cls, text: str) -> HtsCatalogue:
        rows = csv.DictReader(io.StringIO(text))
        return cls({row["code"]: row["description"] for row in rows})

    def match(self, code: str) -> HtsMatch:
        if code in self.descriptions:
            return HtsMatch.EXACT
        if len(code) == 10 and code[:8] in self.descriptions:
            return HtsMatch.NEWER_SUFFIX
        return HtsMatch.UNKNOWN

    def description(self, code: str) -> str | None:
        return self.descriptions.get(code) or self.descriptions.get(code[:8])

    def organic_sibling(self, code: str) -> str | None:
        """The 'certified organic' statistical code under the same 8-digit line, if any."""
        if len(code) != 10:
            return None
        for candidate, text in self.descriptions.items():
            if (
                len(candidate) == 10
                and candidate[:8] == code[:8]
                and text.lower().endswith("certified organic")
            ):
                return candidate
        return None


@cache
def reference_catalogue() -> HtsCatalogue:
    text = resources.files("domain").joinpath("hts_agri.csv").read_text(encoding="utf-8")
    return HtsCatalogue.from_csv_text(text)
