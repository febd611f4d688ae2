from datetime import timedelta
from decimal import Decimal

import pytest

from domain.errors import Forbidden, Invalid, NotFound
from domain.model import Status, TaskKind, TaskState
from persistence.repositories import TaskRepository
from persistence.repositories.pagination import encode_cursor
from persistence.seed import demo_user_id
from tests.helpers import actor_for
from tests.persistence.factories import (
    AVOCADO,
    MEDITERRANEO,
    OLIVE_OIL,
    T0,
    import_request,
    project,
    record,
    review_task,
    transition,
)

NOW = T0 + timedelta(days=3)
CERTIFIER = demo_user_id("certifier@demo.test")
CERTIFIER2 = demo_user_id("certifier2@demo.test")


async def _tasks_for_555(db, specs) -> list[str]:
    """One certificate and task per spec (hours from NOW, state, kind, assignee); task ids."""
    certificate_ids = await record(db, import_request(lines=[(AVOCADO, Decimal(1))] * len(specs)))
    task_ids = []
    for certificate_id, (hours, state, kind, assignee) in zip(certificate_ids, specs, strict=True):
        task = review_task(
            due_at=NOW + timedelta(hours=hours), state=state, kind=kind, assignee=assignee
        )
        await project(db, transition(certificate_id, 1, Status.IN_REVIEW, task=task))
        task_ids.append(task.task_id)
    return task_ids


OPEN, CLAIMED, CLOSED = TaskState.OPEN, TaskState.CLAIMED, TaskState.CLOSED
REVIEW, RECONCILE = TaskKind.REVIEW, TaskKind.RECONCILE


async def test_queue_is_sorted_by_due_time_and_hides_closed_tasks(db):
    late, soon, closed, overdue = await _tasks_for_555(
        db,
        [
            (48, OPEN, REVIEW, None),
            (2, CLAIMED, REVIEW, CERTIFIER),
            (1, CLOSED, REVIEW, None),
            (-5, OPEN, RECONCILE, None),
        ],
    )
    certifier = await actor_for(db, "certifier2@demo.test")
    async with db() as session:
        page = await TaskRepository(session).queue(certifier, now=NOW)
    assert [t.id for t in page.items] == [overdue, soon, late]
    assert page.next_cursor is None
    assert closed not in [t.id for t in page.items]


async def test_queue_filters(db):
    mine, theirs, reconcile, overdue = await _tasks_for_555(
        db,
        [
            (3, CLAIMED, REVIEW, CERTIFIER),
            (4, CLAIMED, REVIEW, CERTIFIER2),
            (5, OPEN, RECONCILE, None),
            (-1, OPEN, REVIEW, None),
        ],
    )
    certifier = await actor_for(db, "certifier@demo.test")
    async with db() as session:
        tasks = TaskRepository(session)

        async def ids(**filters) -> list[str]:
            return [t.id for t in (await tasks.queue(certifier, now=NOW, **filters)).items]

        assert await ids(kind=REVIEW) == [overdue, mine, theirs]
        assert await ids(kind=RECONCILE) == [reconcile]
        assert await ids(state=CLAIMED) == [mine, theirs]
        assert await ids(state=OPEN) == [overdue, reconcile]
        assert await ids(assigned_to_me=True) == [mine]
        assert await ids(overdue=True) == [overdue]
        assert await ids(overdue=False) == [mine, theirs, reconcile]
        assert await ids(state=OPEN, kind=REVIEW, overdue=True) == [overdue]


