"""Number allocation (R5): format, a sequence per (certifier, exporter), retries, concurrency."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError

from activities.documents import DocumentActivities
from domain.model import Status
from domain.signing import generate_private_key_pem
from persistence.db import create_engine, create_sessionmaker, transaction
from persistence.models import Certificate, NumberSequence
from persistence.repositories.numbers import CODE_ALPHABET, CODE_LENGTH
from tests.conftest import migrate_and_seed
from tests.helpers import postgres_database
from tests.persistence.factories import (
    AVOCADO,
    COFFEE,
    MEDITERRANEO,
    QUINOA,
    import_request,
    record,
)
from workflows.payloads import AllocateNumberInput

KEY = generate_private_key_pem()


async def approved(
    sessions: async_sessionmaker[AsyncSession], count: int = 1, **kwargs
) -> list[str]:
    """`count` approved certificates of one new request (ANDES parties unless told otherwise)."""
    codes = [AVOCADO, COFFEE, QUINOA]
    lines = [(codes[n % 3], Decimal(100 + n)) for n in range(count)]
    ids = await record(sessions, import_request(lines=lines, **kwargs))
    async with transaction(sessions) as session:
        await session.execute(
            update(Certificate).where(Certificate.id.in_(ids)).values(status=Status.APPROVED)
        )
    return ids


def activities(sessions: async_sessionmaker[AsyncSession]) -> DocumentActivities:
    return DocumentActivities(sessions, KEY, "http://nopic.test")


async def allocate(sessions: async_sessionmaker[AsyncSession], certificate_id: str) -> str:
    allocated = await activities(sessions).allocate_number(
        AllocateNumberInput(certificate_id=certificate_id)
    )
    return allocated.number


async def test_numbers_follow_r5_with_a_sequence_per_certifier_and_exporter(sessions) -> None:
    andes = await approved(sessions, 3)
    mediterraneo = await approved(sessions, 1, parties=MEDITERRANEO)
    more_andes = await approved(sessions, 1)

    numbers = [await allocate(sessions, c) for c in andes + mediterraneo + more_andes]

    assert numbers == [
        "555-5550000001-000001",
        "555-5550000001-000002",
        "555-5550000001-000003",
        "777-7770000001-000001",
        "555-5550000001-000004",
    ]
    assert all(len(n) == 21 for n in numbers)


async def test_the_verification_code_is_ten_unambiguous_characters(sessions) -> None:
    [certificate] = await approved(sessions)
    allocated = await activities(sessions).allocate_number(
        AllocateNumberInput(certificate_id=certificate)
    )

    assert re.fullmatch(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}", allocated.verification_code)
    assert not set("01IOL") & set(CODE_ALPHABET)
    async with sessions() as session:
        row = await session.get(Certificate, certificate)
    assert row is not None
    assert (row.number, row.verification_code) == (allocated.number, allocated.verification_code)


async def test_a_retried_allocation_gets_the_same_number_and_code(sessions) -> None:
    [certificate] = await approved(sessions)
    documents = activities(sessions)
    first = await documents.allocate_number(AllocateNumberInput(certificate_id=certificate))

    again = await documents.allocate_number(AllocateNumberInput(certificate_id=certificate))

    assert again == first
    async with sessions() as session:
        sequence = await session.scalar(select(NumberSequence.last_sequence))
    assert sequence == 1


async def test_numbers_of_voided_and_replaced_certificates_are_never_reused(sessions) -> None:
    voided, replaced = await approved(sessions, 2)
    assert await allocate(sessions, voided) == "555-5550000001-000001"
    assert await allocate(sessions, replaced) == "555-5550000001-000002"
    async with transaction(sessions) as session:
        await session.execute(
            update(Certificate).where(Certificate.id == voided).values(status=Status.VOIDED)
        )
        await session.execute(
            update(Certificate).where(Certificate.id == replaced).values(status=Status.REPLACED)
        )

    [later] = await approved(sessions)

    assert await allocate(sessions, later) == "555-5550000001-000003"


async def test_an_unknown_certificate_is_a_permanent_failure(sessions) -> None:
    with pytest.raises(ApplicationError) as failure:
        await activities(sessions).allocate_number(AllocateNumberInput(certificate_id="nope"))

    assert (failure.value.type, failure.value.non_retryable) == ("CertificateNotFound", True)


async def test_an_exhausted_sequence_is_a_permanent_failure(sessions) -> None:
    first, second = await approved(sessions, 2)
    await allocate(sessions, first)
    async with transaction(sessions) as session:
        await session.execute(update(NumberSequence).values(last_sequence=999_999))

    with pytest.raises(ApplicationError) as failure:
        await allocate(sessions, second)

    assert (failure.value.type, failure.value.non_retryable) == ("NumberSequenceExhausted", True)
    async with sessions() as session:
        assert (await session.get(Certificate, second)).number is None


@pytest.fixture(scope="module")
async def postgres_url() -> AsyncIterator[str]:
    async with postgres_database() as url:
        await migrate_and_seed(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest) -> str:
    name = "database_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
async def any_backend(backend_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(backend_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def test_concurrent_allocations_get_distinct_consecutive_numbers(any_backend) -> None:
    # A fresh exporter sequence per run: the PostgreSQL database is shared by the module.
    async with any_backend() as session:
        start = (
            await session.scalar(
                select(NumberSequence.last_sequence).where(
                    NumberSequence.exporter_id == "5550000001"
                )
            )
            or 0
        )
    certificates = await approved(any_backend, 10)

    numbers = await asyncio.gather(*(allocate(any_backend, c) for c in certificates))

    assert sorted(numbers) == [f"555-5550000001-{start + n:06d}" for n in range(1, 11)]


async def test_concurrent_retries_of_one_allocation_agree_on_one_number(any_backend) -> None:
    [certificate] = await approved(any_backend)

    results = await asyncio.gather(
        *(
            activities(any_backend).allocate_number(AllocateNumberInput(certificate_id=certificate))
            for _ in range(5)
        ),
        return_exceptions=True,
    )

    numbers = {r.number for r in results if not isinstance(r, BaseException)}
    assert len(numbers) == 1
    # A loser of the race on SQLite fails with a retryable error; its retry reads the number.
    for failure in (r for r in results if isinstance(r, BaseException)):
        assert isinstance(failure, ApplicationError)
        assert not failure.non_retryable
    assert await allocate(any_backend, certificate) in numbers
