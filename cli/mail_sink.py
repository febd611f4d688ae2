"""The dev SMTP sink (DESIGN 7): every message it receives becomes an .eml file."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class MailFolderHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: ARG002
        content: bytes = envelope.original_content or envelope.content
        # The envelope recipients are not always in the headers (Bcc): keep them visible.
        header = "".join(f"X-Envelope-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos).encode()
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(header + content)
        tmp.rename(self.folder / name)  # readers never see half a file
        return "250 Message accepted for delivery"


def start_mail_sink(folder: Path, host: str, port: int) -> Controller:
    controller = Controller(MailFolderHandler(folder), hostname=host, port=port)
    controller.start()
    return controller
