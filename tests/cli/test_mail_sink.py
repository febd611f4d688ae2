"""The dev mail sink keeps one file per message, however often it arrives (cli/mail_sink.py)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from cli.mail_sink import start_mail_sink
from tests.conftest import free_port


def message(message_id: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "nopic@demo.test", "importer@demo.test", "Hi"
    mail["Message-ID"] = message_id
    mail.set_content("The certificate is attached.")
    return mail


async def test_a_message_sent_again_with_its_message_id_is_kept_once(tmp_path: Path) -> None:
    port = free_port()
    sink = start_mail_sink(tmp_path, "127.0.0.1", port)
    try:
        for message_id in ("<a@nopic>", "<a@nopic>", "<b@nopic>"):
            await aiosmtplib.send(message(message_id), hostname="127.0.0.1", port=port)
    finally:
        sink.stop()

    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 2
    ids = sorted(line for f in files for line in f.read_text().splitlines() if "Message-ID" in line)
    assert ids == ["Message-ID: <a@nopic>", "Message-ID: <b@nopic>"]
