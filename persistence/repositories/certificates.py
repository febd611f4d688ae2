"""Certificates and their audit timeline, always read through the caller's scope."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, String, cast, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import NotFound
from domain.model import Actor, Status
from persistence.models import AuditEvent, Certificate, Organisation
from persistence.repositories.pagination import (
    Page,
    check_limit,
    decode_cursor,
    decode_id,
    decode_time,
    keyset_page,
)
from persistence.repositories.scope import certificate_readable_by

# States whose quantity no longer counts against the exporter's annual capacity (R4).
RELEASED_FROM_MASS_BALANCE = (Status.REJECTED, Status.WITHDRAWN, Status.VOIDED, Status.REPLACED)


class CertificateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_visible(self, actor: Actor, certificate_id: str) -> Certificate:
        found = await self.session.scalar(
            select(Certificate).where(
                Certificate.id == certificate_id, certificate_readable_by(actor)
            )
        )
        if found is None:
            raise NotFound("certificate not found", code="certificate_not_found")
        return found

    async def by_verification(self, number: str, code: str) -> Certificate | None:
        """The certificate with `number`, only for whoever holds its verification code.

        Public: an unknown number and a wrong code are the same None, and the code is compared
        in constant time (also when there is no such number) so timing tells them apart no more.
        """
        found = await self.session.scalar(select(Certificate).where(Certificate.number == number))
        expected = found.verification_code if found is not None else None
        matches = hmac.compare_digest((expected or "\0").encode(), code.encode())
        return found if found is not None and expected and matches else None

    async def list_visible(
        self,
        actor: Actor,
        *,
        status: Status | None = None,
        hts_code: str | None = None,
        q: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Certificate]:
        """Newest first; `q` matches product name, number, HTS code or a lot number."""
        check_limit(limit)
        query = select(Certificate).where(certificate_readable_by(actor))
        if status is not None:
            query = query.where(Certificate.status == status)
        if hts_code is not None:
            query = query.where(Certificate.hts_code == hts_code)
        if q:
            # autoescape: a '%' or '_' typed by the user is a character, not a wildcard.
            needle = q.lower()
            query = query.where(
                or_(
                    func.lower(Certificate.product_name).contains(needle, autoescape=True),
                    func.lower(Certificate.number).contains(needle, autoescape=True),
                    Certificate.hts_code.contains(needle, autoescape=True),
                    func.lower(cast(Certificate.lot_numbers, String)).contains(
                        needle, autoescape=True
                    ),
                )
            )
        return await self._newest_first(query, limit, cursor)

    async def list_by_exporter_turn(
        self, actor: Actor, *, awaiting: bool, limit: int = 50, cursor: str | None = None
    ) -> Page[Certificate]:
        """The certificates `actor` may see that await the exporter (a question to answer, a
        report of actual weights due), or, with `awaiting` False, all the others; newest first.

        The two halves are exact complements, so an exporter's home that lists the first and
        then pages through the second shows every certificate once.
        """
        check_limit(limit)
        turn = or_(
            Certificate.status == Status.INFO_REQUESTED,
            Certificate.reconciliation == "requested",
        )
        rest = (Certificate.status != Status.INFO_REQUESTED) & (
            # NULL (no report due) is not 'requested': a plain != would drop those rows.
            Certificate.reconciliation.is_distinct_from("requested")
        )
        query = select(Certificate).where(
            certificate_readable_by(actor), turn if awaiting else rest
        )
        return await self._newest_first(query, limit, cursor)

    async def _newest_first(
        self, query: Select[Certificate], limit: int, cursor: str | None
    ) -> Page[Certificate]:
        """One page of `query` by the lists' keyset: created_at, then id, both descending."""
        if cursor is not None:
            created, last_id = decode_cursor(cursor, 2)
            created_at = decode_time(created)
            query = query.where(
                tuple_(Certificate.created_at, Certificate.id) < tuple_(created_at, last_id)
            )
        query = query.order_by(Certificate.created_at.desc(), Certificate.id.desc())
        rows = list((await self.session.scalars(query.limit(limit + 1))).all())
        return keyset_page(rows, limit, lambda c: (c.created_at.isoformat(), c.id))

    async def visible_with_exporter_names(
        self, actor: Actor, certificate_ids: Sequence[str]
    ) -> dict[str, tuple[Certificate, str]]:
        """The certificates among `certificate_ids` the caller may read, with their exporter's
        name, by id: a page of the queue reads them in one query, not two per row. An id the
        caller may not read is absent, as `get_visible` would not find it."""
        if not certificate_ids:
            return {}
        rows = await self.session.execute(
            select(Certificate, Organisation.name)
            .outerjoin(Organisation, Organisation.id == Certificate.exporter_id)
            .where(Certificate.id.in_(set(certificate_ids)), certificate_readable_by(actor))
        )
        return {c.id: (c, name or c.exporter_id) for c, name in rows}

    async def for_request(self, request_id: str) -> list[Certificate]:
        rows = await self.session.scalars(
            select(Certificate)
            .where(Certificate.request_id == request_id)
            .order_by(Certificate.line_no)
        )
        return list(rows.all())

    async def events(
        self, actor: Actor, certificate_id: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[AuditEvent]:
        """The audit timeline, oldest first, one page at a time.

        A time-frame certificate used by thousands of customs entries has thousands of events:
        the page is cut by the query (keyset and LIMIT), never by loading the whole timeline.
        """
        check_limit(limit)
        await self.get_visible(actor, certificate_id)
        query = select(AuditEvent).where(AuditEvent.certificate_id == certificate_id)
        if cursor is not None:
            at, last_id = decode_cursor(cursor, 2)
            query = query.where(
                tuple_(AuditEvent.at, AuditEvent.id) > tuple_(decode_time(at), decode_id(last_id))
            )
        query = query.order_by(AuditEvent.at, AuditEvent.id).limit(limit + 1)
        rows = list((await self.session.scalars(query)).all())
        return keyset_page(rows, limit, lambda e: (e.at.isoformat(), e.id))

    async def used_kg_in_year(
        self, *, exporter_id: str, hts_code: str, year: int, excluding: str
    ) -> Decimal:
        """What the exporter's other live certificates of the year already take (R4)."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(Certificate.quantity_kg), 0)).where(
                Certificate.exporter_id == exporter_id,
                Certificate.hts_code == hts_code,
                Certificate.valid_from >= date(year, 1, 1),
                Certificate.valid_from <= date(year, 12, 31),
                Certificate.id != excluding,
                Certificate.status.not_in([s.value for s in RELEASED_FROM_MASS_BALANCE]),
            )
        )
        return Decimal(total or 0)
