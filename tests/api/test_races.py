"""Races (issue 6, point 8): many clicks on one certificate at the same moment, through the API
with the real workflows, on SQLite and on PostgreSQL.

Twenty claims of one task give one claim; twenty approvals give one certificate with one number;
customs entries sent together never take the remaining quantity below zero, and those that do
not fit are refused with 409.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.security import issue_token
from config.settings import Settings
from domain.model import Role
from persistence.models import AuditEvent, Certificate, CustomsEntry, NumberSequence, Task, User
from persistence.seed import demo_user_id
from tests.api.flow import (
    CERTIFIER,
    CERTIFIER2,
    EXPORTER,
    IMPORTER,
    Auth,
    delivered,
    entry,
    in_review,
    line,
    wait_status,
)
from tests.conftest import BACKENDS, seeded_on

CLICKS = 20


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[str]:
    """The SQLite database of tests/conftest.py, or a fresh seeded one on the real PostgreSQL."""
    async with seeded_on(request.param, database_url) as url:
        yield url


async def post(
    api: httpx.AsyncClient, url: str, headers: dict[str, str], json: Any = None
) -> httpx.Response:
    """One click, with its own Idempotency-Key; a 503 (a slow machine) is sent again as is."""
    keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    for _ in range(10):
        response = await api.post(url, json=json, headers=keyed)
        if response.status_code != 503:
            return response
        await asyncio.sleep(0.5)
    return response


async def certifiers(sessions: async_sessionmaker[AsyncSession], settings: Settings, count: int):
    """Bearer headers of `count` certifiers of organisation 555: the two demo ones and more."""
    ids = [demo_user_id(CERTIFIER), demo_user_id(CERTIFIER2)]
    async with sessions() as session, session.begin():
        for n in range(count - len(ids)):
            user = User(
                id=str(uuid.uuid4()),
                email=f"reviewer{n}@demo.test",
                full_name=f"Reviewer {n}",
                password_hash="-",
                role=Role.CERTIFIER,
                organisation_id="555",
                active=True,
                created_at=datetime.now(UTC),
            )
            session.add(user)
            ids.append(user.id)
    return [(i, {"Authorization": f"Bearer {issue_token(settings, i)}"}) for i in ids]


async def events(sessions: async_sessionmaker[AsyncSession], certificate_id: str) -> list[str]:
    async with sessions() as session:
        found = await session.scalars(
            select(AuditEvent.action).where(AuditEvent.certificate_id == certificate_id)
        )
        return list(found)


async def entries_recorded(
    sessions: async_sessionmaker[AsyncSession], certificate_id: str
) -> list[dict[str, Any]]:
    """The details of the certificate's `entry_recorded` events, in the workflow's order."""
    async with sessions() as session:
        found = await session.scalars(
            select(AuditEvent.detail)
            .where(
                AuditEvent.certificate_id == certificate_id,
                AuditEvent.action == "entry_recorded",
            )
            .order_by(AuditEvent.seq)
        )
        return list(found)


async def assignee(sessions: async_sessionmaker[AsyncSession], task_id: str) -> str | None:
    async with sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        return task.assignee_id


async def test_twenty_certifiers_claiming_one_task_get_one_200_and_409s(
    live_api: httpx.AsyncClient,
    auth: Auth,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
):
    certificate_id, task = await in_review(live_api, auth)
    users = await certifiers(sessions, settings, CLICKS)

    answers = await asyncio.gather(
        *(post(live_api, f"/api/tasks/{task['id']}/claim", headers) for _, headers in users)
    )

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * (CLICKS - 1), [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"task_taken"}
    [winner] = [user_id for (user_id, _), a in zip(users, answers, strict=True) if a.is_success]
    assert await assignee(sessions, task["id"]) == winner
    assert (await events(sessions, certificate_id)).count("claimed") == 1


async def test_two_certifiers_clicking_claim_ten_times_each_leaves_one_holder(
    live_api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
):
    certificate_id, task = await in_review(live_api, auth)
    clicks = [CERTIFIER, CERTIFIER2] * (CLICKS // 2)
    random.Random(8).shuffle(clicks)

    answers = await asyncio.gather(
        *(post(live_api, f"/api/tasks/{task['id']}/claim", auth(user)) for user in clicks)
    )

    by_user: dict[str, set[int]] = {CERTIFIER: set(), CERTIFIER2: set()}
    for user, answer in zip(clicks, answers, strict=True):
        by_user[user].add(answer.status_code)
    # The holder's own further clicks change nothing (200, DESIGN 5: "409 if someone else
    # holds it"); every click of the other one is refused.
    [winner] = [user for user, codes in by_user.items() if 200 in codes]
    loser = CERTIFIER2 if winner == CERTIFIER else CERTIFIER
    assert (by_user[winner], by_user[loser]) == ({200}, {409}), [a.text for a in answers]
    assert {a.json()["assignee"] for a in answers if a.is_success} == {demo_user_id(winner)}
    assert await assignee(sessions, task["id"]) == demo_user_id(winner)
    assert (await events(sessions, certificate_id)).count("claimed") == 1


async def test_twenty_approvals_give_one_certificate_with_one_number(
    live_api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
):
    certificate_id, task = await in_review(live_api, auth, lines=[line(quantity_kg=1000)])
    claimed = await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    assert claimed.status_code == 200, claimed.text

    url = f"/api/certificates/{certificate_id}/decision"
    answers = await asyncio.gather(
        *(post(live_api, url, auth(CERTIFIER), {"decision": "approve"}) for _ in range(CLICKS))
    )

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * (CLICKS - 1), [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"invalid_state"}
    body = await wait_status(live_api, auth, certificate_id, "delivered")
    assert body["number"] == "555-5550000001-000001"
    actions = await events(sessions, certificate_id)
    assert (actions.count("approved"), actions.count("issued")) == (1, 1)
    async with sessions() as session:
        numbered = await session.scalar(
            select(func.count()).select_from(Certificate).where(Certificate.number.is_not(None))
        )
        sequences = list(await session.scalars(select(NumberSequence.last_sequence)))
    assert (numbered, sequences) == (1, [1])


async def test_concurrent_entries_never_overdraw_a_certificate(
    live_api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
):
    quantity = 1000
    certificate = await delivered(
        live_api, auth, coverage="multiple_shipments", lines=[line(quantity_kg=quantity)]
    )
    # Multiples of 30 never add up to 1000 exactly: the certificate stays in force, and every
    # refusal is for the quantity, not for a certificate used up meanwhile.
    rng = random.Random(20)
    amounts = [rng.choice(range(60, 240, 30)) for _ in range(CLICKS)]
    url = f"/api/certificates/{certificate['id']}/entries"

    answers = await asyncio.gather(
        *(
            post(live_api, url, auth(IMPORTER), entry(f"ENT-{n:04d}", 1, kg))
            for n, kg in enumerate(amounts)
        )
    )

    accepted = [(kg, a.json()) for kg, a in zip(amounts, answers, strict=True) if a.is_success]
    refused = [(kg, a.json()) for kg, a in zip(amounts, answers, strict=True) if not a.is_success]
    assert {a.status_code for a in answers} <= {201, 409}, [a.text for a in answers]
    assert {body["code"] for _, body in refused} == {"over_quantity"}
    used = sum(kg for kg, _ in accepted)
    assert 0 < used <= quantity
    assert refused, "the twenty entries ask for more than the certificate holds"
    # The timeline, in the order the workflow took the entries: each left what was left
    # before minus its own quantity, one at a time, never two from the same remainder.
    left = Decimal(quantity)
    for recorded in await entries_recorded(sessions, certificate["id"]):
        left -= Decimal(recorded["quantity_kg"])
        assert Decimal(recorded["remaining_kg"]) == left >= 0
    assert left == quantity - used
    # Each answer says what was left when it was sent, never less than what is left now.
    assert all(Decimal(str(body["remaining_kg"])) >= left for _, body in accepted)
    # What was refused did not fit in what was left then, nor in what is left now.
    assert all(kg > left for kg, _ in refused)
    final = await live_api.get(f"/api/certificates/{certificate['id']}", headers=auth(IMPORTER))
    assert (final.json()["status"], Decimal(str(final.json()["remaining_kg"]))) == (
        "delivered",
        Decimal(quantity - used),
    )
    async with sessions() as session:
        rows = (
            await session.execute(
                select(func.count(), func.sum(CustomsEntry.quantity_kg)).where(
                    CustomsEntry.certificate_id == certificate["id"]
                )
            )
        ).one()
    assert (rows[0], Decimal(rows[1])) == (len(accepted), Decimal(used))


async def test_one_entry_line_sent_ten_times_at_once_is_one_entry(
    live_api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
):
    certificate = await delivered(
        live_api, auth, coverage="multiple_shipments", lines=[line(quantity_kg=1000)]
    )
    url = f"/api/certificates/{certificate['id']}/entries"

    answers = await asyncio.gather(
        *(post(live_api, url, auth(IMPORTER), entry("ENT-0001", 1, 100)) for _ in range(10))
    )

    assert sorted(a.status_code for a in answers) == [200] * 9 + [201], [a.text for a in answers]
    assert {a.json()["remaining_kg"] for a in answers} == {900}
    async with sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(CustomsEntry)
            .where(CustomsEntry.certificate_id == certificate["id"])
        )
    assert count == 1


async def test_an_approval_and_a_withdrawal_at_once_one_of_them_wins(
    live_api: httpx.AsyncClient, auth: Auth, sessions: async_sessionmaker[AsyncSession]
):
    certificate_id, task = await in_review(live_api, auth)
    claimed = await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    assert claimed.status_code == 200, claimed.text

    approval, withdrawal = await asyncio.gather(
        post(
            live_api,
            f"/api/certificates/{certificate_id}/decision",
            auth(CERTIFIER),
            {"decision": "approve"},
        ),
        post(
            live_api,
            f"/api/certificates/{certificate_id}/withdraw",
            auth(EXPORTER),
            {"reason": "sold elsewhere"},
        ),
    )

    assert sorted([approval.status_code, withdrawal.status_code]) == [200, 409]
    loser = withdrawal if approval.is_success else approval
    assert loser.json()["code"] == "invalid_state"
    final = "delivered" if approval.is_success else "withdrawn"
    body = await wait_status(live_api, auth, certificate_id, final)
    assert (body["number"] is not None) == approval.is_success
    actions = await events(sessions, certificate_id)
    assert ("approved" in actions, "withdrawn" in actions) == (
        approval.is_success,
        withdrawal.is_success,
    )
