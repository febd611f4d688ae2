"""A long life (DESIGN 4.1): thousands of customs entries on one time-frame certificate stay
within Temporal's history limits through continue-as-new, carrying the state across runs."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from domain.model import Coverage
from tests.workflows.issuing import customs_entries, delivered, entry, record, today
from tests.workflows.support import Harness
from workflows.contracts import certificate_workflow_id

ENTRIES = 5000
BATCH = 100
QUANTITY_KG = 100_000


def kg(n: int) -> int:
    return n % 7 + 1


async def runs_of(harness: Harness, workflow_id: str, first_run_id: str) -> int:
    """How many runs the workflow has had, following its continue-as-new chain."""
    runs, run_id = 1, first_run_id
    while True:
        history = await harness.env.client.get_workflow_handle(
            workflow_id, run_id=run_id
        ).fetch_history()
        last = history.events[-1]
        if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return runs
        assert len(history.events) < 12_000
        runs += 1
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id


async def test_five_thousand_entries_continue_as_new_and_are_each_recorded_once(
    harness: Harness,
) -> None:
    cert = await delivered(harness, coverage=Coverage.TIME_FRAME, quantity_kg=QUANTITY_KG)
    workflow_id = certificate_workflow_id(cert)
    first_run_id = (await harness.handle(cert).describe()).run_id
    importer = await harness.actor("importer@demo.test")
    on = await today(harness)

    started = time.monotonic()
    for start in range(0, ENTRIES, BATCH):
        results = await asyncio.gather(
            *(
                record(harness, cert, entry(f"E{n:05d}", kg=kg(n), on=on), importer)
                for n in range(start, start + BATCH)
            )
        )
        assert not any(r.repeat for r in results)
    elapsed = time.monotonic() - started
    print(f"\n{ENTRIES} entries in {elapsed:.1f} s ({elapsed / ENTRIES * 1000:.1f} ms each)")  # noqa: T201

    expected_left = Decimal(QUANTITY_KG - sum(kg(n) for n in range(ENTRIES)))
    # Entries of the first run are still known to the last one.
    repeats = await asyncio.gather(
        *(record(harness, cert, entry(f"E{n:05d}", kg=1)) for n in (0, 1, 2500, ENTRIES - 1))
    )
    assert all(r.repeat and r.remaining_kg == expected_left for r in repeats)
    following = await record(harness, cert, entry("LAST", kg=1))
    assert (following.repeat, following.remaining_kg) == (False, expected_left - 1)

    assert await runs_of(harness, workflow_id, first_run_id or "") >= 3
    description = await harness.handle(cert).describe()
    assert description.status is WorkflowExecutionStatus.RUNNING
    assert description.run_id != first_run_id
    rows = await customs_entries(harness, cert)
    assert len(rows) == len({(r.entry_number, r.line_number) for r in rows}) == ENTRIES + 1
    row = await harness.certificate(cert)
    assert row is not None
    assert (row.status, row.remaining_kg) == ("delivered", expected_left - 1)
    assert (await harness.actions(cert)).count("entry_recorded") == ENTRIES + 1
