"""The authorisation scope, applied inside every repository query (R: proprietary trade data)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false

from domain.model import Actor, Role
from persistence.models import Certificate


def certificate_readable_by(actor: Actor) -> ColumnElement[bool]:
    """Only the parties named on a certificate see it: its certifier, exporter and importer."""
    org = actor.organisation_id
    if org is None or actor.role in (Role.ADMIN, Role.SYSTEM):
        return false()
    if actor.role is Role.CERTIFIER:
        return Certificate.certifier_id == org
    if actor.role is Role.EXPORTER:
        return Certificate.exporter_id == org
    if actor.role is Role.IMPORTER:
        return Certificate.importer_id == org
    return false()
