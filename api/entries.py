"""Customs use of a certificate (R7): the named importer records entry lines and reads its data."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from api.commands import send_command
from api.schemas.common import Page
from api.schemas.customs import CustomsRead, EntryCreate, EntryRead, EntryRecorded
from api.security import Principal
from api.temporal import TemporalGateway, WorkflowNotRunning
from domain.errors import Conflict, Forbidden
from domain.lifecycle import Parties, Party, may_act
from domain.model import Status
from persistence.models import Certificate
from persistence.repositories import CertificateRepository, CustomsRepository
from workflows.contracts import RECORD_ENTRY, ActorRef, EntryResult, RecordEntryInput


def entry_update_id(certificate_id: str, entry: EntryCreate) -> str:
    """One update per POST. The workflow, not Temporal's update ids, tells a repeat from a new
    entry line (R7): ten brokers' clicks at once are then one 201 and nine 200s, where one
    update id for all would have answered each of them with the first outcome."""
    line = f"{entry.entry_number}-{entry.line_number}"
    return f"{RECORD_ENTRY}-{certificate_id}-{line}-{uuid.uuid4()}"


def is_named_importer(user: Principal, row: Certificate) -> bool:
    return may_act(
        user.actor, Party.IMPORTER, Parties(row.certifier_id, row.exporter_id, row.importer_id)
    )


async def record_entry(
    session: AsyncSession,
    temporal: TemporalGateway,
    user: Principal,
    certificate_id: str,
    body: EntryCreate,
) -> EntryRecorded:
    """The certificate after the entry line; `repeat` when this (entry number, line) was known."""
    row = await CertificateRepository(session).get_visible(user.actor, certificate_id)
    # Decided here as well as by the workflow: a caller who is not the importer learns nothing.
    if not is_named_importer(user, row):
        raise Forbidden("only the importer named on the certificate records entries")
    customs = CustomsRepository(session)
    known = await customs.entry(user.actor, certificate_id, body.entry_number, body.line_number)
    payload = RecordEntryInput(actor=ActorRef.of(user.actor), entry=body.to_line())
    try:
        result = await send_command(
            session,
            temporal,
            user,
            certificate_id,
            RECORD_ENTRY,
            payload,
            None,
            update_id=entry_update_id(certificate_id, body),
            result_type=EntryResult,
        )
    except WorkflowNotRunning:
        # A used, expired, voided or replaced certificate's workflow has finished, and the
        # database answers for it: a repeat of an entry it recorded is still a repeat. Read
        # again: the entry that used the certificate up may be this very one, sent before (an
        # answer lost) and written while this call was on its way.
        await session.refresh(row)
        if known is None:
            known = await customs.entry(
                user.actor, certificate_id, body.entry_number, body.line_number
            )
        if known is None:
            raise Conflict(
                f"a {row.status} certificate cannot be used for an entry", code="not_usable"
            ) from None
        result = EntryResult(
            certificate_id=row.id,
            status=Status(row.status),
            remaining_kg=row.quantity_kg if row.remaining_kg is None else row.remaining_kg,
            repeat=True,
        )
    recorded = await customs.entry(user.actor, certificate_id, body.entry_number, body.line_number)
    return EntryRecorded(
        certificate_id=result.certificate_id,
        status=result.status,
        remaining_kg=result.remaining_kg,
        # The entry was already in the database when this POST arrived: a repeat all the same.
        repeat=result.repeat or known is not None,
        entry=EntryRead.of(recorded) if recorded is not None else None,
    )


async def customs_data(session: AsyncSession, user: Principal, certificate_id: str) -> CustomsRead:
    """For the named importer only: the exporter and the certifier file nothing with customs."""
    row = await CertificateRepository(session).get_visible(user.actor, certificate_id)
    if not is_named_importer(user, row):
        raise Forbidden("only the importer named on the certificate files it", code="not_importer")
    if row.number is None or row.issued_at is None:
        raise Conflict("the certificate has not been issued", code="not_issued")
    entries = await CustomsRepository(session).entries(user.actor, row.id)
    return CustomsRead.of(row, entries.items, entries.next_cursor)


async def entry_lines(
    session: AsyncSession, user: Principal, certificate_id: str, limit: int, cursor: str | None
) -> Page[EntryRead]:
    """Every party sees what the certificate was used for, as its timeline does."""
    row = await CertificateRepository(session).get_visible(user.actor, certificate_id)
    page = await CustomsRepository(session).entries(user.actor, row.id, limit=limit, cursor=cursor)
    return Page(items=[EntryRead.of(e) for e in page.items], next_cursor=page.next_cursor)
