"""Mail through the outbox: each message rendered once, sent at most once per key (DESIGN 4.3).

Templates live in `templates/email/<template>.txt`, one file per mail: the first line is
`Subject: ...`, the rest (after one blank line) is the plain-text body. They are rendered with
the `MailInput.context` plus `public_url`, `certificate_url`, `certificate_api_url`,
`document_url` and `tasks_url`.

A mail with `attach_document` carries the certificate's signed PDF as `<number>.pdf`. The
document is read at each attempt, not kept in the outbox: an issued document never changes
(R6), so every attempt sends the same bytes.

The outbox row is written before the first attempt and holds the rendered message and its
recipients, so a retry sends exactly what the first attempt meant to send, with the same
Message-ID. Once `sent_at` is set nothing is sent again; a crash between the SMTP reply and that
write can resend one copy, which receivers drop by Message-ID.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Coroutine
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Literal, TypeVar

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.failures import describe, is_transient
from activities.uncancelled import to_the_end
from persistence.db import transaction
from persistence.models import CertificateDocument, OutboxMessage
from persistence.repositories import UserRepository
from workflows.contracts import DELIVER_ACTIVITY, SEND_MAIL_ACTIVITY
from workflows.payloads import DeliveryInput, DeliveryOutcome, MailInput

# Headers are not folded: Python's folder turns a long subject with a colon into one that
# starts with a space once unfolded. Our subjects stay far below the 998-character limit.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)

DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
# Far below the 998 characters a header line may have (RFC 5322 2.1.1).
MAX_SUBJECT = 250
# Counters on the worker's `/metrics` (cli.telemetry), named as Prometheus names counters.
MAILS_SENT = "nopic_mails_sent_total"
MAIL_FAILURES = "nopic_mail_failures_total"
# Well inside the heartbeat timeout the workflows give this activity (workflows._activities).
HEARTBEAT_EVERY = 2.0

T = TypeVar("T")
SmtpTls = Literal["none", "starttls", "tls"]


async def heartbeating(work: Coroutine[Any, Any, T]) -> T:
    """`work`, telling Temporal every few seconds that this worker is still at it.

    A worker killed mid-send is then noticed at the heartbeat timeout, seconds, instead of at
    the start-to-close timeout; and a cancelled delivery reaches the activity, which Temporal
    only tells activities that heartbeat.
    """
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
            if done:
                return task.result()
            # A local activity (a mail tried inside a workflow task) has no heartbeat.
            if activity.in_activity() and not activity.info().is_local:
                activity.heartbeat()
    finally:
        task.cancel()


def count(name: str, description: str, mail: MailInput) -> None:
    """Add one to the counter `name` of the mail's template, on the worker's `/metrics`.

    Through the SDK's meter, so our series are served beside the SDK's own; outside an activity
    (a test calling the class directly) there is nothing to count on.
    """
    if activity.in_activity():
        counter = activity.metric_meter().create_counter(name, description)
        counter.add(1, {"template": mail.template})


def one_line(text: str) -> str:
    """A header value from stored text: any run of white space or control characters becomes
    one space, so no value can break a header or start a new one."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split())[:MAX_SUBJECT]


class MailActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        smtp_host: str,
        smtp_port: int,
        smtp_timeout: float,
        mail_from: str,
        public_url: str,
        smtp_tls: SmtpTls = "none",
        smtp_username: str = "",
        smtp_password: str = "",
        templates_dir: Path = DEFAULT_TEMPLATES,
    ) -> None:
        self.sessions = sessions
        self.smtp_host = smtp_host
        self.smtp_port = smtp_port
        self.smtp_timeout = smtp_timeout
        self.smtp_tls = smtp_tls
        self.smtp_username = smtp_username
        self.smtp_password = smtp_password
        self.mail_from = mail_from
        self.public_url = public_url.rstrip("/")
        self.templates = Environment(
            loader=FileSystemLoader(templates_dir),
            undefined=StrictUndefined,
            autoescape=False,  # plain-text mail: nothing here is HTML # nosec B701
            keep_trailing_newline=True,
        )

    @activity.defn(name=SEND_MAIL_ACTIVITY)
    async def send_mail(self, mail: MailInput) -> bool:
        """True when a message went out in this call; False when sent before or nobody to tell."""
        return await heartbeating(self._send(mail))

    @activity.defn(name=DELIVER_ACTIVITY)
    async def deliver(self, delivery: DeliveryInput) -> DeliveryOutcome:
        """The importer's mail, then the exporter's copy. The importer's failing fails the
        activity (retried while transient); a copy that can never go is told in the outcome,
        since the importer has the document. A retry sends neither twice (the outbox)."""
        return await heartbeating(self._deliver(delivery))

    async def _deliver(self, delivery: DeliveryInput) -> DeliveryOutcome:
        await self._send(delivery.delivery)
        if delivery.exporter_copy is None:
            return DeliveryOutcome()
        try:
            await self._send(delivery.exporter_copy)
        except ApplicationError as exc:
            return DeliveryOutcome(copy_failure=exc.message)
        except Exception as exc:
            if is_transient(exc):
                raise
            return DeliveryOutcome(copy_failure=describe(exc))
        return DeliveryOutcome()

    async def _send(self, mail: MailInput) -> bool:
        try:
            return await self._attempt(mail)
        except Exception:
            count(MAIL_FAILURES, "Attempts to send a mail that failed, by template.", mail)
            raise

    async def _attempt(self, mail: MailInput) -> bool:
        # The outbox transactions finish even if the attempt is cancelled (activities.uncancelled).
        row = await to_the_end(self._outbox_row(mail))
        if row.sent_at is not None or not row.recipients:
            return False
        message = self._message(row)
        if mail.attach_document:
            await self._attach_document(message, mail)
        # Flattened here: aiosmtplib would flatten with its own policy, which folds. A refusal
        # is retried or not by its reply code (activities.failures), never by its text.
        await aiosmtplib.send(
            message.as_bytes(policy=MAIL_POLICY),
            sender=parseaddr(self.mail_from)[1],
            recipients=row.recipients,
            hostname=self.smtp_host,
            port=self.smtp_port,
            timeout=self.smtp_timeout,
            # `none` is plaintext for sure: aiosmtplib would otherwise try STARTTLS whenever
            # the server offers it, and fail on a private relay's self-made certificate.
            use_tls=self.smtp_tls == "tls",
            start_tls=self.smtp_tls == "starttls",
            username=self.smtp_username or None,
            password=self.smtp_password or None,
        )
        count(MAILS_SENT, "Mails the SMTP server accepted, by template.", mail)
        await to_the_end(self._mark_sent(row))
        return True

    async def _mark_sent(self, row: OutboxMessage) -> None:
        async with transaction(self.sessions) as session:
            sent = await session.get(OutboxMessage, row.id)
            assert sent is not None
            sent.sent_at = datetime.now(UTC)
            sent.attempts = row.attempts

    async def _outbox_row(self, mail: MailInput) -> OutboxMessage:
        async with transaction(self.sessions) as session:
            row = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == mail.key))
            if row is None:
                recipients = await UserRepository(session).recipients(
                    mail.organisation_id, mail.role
                )
                subject, body = self._render(mail)
                row = OutboxMessage(
                    key=mail.key,
                    message_id=self._message_id(mail.key),
                    recipients=recipients,
                    subject=subject,
                    body=body,
                    certificate_id=mail.certificate_id,
                    created_at=datetime.now(UTC),
                    sent_at=None,
                    attempts=0,
                )
                session.add(row)
            if row.sent_at is None and row.recipients:
                row.attempts += 1
            await session.flush()
            return row

    async def _attach_document(self, message: EmailMessage, mail: MailInput) -> None:
        document = None
        if mail.certificate_id is not None:
            async with self.sessions() as session:
                document = await session.get(CertificateDocument, mail.certificate_id)
        if document is None:
            # The workflow renders the document before it asks for this mail: a bug, not a blip.
            raise ApplicationError(
                f"{mail.key} asks for the document of a certificate that has none",
                type="DocumentMissing",
                non_retryable=True,
            )
        message.add_attachment(
            document.pdf, maintype="application", subtype="pdf", filename=f"{document.number}.pdf"
        )

    def _render(self, mail: MailInput) -> tuple[str, str]:
        context: dict[str, str] = {
            "public_url": self.public_url,
            "tasks_url": f"{self.public_url}/tasks",
            "certificate_url": self.public_url,
            **mail.context,
        }
        if mail.certificate_id is not None:
            context.setdefault("certificate_id", mail.certificate_id)
            context["certificate_url"] = f"{self.public_url}/certificates/{mail.certificate_id}"
            api_url = f"{self.public_url}/api/certificates/{mail.certificate_id}"
            context["certificate_api_url"] = api_url
            context["document_url"] = f"{api_url}/document.pdf"
        try:
            text = self.templates.get_template(f"{mail.template}.txt").render(context)
        except TemplateError as exc:
            # A missing template or variable is a bug in a release: no retry fixes it.
            raise ApplicationError(
                f"mail template {mail.template!r}: {exc}",
                type="MailTemplateInvalid",
                non_retryable=True,
            ) from exc
        first, _, body = text.partition("\n")
        if not first.startswith("Subject:"):
            raise ApplicationError(
                f"mail template {mail.template!r} does not start with 'Subject:'",
                type="MailTemplateInvalid",
                non_retryable=True,
            )
        return one_line(first.removeprefix("Subject:")), body.lstrip("\n")

    def _message_id(self, key: str) -> str:
        domain = parseaddr(self.mail_from)[1].rpartition("@")[2] or "nopic.local"
        return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"

    def _message(self, row: OutboxMessage) -> EmailMessage:
        message = EmailMessage(policy=MAIL_POLICY)
        message["From"] = self.mail_from
        message["To"] = ", ".join(row.recipients)
        message["Subject"] = row.subject
        message["Message-ID"] = row.message_id
        message["Date"] = format_datetime(row.created_at)
        message.set_content(row.body)
        return message
