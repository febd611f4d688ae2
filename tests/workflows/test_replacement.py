"""Replacement (R6): the issuing certifier's correction is a new certificate with its own
workflow and number, linked both ways; the original becomes `replaced`.

A server of its own: the replacement is a child that outlives its parent, which upsets the
test server's time skipping for whatever runs after it (see `Harness.start_certificates`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import delete
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.numbering import parse_number
from persistence.models import Certificate
from tests.workflows.issuing import IMPORTERS, delivered, outbox, reaches
from tests.workflows.support import Harness, time_skipping_server
from tests.workflows.test_customs import refusal_code
from tests.workflows.test_review import refusal
from workflows.contracts import (
    REPLACE,
    SA_STATUS,
    CertificateChanges,
    ReplaceInput,
    ReplaceResult,
    certificate_workflow_id,
)


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_server() as environment:
        yield environment


async def replace(harness: Harness, cert: str, payload: ReplaceInput) -> ReplaceResult:
    result: ReplaceResult = await harness.handle(cert).execute_update(
        REPLACE, payload, id=f"replace-{cert}", result_type=ReplaceResult
    )
    harness.started.append(certificate_workflow_id(result.replacement_id))
    return result


async def test_a_replacement_is_issued_with_its_own_number_and_the_original_is_replaced(
    harness: Harness,
) -> None:
    original = await delivered(harness)
    carmen = await harness.actor("certifier@demo.test")
    changes = CertificateChanges(quantity_kg=Decimal(15000), lot_numbers=["L-9", "L-10"])

    result = await replace(
        harness, original, ReplaceInput(actor=carmen, changes=changes, reason="Weighbridge")
    )

    assert (result.certificate_id, result.status) == (original, "replaced")
    assert await harness.handle(original).result() == "replaced"
    new = result.replacement_id
    await reaches(harness, new, "delivered")
    old_row, new_row = await harness.certificate(original), await harness.certificate(new)
    assert old_row is not None
    assert new_row is not None
    assert (old_row.status, old_row.replaced_by_id, old_row.quantity_kg) == (
        "replaced",
        new,
        Decimal(18000),
    )
    assert (new_row.replaces_id, new_row.revision, new_row.request_id) == (
        original,
        1,
        old_row.request_id,
    )
    assert (new_row.quantity_kg, new_row.remaining_kg, new_row.lot_numbers) == (
        Decimal(15000),
        Decimal(15000),
        ["L-9", "L-10"],
    )
    assert (new_row.hts_code, new_row.valid_until) == (old_row.hts_code, old_row.valid_until)
    assert new_row.number != old_row.number
    assert parse_number(new_row.number or "")[2] == parse_number(old_row.number or "")[2] + 1

    replaced = (await harness.events(original))[-1]
    assert (replaced.action, replaced.from_status, replaced.actor_id) == (
        "replaced",
        "delivered",
        carmen.user_id,
    )
    assert replaced.detail["replacement_id"] == new
    first, *_ = await harness.events(new)
    assert (first.action, first.to_status, first.actor_id, first.detail) == (
        "replacement_created",
        "approved",
        carmen.user_id,
        {"replaces_id": original, "reason": "Weighbridge"},
    )
    assert await harness.actions(new) == [
        "replacement_created",
        "issued",
        "delivered",
    ]
    description = await harness.handle(new).describe()
    assert description.status is WorkflowExecutionStatus.RUNNING
    assert description.parent_id == certificate_workflow_id(original)
    assert description.typed_search_attributes.get(SA_STATUS) == "delivered"

    # The importer hears of the replacement, then gets the new certificate with its document.
    await harness.smtp.wait_for(7)
    to_importer = [m.message for m in harness.smtp.received if m.rcpt_tos == IMPORTERS]
    subjects = [str(m["Subject"]) for m in to_importer]
    assert subjects[1].startswith(f"Certificate {old_row.number} replaced")
    assert subjects[2].startswith(f"NOP Import Certificate {new_row.number}")
    assert [a.get_filename() for a in to_importer[2].iter_attachments()] == [
        f"{new_row.number}.pdf"
    ]
    assert len({row.key for row in await outbox(harness, new)}) == 2
    await harness.assert_replays(certificate_workflow_id(original), certificate_workflow_id(new))


async def test_only_the_issuing_certifier_replaces_and_only_with_valid_changes(
    harness: Harness,
) -> None:
    cert = await delivered(harness)
    carmen = await harness.actor("certifier@demo.test")
    exporter = await harness.actor("exporter@demo.test")
    refusals = {
        "exporter": ReplaceInput(actor=exporter, changes=CertificateChanges(), reason="mine"),
        "no reason": ReplaceInput(actor=carmen, changes=CertificateChanges(), reason=""),
        "zero kg": ReplaceInput(
            actor=carmen, changes=CertificateChanges(quantity_kg=Decimal(0)), reason="typo"
        ),
        "bad code": ReplaceInput(
            actor=carmen, changes=CertificateChanges(hts_code="0804"), reason="typo"
        ),
    }
    codes = {}
    for name, payload in refusals.items():
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await harness.handle(cert).execute_update(REPLACE, payload, result_type=ReplaceResult)
        codes[name] = refusal_code(caught)

    assert codes == {
        "exporter": ("Forbidden", "forbidden"),
        "no reason": ("Invalid", "reason_required"),
        "zero kg": ("Invalid", "invalid_quantity"),
        "bad code": ("Invalid", "invalid_hts_code"),
    }
    assert await harness.status(cert) == "delivered"
    assert (await harness.certificate(cert)).replaced_by_id is None  # type: ignore[union-attr]


async def test_a_replacement_that_cannot_be_created_changes_nothing(harness: Harness) -> None:
    """R6 all or nothing: the database refuses the replacement's row (here a row already holds
    its revision of the request line), so the original stays as it was and nobody is told."""
    cert = await delivered(harness)
    carmen = await harness.actor("certifier@demo.test")
    blocker = await hold_next_revision(harness, cert)
    payload = ReplaceInput(
        actor=carmen, changes=CertificateChanges(quantity_kg=Decimal(9000)), reason="Weighbridge"
    )

    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await harness.handle(cert).execute_update(REPLACE, payload, result_type=ReplaceResult)

    assert refusal_code(caught) == ("Conflict", "replacement_failed")
    assert "unchanged" in str(refusal(caught.value).message)
    row = await harness.certificate(cert)
    assert row is not None
    assert (row.status, row.replaced_by_id) == ("delivered", None)
    assert "replaced" not in await harness.actions(cert)
    assert not [row.key for row in await outbox(harness, cert) if "replaced" in row.key]
    description = await harness.handle(cert).describe()
    assert description.typed_search_attributes.get(SA_STATUS) == "delivered"

    # Once the database takes it, the same command goes through.
    await release_revision(harness, blocker)
    result = await replace(harness, cert, payload)
    assert result.status == "replaced"
    await reaches(harness, result.replacement_id, "delivered")
    await harness.assert_replays(certificate_workflow_id(cert))


async def hold_next_revision(harness: Harness, cert: str) -> str:
    """A row in the place the replacement's row must take: (request, line, revision + 1)."""
    async with harness.sessions() as session, session.begin():
        original = await session.get(Certificate, cert)
        assert original is not None
        blocker = Certificate(
            **{
                column.key: getattr(original, column.key)
                for column in Certificate.__table__.columns
                if column.key not in ("id", "number", "verification_code")
            }
        )
        blocker.id, blocker.revision = str(uuid.uuid4()), original.revision + 1
        session.add(blocker)
        return blocker.id


async def release_revision(harness: Harness, blocker: str) -> None:
    async with harness.sessions() as session, session.begin():
        await session.execute(delete(Certificate).where(Certificate.id == blocker))
