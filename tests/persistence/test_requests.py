import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from domain.errors import NotFound
from domain.model import Awaiting, Status
from persistence.db import transaction
from persistence.models import Certificate, ImportRequest
from persistence.repositories import CertificateRepository, RequestRepository
from tests.helpers import actor_for
from tests.persistence.factories import AVOCADO, COFFEE, import_request, record


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_recording_a_request_twice_writes_it_once(db):
    request = import_request(lines=[(AVOCADO, Decimal(10)), (COFFEE, Decimal(20))])
    async with transaction(db) as session:
        assert await RequestRepository(session).record(request) is True
    async with transaction(db) as session:
        assert await RequestRepository(session).record(request) is False
    assert await _count(db, ImportRequest) == 1
    assert await _count(db, Certificate) == 2


async def test_the_api_and_the_workflow_recording_it_at_once_write_it_once(db):
    request = import_request(lines=[(AVOCADO, Decimal(10)), (COFFEE, Decimal(20))])

    async def record_in_own_transaction() -> bool:
        async with transaction(db) as session:
            return await RequestRepository(session).record(request)

    # Both look before the other has written: the loser must see the key taken, not fail on it.
    outcomes = await asyncio.gather(*(record_in_own_transaction() for _ in range(4)))

    assert sorted(outcomes) == [False, False, False, True]
    assert await _count(db, ImportRequest) == 1
    assert await _count(db, Certificate) == 2


async def test_each_line_becomes_a_submitted_certificate_without_a_number(db):
    request = import_request(lines=[(AVOCADO, Decimal("10.5")), (COFFEE, Decimal(20))])
    await record(db, request)
    async with db() as session:
        certificates = await CertificateRepository(session).for_request(request.request_id)
    assert [(c.line_no, c.hts_code, c.quantity_kg) for c in certificates] == [
        (1, AVOCADO, Decimal("10.5")),
        (2, COFFEE, Decimal(20)),
    ]
    for certificate in certificates:
        assert certificate.status == Status.SUBMITTED
        assert certificate.awaiting == Awaiting.SYSTEM
        assert certificate.number is None
        assert certificate.created_at == request.created_at
        assert (certificate.certifier_id, certificate.exporter_id, certificate.importer_id) == (
            "555",
            "5550000001",
            "5550000002",
        )


async def test_the_exporter_reads_its_request(db):
    request = import_request()
    await record(db, request)
    exporter = await actor_for(db, "exporter@demo.test")
    async with db() as session:
        found = await RequestRepository(session).get_for_exporter(exporter, request.request_id)
    assert found.id == request.request_id
    assert found.shipment["bill_of_lading"] == "MSCU1234567"


@pytest.mark.parametrize(
    "email",
    [
        "importer@demo.test",
        "certifier@demo.test",
        "other.exporter@demo.test",
        "admin@demo.test",
    ],
)
async def test_nobody_but_its_exporter_reads_a_request(db, email):
    request = import_request()
    await record(db, request)
    actor = await actor_for(db, email)
    async with db() as session:
        with pytest.raises(NotFound):
            await RequestRepository(session).get_for_exporter(actor, request.request_id)


async def test_an_unknown_request_is_not_found(db):
    exporter = await actor_for(db, "exporter@demo.test")
    async with db() as session:
        with pytest.raises(NotFound):
            await RequestRepository(session).get_for_exporter(exporter, "no-such-request")
