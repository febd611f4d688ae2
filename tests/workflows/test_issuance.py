"""Issuance and delivery (DESIGN 3, R5): approved -> issued -> delivered, the importer's mail
with the signed PDF, the exporter's copy, acknowledgement, and voiding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.numbering import parse_number
from tests.workflows.issuing import IMPORTERS, delivered, outbox, reaches
from tests.workflows.support import EXPORTERS, Harness
from tests.workflows.test_review import refusal
from workflows.contracts import (
    ACKNOWLEDGE,
    SA_AWAITING,
    SA_STATUS,
    VOID,
    AcknowledgeInput,
    VoidInput,
    certificate_workflow_id,
)


async def test_approval_issues_a_numbered_certificate_and_delivers_it_with_its_pdf(
    harness: Harness,
) -> None:
    cert = await delivered(harness)

    row = await harness.certificate(cert)
    assert row is not None
    assert parse_number(row.number or "") == ("555", "5550000001", 1)
    assert row.verification_code
    assert row.issued_at is not None
    assert (row.remaining_kg, row.quantity_kg) == (Decimal(18000), Decimal(18000))
    assert row.awaiting == "importer"
    events = await harness.events(cert)
    assert [(e.action, e.from_status, e.to_status) for e in events[-3:]] == [
        ("approved", "in_review", "approved"),
        ("issued", "approved", "issued"),
        ("delivered", "issued", "delivered"),
    ]
    assert events[-2].detail["number"] == row.number
    assert events[-2].at >= row.issued_at  # the date printed on the document

    # The review task mail, then the certificate to the importer, then the exporter's copy.
    await harness.smtp.wait_for(3)
    [to_importer] = [m for m in harness.smtp.received if m.rcpt_tos == IMPORTERS]
    message = to_importer.message
    assert str(message["Subject"]).startswith(f"NOP Import Certificate {row.number}")
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert f"/api/certificates/{cert}" in body.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"{row.number}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(b"%PDF")
    [copy] = [m.message for m in harness.smtp.received if m.rcpt_tos == EXPORTERS]
    assert str(copy["Subject"]).startswith(f"Copy: certificate {row.number} issued")
    assert [a.get_content() for a in copy.iter_attachments()] == [attachment.get_content()]
    # Both mails of the delivery go in one activity, keyed by the issuance that queued them;
    # the exporter's copy only once the importer's is out.
    keys = [m.key for m in await outbox(harness, cert)]
    assert keys[-2:] == [
        f"{certificate_workflow_id(cert)}:{events[-2].seq}:certificate_issued:importer",
        f"{certificate_workflow_id(cert)}:{events[-2].seq}:certificate_issued_copy:exporter",
    ]

    attributes = (await harness.handle(cert).describe()).typed_search_attributes
    assert (attributes.get(SA_STATUS), attributes.get(SA_AWAITING)) == ("delivered", "importer")
    await harness.assert_replays(certificate_workflow_id(cert))


async def test_the_named_importer_acknowledges_once_and_nobody_else_can(harness: Harness) -> None:
    cert = await delivered(harness)
    importer = await harness.actor("importer@demo.test")
    stranger = await harness.actor("other.importer@demo.test")

    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await harness.command(cert, ACKNOWLEDGE, AcknowledgeInput(actor=stranger))
    assert refusal(caught.value).type == "Forbidden"

    first = await harness.command(cert, ACKNOWLEDGE, AcknowledgeInput(actor=importer))
    second = await harness.command(cert, ACKNOWLEDGE, AcknowledgeInput(actor=importer))

    assert first.status == second.status == "delivered"  # a flag, not a state
    row = await harness.certificate(cert)
    assert row is not None
    assert (row.acknowledged_by, row.acknowledged_at is not None) == (importer.user_id, True)
    assert (await harness.actions(cert)).count("acknowledged") == 1


async def test_the_issuing_certifier_voids_with_a_reason_and_the_importer_is_told(
    harness: Harness,
) -> None:
    cert = await delivered(harness)
    carmen = await harness.actor("certifier@demo.test")
    exporter = await harness.actor("exporter@demo.test")
    stranger = await harness.actor("other.certifier@demo.test")

    for who, reason, refused in [
        (exporter, "mine", "Forbidden"),
        (stranger, "theirs", "Forbidden"),
        (carmen, " ", "Invalid"),
    ]:
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await harness.command(cert, VOID, VoidInput(actor=who, reason=reason))
        assert refusal(caught.value).type == refused

    voided = await harness.command(cert, VOID, VoidInput(actor=carmen, reason="Wrong lot"))

    assert (voided.status, voided.awaiting) == ("voided", "none")
    assert await harness.handle(cert).result() == "voided"
    assert await harness.status(cert) == "voided"
    last = (await harness.events(cert))[-1]
    assert (last.action, last.from_status, last.detail) == (
        "voided",
        "delivered",
        {"reason": "Wrong lot"},
    )
    await harness.smtp.wait_for(5)
    voids = [m for m in harness.smtp.received if "voided" in str(m.message["Subject"])]
    assert sorted(m.rcpt_tos[0] for m in voids) == ["exporter@demo.test", "importer@demo.test"]
    assert "Wrong lot" in voids[0].message.get_content()
    await reaches(harness, cert, "voided")
