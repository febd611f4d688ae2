"""Screening flags as their readers see them: the certifier and the exporter, never the importer.

The flags carry the exporter's declared capacity and volumes. Every certificate and event
answer is built with its viewer (`CertificateRead.of(row, viewer)`, `EventRead.of(row, viewer)`),
and these functions are where the viewer decides what of the flags is left in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import Kg
from domain.model import Actor
from domain.screening import FINDINGS_DETAIL, reads_flags


class FlagRead(BaseModel):
    """A risk flag on a certificate: a screening finding, or a problem of its later life."""

    rule: str
    code: str
    message: str
    hard: bool
    details: dict[str, Kg] | None = Field(
        default=None,
        description="The figures behind the flag. Mass balance (R4): annual_capacity_kg (the "
        "exporter's declared capacity for the product), used_kg (its other certificates of the "
        "year), requested_kg (this certificate) and left_kg (what was left before it).",
    )


def flags_for(viewer: Actor, flags: Iterable[Mapping[str, Any]]) -> list[FlagRead]:
    if not reads_flags(viewer):
        return []
    return [FlagRead.model_validate(flag) for flag in flags]


def detail_for(viewer: Actor, detail: Mapping[str, Any]) -> dict[str, Any]:
    """An audit event's detail; a screening's findings are flags, read as flags are."""
    shown = dict(detail)
    if FINDINGS_DETAIL not in shown:
        return shown
    if not reads_flags(viewer):
        del shown[FINDINGS_DETAIL]
        return shown
    # The same shape as the certificate's flags: figures as numbers, not the strings stored.
    findings = flags_for(viewer, shown[FINDINGS_DETAIL])
    shown[FINDINGS_DETAIL] = [f.model_dump(mode="json") for f in findings]
    return shown
