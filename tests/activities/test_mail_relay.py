"""Mail to a real relay as production configures it: the account's credentials are sent, and the
TLS mode asked for is required, never silently skipped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.mail import MailActivities, SmtpTls
from tests.activities.test_mail import new_task_mail
from tests.conftest import SmtpServer, _RecordingHandler, free_port

USERNAME, PASSWORD = "nopic-relay", "relay-password-1"
# AUTH without TLS is what these tests need on loopback; aiosmtpd rightly warns of it elsewhere.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Accounts:
    """The relay's one account; every login tried, as the relay saw it."""

    def __init__(self) -> None:
        self.tried: list[tuple[str, str]] = []

    def __call__(
        self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login = (data.login.decode(), data.password.decode())
        self.tried.append(login)
        # handled=False: aiosmtpd then answers a refusal with 535 itself.
        return AuthResult(success=login == (USERNAME, PASSWORD), handled=False)


@pytest.fixture
def relay() -> Iterator[tuple[SmtpServer, Accounts]]:
    """A relay that takes mail from its account only (AUTH in plaintext: loopback)."""
    server, accounts = SmtpServer(host="127.0.0.1", port=free_port()), Accounts()
    controller = Controller(
        _RecordingHandler(server),
        hostname=server.host,
        port=server.port,
        authenticator=accounts,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield server, accounts
    controller.stop()


def mailer(
    sessions: async_sessionmaker[AsyncSession],
    server: SmtpServer,
    *,
    tls: SmtpTls = "none",
    username: str = "",
    password: str = "",
) -> MailActivities:
    return MailActivities(
        sessions,
        smtp_host=server.host,
        smtp_port=server.port,
        smtp_timeout=2,
        mail_from="NOP-IC <no-reply@nopic.test>",
        public_url="https://nopic.test/",
        smtp_tls=tls,
        smtp_username=username,
        smtp_password=password,
    )


async def test_the_relay_account_logs_in_and_the_mail_goes(sessions, relay) -> None:
    server, accounts = relay
    mail = mailer(sessions, server, username=USERNAME, password=PASSWORD)

    assert await mail.send_mail(new_task_mail()) is True

    assert accounts.tried == [(USERNAME, PASSWORD)]
    [received] = server.received
    assert received.rcpt_tos == ["certifier2@demo.test", "certifier@demo.test"]


async def test_a_wrong_password_is_refused_and_nothing_goes(sessions, relay) -> None:
    server, accounts = relay
    mail = mailer(sessions, server, username=USERNAME, password="not-the-password")

    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await mail.send_mail(new_task_mail())

    # Each mechanism the relay offers is tried (PLAIN, then LOGIN), with the same account.
    assert set(accounts.tried) == {(USERNAME, "not-the-password")}
    assert server.received == []


async def test_without_credentials_the_relay_refuses(sessions, relay) -> None:
    server, accounts = relay

    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await mailer(sessions, server).send_mail(new_task_mail())

    assert refused.value.code == 530  # authentication required
    assert accounts.tried == []


@pytest.mark.parametrize("tls", ["starttls", "tls"])
async def test_tls_asked_for_is_required_of_a_plaintext_relay(
    sessions, relay, tls: SmtpTls
) -> None:
    # This relay offers no TLS at all: the password must not go in clear instead.
    server, accounts = relay
    mail = mailer(sessions, server, tls=tls, username=USERNAME, password=PASSWORD)

    with pytest.raises((aiosmtplib.SMTPException, OSError)):
        await mail.send_mail(new_task_mail())

    assert accounts.tried == []
    assert server.received == []