async def test_queue_pages_have_no_gaps_or_repeats(db):
    # Pairs of tasks share a due time, so the id breaks ties across page boundaries.
    specs = [(n // 2, OPEN, REVIEW, None) for n in range(9)]
    expected = await _tasks_for_555(db, specs)
    certifier = await actor_for(db, "certifier@demo.test")
    seen: list[str] = []
    cursor = None
    async with db() as session:
        tasks = TaskRepository(session)
        for _ in range(10):
            page = await tasks.queue(certifier, now=NOW, limit=2, cursor=cursor)
            seen += [t.id for t in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        everything = await tasks.queue(certifier, now=NOW, limit=200)
    assert len(seen) == len(set(seen)) == 9
    assert set(seen) == set(expected)
    assert seen == [t.id for t in everything.items]


@pytest.mark.parametrize(
    "cursor", ["%%%", encode_cursor("yesterday", "x"), encode_cursor("2026-11-05T10:00:00", "x")]
)
async def test_a_forged_queue_cursor_is_invalid(db, cursor):
    certifier = await actor_for(db, "certifier@demo.test")
    async with db() as session:
        with pytest.raises(Invalid):
            await TaskRepository(session).queue(certifier, now=NOW, cursor=cursor)


@pytest.mark.parametrize("email", ["exporter@demo.test", "importer@demo.test", "admin@demo.test"])
async def test_only_certifiers_have_a_queue(db, email):
    [task_id] = await _tasks_for_555(db, [(1, OPEN, REVIEW, None)])
    actor = await actor_for(db, email)
    async with db() as session:
        tasks = TaskRepository(session)
        with pytest.raises(Forbidden):
            await tasks.queue(actor, now=NOW)
        # A single task does not reveal that it exists, like a certificate.
        with pytest.raises(NotFound):
            await tasks.get_visible(actor, task_id)


async def test_another_certifiers_task_is_not_found(db):
    [task_id] = await _tasks_for_555(db, [(1, OPEN, REVIEW, None)])
    [olive] = await record(
        db, import_request(parties=MEDITERRANEO, lines=[(OLIVE_OIL, Decimal(1))])
    )
    other_task = review_task(due_at=NOW)
    await project(db, transition(olive, 1, Status.IN_REVIEW, task=other_task))
    other = await actor_for(db, "other.certifier@demo.test")
    certifier = await actor_for(db, "certifier@demo.test")
    async with db() as session:
        tasks = TaskRepository(session)
        with pytest.raises(NotFound):
            await tasks.get_visible(other, task_id)
        assert [t.id for t in (await tasks.queue(other, now=NOW)).items] == [other_task.task_id]
        assert (await tasks.get_visible(certifier, task_id)).certifier_id == "555"


async def test_queue_counts_are_the_live_totals_by_kind_state_and_mine(db):
    await _tasks_for_555(
        db,
        [
            (1, OPEN, REVIEW, None),
            (2, OPEN, REVIEW, None),
            (3, CLAIMED, REVIEW, CERTIFIER),
            (4, CLAIMED, REVIEW, CERTIFIER2),
            (5, CLAIMED, RECONCILE, CERTIFIER),
            (6, OPEN, RECONCILE, None),
            (7, CLOSED, REVIEW, CERTIFIER),
        ],
    )
    [olive] = await record(
        db, import_request(parties=MEDITERRANEO, lines=[(OLIVE_OIL, Decimal(1))])
    )
    await project(db, transition(olive, 1, Status.IN_REVIEW, task=review_task(due_at=NOW)))
    certifier = await actor_for(db, "certifier@demo.test")
    async with db() as session:
        tasks = TaskRepository(session)
        counts = await tasks.queue_counts(certifier)
        # Every filter's count is what `queue` lists with it.
        for kind in (None, REVIEW, RECONCILE):
            for state in (None, OPEN, CLAIMED):
                for mine in (False, True):
                    listed = await tasks.queue(
                        certifier, now=NOW, kind=kind, state=state, assigned_to_me=mine
                    )
                    assert counts.count(kind=kind, state=state, mine=mine) == len(listed.items)
    assert counts.count() == 6  # the closed one and the other organisation's are not counted
    assert counts.count(kind=REVIEW) == 4
    assert counts.count(state=CLAIMED) == 3
    assert counts.count(mine=True) == 2
    assert counts.count(kind=RECONCILE, mine=True) == 1


async def test_queue_counts_are_only_for_certifiers(db):
    exporter = await actor_for(db, "exporter@demo.test")
    async with db() as session:
        with pytest.raises(Forbidden):
            await TaskRepository(session).queue_counts(exporter)


async def test_assignee_names_are_those_of_the_callers_organisation(db):
    certifier = await actor_for(db, "certifier@demo.test")
    other = await actor_for(db, "other.certifier@demo.test")
    async with db() as session:
        tasks = TaskRepository(session)
        names = await tasks.assignee_names(certifier, [CERTIFIER, CERTIFIER2, CERTIFIER])
        theirs = await tasks.assignee_names(other, [CERTIFIER, CERTIFIER2])
        assert await tasks.assignee_names(certifier, []) == {}
    assert set(names) == {CERTIFIER, CERTIFIER2}
    assert all(names.values())
    assert theirs == {}
