"""send_mail: the outbox makes a retried activity send once, whatever SMTP did (DESIGN 4.3)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.documents import DocumentActivities
from activities.mail import MailActivities
from activities.projection import ProjectionActivities
from domain.model import Role
from domain.signing import generate_private_key_pem
from persistence.models import CertificateDocument, OutboxMessage
from tests.conftest import SmtpServer, _RecordingHandler, free_port
from tests.workflows.support import request_input
from workflows.payloads import AllocateNumberInput, MailInput, RenderDocumentInput

CONTEXT = {
    "product_name": "Hass avocados",
    "hts_code": "0804400020",
    "quantity_kg": "18000",
    "exporter_id": "5550000001",
    "importer_id": "5550000002",
    "due_at": "2026-12-08 10:00 UTC",
    "flags": "",
}


def mailer(sessions: async_sessionmaker[AsyncSession], host: str, port: int) -> MailActivities:
    return MailActivities(
        sessions,
        smtp_host=host,
        smtp_port=port,
        smtp_timeout=2,
        mail_from="NOP-IC <no-reply@nopic.test>",
        public_url="http://nopic.test/",
    )


def new_task_mail(key: str = "certificate-c1:2:review_task_created", **changes: str) -> MailInput:
    fields = {"organisation_id": "555", "role": Role.CERTIFIER} | changes
    return MailInput(
        key=key,
        template="review_task_created",
        certificate_id=None,
        context=CONTEXT,
        **fields,
    )


async def outbox(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def test_the_same_key_twice_sends_one_message(sessions, smtp_server: SmtpServer) -> None:
    mail = mailer(sessions, smtp_server.host, smtp_server.port)

    assert await mail.send_mail(new_task_mail()) is True
    assert await mail.send_mail(new_task_mail()) is False

    [received] = smtp_server.received
    assert received.rcpt_tos == ["certifier2@demo.test", "certifier@demo.test"]
    digest = hashlib.sha256(b"certificate-c1:2:review_task_created").hexdigest()[:40]
    assert received.message["Message-ID"] == f"<{digest}@nopic.test>"
    assert received.message["Subject"] == (
        "New review task: Hass avocados (0804400020), due 2026-12-08 10:00 UTC"
    )
    assert "http://nopic.test/tasks" in received.message.get_content()
    [row] = await outbox(sessions)
    assert (row.attempts, row.sent_at is not None) == (1, True)


async def test_smtp_down_fails_the_attempt_and_the_retry_sends_one_message(sessions) -> None:
    server = SmtpServer(host="127.0.0.1", port=free_port())
    mail = mailer(sessions, server.host, server.port)

    with pytest.raises((aiosmtplib.SMTPException, OSError)):
        await mail.send_mail(new_task_mail())
    [pending] = await outbox(sessions)
    assert pending.sent_at is None

    controller = Controller(_RecordingHandler(server), hostname=server.host, port=server.port)
    controller.start()
    try:
        assert await mail.send_mail(new_task_mail()) is True
        assert await mail.send_mail(new_task_mail()) is False
    finally:
        controller.stop()

    assert len(server.received) == 1
    [row] = await outbox(sessions)
    assert (row.attempts, row.message_id) == (2, pending.message_id)
    assert row.sent_at is not None


async def test_nobody_to_tell_is_recorded_and_nothing_sent(
    sessions, smtp_server: SmtpServer
) -> None:
    mail = mailer(sessions, smtp_server.host, smtp_server.port)

    # The importer's organisation has no certifiers.
    assert await mail.send_mail(new_task_mail(organisation_id="5550000002")) is False

    assert smtp_server.received == []
    [row] = await outbox(sessions)
    assert (row.recipients, row.sent_at, row.attempts) == ([], None, 0)


async def test_a_missing_template_is_a_non_retryable_failure(
    sessions, smtp_server: SmtpServer
) -> None:
    mail = mailer(sessions, smtp_server.host, smtp_server.port)
    broken = new_task_mail().model_copy(update={"template": "no_such_template"})

    with pytest.raises(ApplicationError) as caught:
        await mail.send_mail(broken)

    assert (caught.value.type, caught.value.non_retryable) == ("MailTemplateInvalid", True)
    assert await outbox(sessions) == []


async def issued_certificate(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    """A recorded certificate with its number and signed document, as issuance leaves it."""
    request = request_input()
    await ProjectionActivities(sessions).record_request(request)
    certificate_id = request.lines[0].certificate_id
    documents = DocumentActivities(sessions, generate_private_key_pem(), "http://nopic.test")
    number = await documents.allocate_number(AllocateNumberInput(certificate_id=certificate_id))
    await documents.render_document(
        RenderDocumentInput(certificate_id=certificate_id, issued_at=datetime.now(UTC))
    )
    return certificate_id, number.number


def certificate_mail(certificate_id: str, number: str) -> MailInput:
    return MailInput(
        key=f"certificate-{certificate_id}:6:certificate_issued:importer",
        template="certificate_issued",
        organisation_id="5550000002",
        role=Role.IMPORTER,
        certificate_id=certificate_id,
        context=CONTEXT
        | {"number": number, "coverage": "single shipment"}
        | {"valid_from": "2026-12-01", "valid_until": "2026-12-31"},
        attach_document=True,
    )


async def test_the_certificate_mail_carries_the_signed_pdf_and_is_sent_once_after_a_failure(
    sessions,
) -> None:
    certificate_id, number = await issued_certificate(sessions)
    server = SmtpServer(host="127.0.0.1", port=free_port())
    mail = mailer(sessions, server.host, server.port)

    with pytest.raises((aiosmtplib.SMTPException, OSError)):
        await mail.send_mail(certificate_mail(certificate_id, number))
    controller = Controller(_RecordingHandler(server), hostname=server.host, port=server.port)
    controller.start()
    try:
        assert await mail.send_mail(certificate_mail(certificate_id, number)) is True
        assert await mail.send_mail(certificate_mail(certificate_id, number)) is False
    finally:
        controller.stop()

    [received] = server.received
    assert received.rcpt_tos == ["importer@demo.test"]
    message = received.message
    assert str(message["Subject"]).startswith(f"NOP Import Certificate {number}")
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert f"http://nopic.test/api/certificates/{certificate_id}\r\n" in text
    assert f"http://nopic.test/api/certificates/{certificate_id}/document.pdf" in text
    [attachment] = message.iter_attachments()
    async with sessions() as session:
        document = await session.get(CertificateDocument, certificate_id)
    assert document is not None
    assert attachment.get_filename() == f"{number}.pdf"
    assert attachment.get_content() == document.pdf
    [row] = await outbox(sessions)
    assert row.attempts == 2


async def test_a_certificate_mail_without_a_document_fails_for_good(
    sessions, smtp_server: SmtpServer
) -> None:
    request = request_input()
    await ProjectionActivities(sessions).record_request(request)
    mail = mailer(sessions, smtp_server.host, smtp_server.port)

    with pytest.raises(ApplicationError) as caught:
        await mail.send_mail(certificate_mail(request.lines[0].certificate_id, "none"))

    assert (caught.value.type, caught.value.non_retryable) == ("DocumentMissing", True)
    assert smtp_server.received == []


class _SlowHandler(_RecordingHandler):
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.5)
        return await super().handle_DATA(server, session, envelope)


async def test_a_slow_send_heartbeats_so_a_dead_worker_is_noticed_early(
    sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("activities.mail.HEARTBEAT_EVERY", 0.05)
    server = SmtpServer(host="127.0.0.1", port=free_port())
    controller = Controller(_SlowHandler(server), hostname=server.host, port=server.port)
    controller.start()
    beats: list[object] = []
    environment = ActivityEnvironment()
    environment.on_heartbeat = lambda *details: beats.append(details)
    try:
        sent = await environment.run(
            mailer(sessions, server.host, server.port).send_mail, new_task_mail()
        )
    finally:
        controller.stop()

    assert sent is True
    assert len(server.received) == 1
    assert len(beats) >= 3
