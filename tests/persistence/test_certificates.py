from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import Invalid, NotFound
from domain.model import Status
from persistence.repositories import CertificateRepository
from persistence.repositories.pagination import encode_cursor
from tests.helpers import actor_for
from tests.persistence.factories import (
    AVOCADO,
    COFFEE,
    MEDITERRANEO,
    OLIVE_OIL,
    QUINOA,
    T0,
    import_request,
    project,
    record,
    transition,
)

PARTIES = (
    "certifier@demo.test",
    "certifier2@demo.test",
    "exporter@demo.test",
    "importer@demo.test",
)
OUTSIDERS = (
    "other.certifier@demo.test",
    "other.exporter@demo.test",
    "other.importer@demo.test",
    "admin@demo.test",
)


@pytest.mark.parametrize("email", PARTIES)
async def test_the_parties_see_a_certificate(db, email):
    [certificate_id] = await record(db, import_request())
    actor = await actor_for(db, email)
    async with db() as session:
        repo = CertificateRepository(session)
        found = await repo.get_visible(actor, certificate_id)
        listed = await repo.list_visible(actor)
    assert found.id == certificate_id
    assert [c.id for c in listed.items] == [certificate_id]


@pytest.mark.parametrize("email", OUTSIDERS)
async def test_anyone_else_gets_not_found(db, email):
    [certificate_id] = await record(db, import_request())
    actor = await actor_for(db, email)
    async with db() as session:
        repo = CertificateRepository(session)
        with pytest.raises(NotFound):
            await repo.get_visible(actor, certificate_id)
        with pytest.raises(NotFound):
            await repo.events(actor, certificate_id)
        assert (await repo.list_visible(actor)).items == []


async def test_list_filters_by_status_hts_code_and_text(db):
    avocado, coffee, quinoa = await record(
        db,
        import_request(
            lines=[(AVOCADO, Decimal(10)), (COFFEE, Decimal(20)), (QUINOA, Decimal(30))],
            lots=["LOT-A7"],
        ),
    )
    await record(db, import_request(parties=MEDITERRANEO, lines=[(OLIVE_OIL, Decimal(5))]))
    await project(db, transition(coffee, 1, Status.IN_REVIEW))
    exporter = await actor_for(db, "exporter@demo.test")
    async with db() as session:
        repo = CertificateRepository(session)

        async def ids(**filters: Any) -> set[str]:
            return {c.id for c in (await repo.list_visible(exporter, **filters)).items}

        assert await ids(status=Status.IN_REVIEW) == {coffee}
        assert await ids(status=Status.SUBMITTED) == {avocado, quinoa}
        assert await ids(hts_code=QUINOA) == {quinoa}
        assert await ids(q="HASS") == {avocado, coffee, quinoa}  # the shared product name
        assert await ids(q="lot-a7") == {avocado, coffee, quinoa}
        assert await ids(q="09011") == {coffee}
        assert await ids(q="olive") == set()


async def test_cursor_pages_cover_every_certificate_once(db):
    expected = []
    for n in range(7):
        # Three lines per request share a creation time: the id breaks the tie.
        expected += await record(
            db,
            import_request(
                created_at=T0 + timedelta(minutes=n // 2),
                lines=[(AVOCADO, Decimal(1)), (COFFEE, Decimal(1)), (QUINOA, Decimal(1))],
            ),
        )
    importer = await actor_for(db, "importer@demo.test")
    seen: list[str] = []
    cursor = None
    async with db() as session:
        repo = CertificateRepository(session)
        for _ in range(10):
            page = await repo.list_visible(importer, limit=4, cursor=cursor)
            seen += [c.id for c in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        everything = await repo.list_visible(importer, limit=200)
    assert len(seen) == len(set(seen)) == 21
    assert set(seen) == set(expected)
    assert seen == [c.id for c in everything.items]
    created = [c.created_at for c in everything.items]
    assert created == sorted(created, reverse=True)


FORGED_CURSORS = [
    "garbage!",
    encode_cursor("a"),
    encode_cursor("not a date", "x"),
    encode_cursor("2026-11-02T09:00:00", "x"),  # a time without its zone
]


@pytest.mark.parametrize("cursor", FORGED_CURSORS)
async def test_a_forged_cursor_is_invalid(db, cursor):
    exporter = await actor_for(db, "exporter@demo.test")
    async with db() as session:
        with pytest.raises(Invalid):
            await CertificateRepository(session).list_visible(exporter, cursor=cursor)


@pytest.mark.parametrize("limit", [0, 201])
async def test_a_limit_out_of_range_is_invalid(db, limit):
    exporter = await actor_for(db, "exporter@demo.test")
    async with db() as session:
        with pytest.raises(Invalid):
            await CertificateRepository(session).list_visible(exporter, limit=limit)


async def test_used_kg_counts_live_certificates_of_the_year_only(db):
    counted = Decimal("1000.125")
    live, rejected, withdrawn, in_review = await record(
        db,
        import_request(
            lines=[
                (AVOCADO, counted),
                (AVOCADO, Decimal(2000)),
                (AVOCADO, Decimal(4000)),
                (AVOCADO, Decimal(8000)),
            ]
        ),
    )
    await project(db, transition(rejected, 1, Status.REJECTED))
    await project(db, transition(withdrawn, 1, Status.WITHDRAWN))
    await project(db, transition(in_review, 1, Status.IN_REVIEW))
    await record(db, import_request(valid_from=date(2027, 1, 1), lines=[(AVOCADO, Decimal(16))]))
    await record(db, import_request(lines=[(COFFEE, Decimal(32))]))
    await record(db, import_request(parties=MEDITERRANEO, lines=[(AVOCADO, Decimal(64))]))
    async with db() as session:
        repo = CertificateRepository(session)
        used = await repo.used_kg_in_year(
            exporter_id="5550000001", hts_code=AVOCADO, year=2026, excluding="none"
        )
        without_live = await repo.used_kg_in_year(
            exporter_id="5550000001", hts_code=AVOCADO, year=2026, excluding=live
        )
        nothing = await repo.used_kg_in_year(
            exporter_id="5550000001", hts_code=QUINOA, year=2026, excluding="none"
        )
    assert used == counted + 8000
    assert without_live == Decimal(8000)
    assert nothing == 0


async def test_search_text_is_taken_literally(db):
    [underscore] = await record(db, import_request(lots=["L_7"]))
    await record(db, import_request(lots=["LX7"]))
    exporter = await actor_for(db, "exporter@demo.test")
    async with db() as session:
        repo = CertificateRepository(session)
        assert [c.id for c in (await repo.list_visible(exporter, q="l_7")).items] == [underscore]
        assert (await repo.list_visible(exporter, q="%")).items == []


async def test_a_page_of_certificates_is_read_at_once_with_the_exporters_name(db):
    ours = await record(db, import_request(lines=[(AVOCADO, Decimal(1)), (COFFEE, Decimal(2))]))
    [theirs] = await record(
        db, import_request(parties=MEDITERRANEO, lines=[(OLIVE_OIL, Decimal(1))])
    )
    certifier = await actor_for(db, "certifier@demo.test")
    async with db() as session:
        certificates = CertificateRepository(session)
        found = await certificates.visible_with_exporter_names(certifier, [*ours, theirs])
        exporter = await certificates.get_visible(certifier, ours[0])
        assert await certificates.visible_with_exporter_names(certifier, []) == {}
    assert set(found) == set(ours)  # another certifier's certificate is not read
    assert all(cert.id == cid for cid, (cert, _) in found.items())
    assert {name for _, name in found.values()} != {exporter.exporter_id}
