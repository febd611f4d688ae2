"""The HTS reference (2025 Rev 24, chapters 01-24 and a few headings) shipped with the project."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, cached_property
from importlib import resources


class HtsMatch(StrEnum):
    EXACT = "exact"
    # A 10-digit code missing here whose 8-digit line exists: later revisions add organic
    # breakouts, so this is a flag for the reviewer, not a refusal.
    NEWER_SUFFIX = "newer_suffix"
    UNKNOWN = "unknown"


ORGANIC = "certified organic"


def _path(description: str) -> list[str]:
    # Descriptions join the headings from chapter to suffix with ": "; "Not certified organic"
    # is a segment of its own, so comparing whole segments keeps it conventional.
    return [segment.strip().lower() for segment in description.split(": ")]


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
        """The 'certified organic' statistical code that `code` should perhaps have been.

        The code itself when it is organic; for a conventional code, the organic code of the same
        branch (same description path up to where "Certified organic" splits off), preferring the
        one for the same variety; None when the code's branch has no organic breakout.
        """
        if len(code) != 10:
            return None
        candidates = self._organic_by_line.get(code[:8], [])
        text = self.descriptions.get(code)
        if text is None:
            # A newer suffix has no known place in the tree, so any organic code of its line is
            # the best hint there is.
            return candidates[0][0] if candidates else None
        path = _path(text)
        if ORGANIC in path:
            return code
        branch = [(c, o, at) for c, o, at in candidates if len(path) > at and o[:at] == path[:at]]
        if not branch:
            return None
        # Same variety first (Cherry for Cherry), else the organic "Other" that catches the rest.
        for candidate, organic_path, at in branch:
            if organic_path[at + 1 :] == path[at + 1 :]:
                return candidate
        for candidate, organic_path, at in branch:
            if organic_path[at + 1 :] == ["other"]:
                return candidate
        return branch[0][0]

    @cached_property
    def _organic_by_line(self) -> dict[str, list[tuple[str, list[str], int]]]:
        """8-digit line -> (organic code, its description path, where 'certified organic' is)."""
        index: dict[str, list[tuple[str, list[str], int]]] = {}
        for code, text in self.descriptions.items():
            path = _path(text)
            if len(code) == 10 and ORGANIC in path:
                index.setdefault(code[:8], []).append((code, path, path.index(ORGANIC)))
        return index


@cache
def reference_catalogue() -> HtsCatalogue:
    text = resources.files("domain").joinpath("hts_agri.csv").read_text(encoding="utf-8")
    return HtsCatalogue.from_csv_text(text)
