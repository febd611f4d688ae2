"""The dev SMTP sink (DESIGN 7): every message it receives becomes an .eml file.

A message is one file, however often it arrives: the worker sends a mail again, with the same
Message-ID, when it was killed in the instant between the server's acceptance and the outbox
recording it sent (no SMTP client can close that window). Like a mailbox that drops repeats by
Message-ID, the sink keeps the first copy and answers the repeat 250, so the sender stops.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from email import message_from_bytes
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

logger = logging.getLogger(__name__)


class MailFolderHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: ARG002
        content: bytes = envelope.original_content or envelope.content
        # The envelope recipients are not always in the headers (Bcc): keep them visible.
        header = "".join(f"X-Envelope-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos).encode()
        message_id = message_from_bytes(content).get("Message-ID", "")
        key = hashlib.sha256(message_id.encode()).hexdigest()[:16] if message_id else None
        if key is not None and any(self.folder.glob(f"*-{key}.eml")):
            logger.info("mail %s received again: kept once", message_id)
            return "250 Message accepted for delivery (a repeat, kept once)"
        suffix = key or uuid.uuid4().hex[:16]
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{suffix}.eml"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(header + content)
        tmp.rename(self.folder / name)  # readers never see half a file
        return "250 Message accepted for delivery"


def start_mail_sink(folder: Path, host: str, port: int) -> Controller:
    controller = Controller(MailFolderHandler(folder), hostname=host, port=port)
    controller.start()
    return controller
