"""`/dev/mail`: the mails the dev SMTP sink stored as .eml files, newest first (dev only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep
from api.web.rendering import PageRoute, render
from domain.errors import NotFound

router = APIRouter(prefix="/dev/mail", tags=["dev"], route_class=PageRoute, include_in_schema=False)

# Only names the sink writes: no separators, no leading dot, so no way out of the folder.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*\.eml$")
SHOWN_HEADERS = ("Subject", "From", "To", "Date", "Message-ID")


@dataclass(frozen=True)
class StoredMail:
    name: str
    message: EmailMessage

    def header(self, name: str) -> str:
        return str(self.message.get(name, ""))

    def attachments(self) -> list[EmailMessage]:
        return [part for part in self.message.iter_attachments() if isinstance(part, EmailMessage)]


def _read(path: Path) -> StoredMail:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return StoredMail(path.name, message)


@router.get("", response_class=HTMLResponse)
async def list_mail(settings: SettingsDep) -> HTMLResponse:
    folder = settings.mail_dir
    paths = [p for p in folder.glob("*.eml") if SAFE_NAME.match(p.name)] if folder.is_dir() else []
    paths.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    return render("dev_mail.html", mails=[_read(path) for path in paths])


def _stored(name: str, settings: SettingsDep) -> StoredMail:
    folder = settings.mail_dir.resolve()
    path = (folder / name).resolve()
    if not SAFE_NAME.match(name) or path.parent != folder or not path.is_file():
        raise NotFound("no such mail", code="mail_not_found")
    return _read(path)


@router.get("/{name}", response_class=HTMLResponse)
async def show_mail(name: str, settings: SettingsDep) -> HTMLResponse:
    mail = _stored(name, settings)
    text = mail.message.get_body(preferencelist=("plain",))
    html = mail.message.get_body(preferencelist=("html",))
    return render(
        "dev_mail_message.html",
        mail=mail,
        headers=[(header, mail.header(header)) for header in SHOWN_HEADERS],
        text=text.get_content() if isinstance(text, EmailMessage) else None,
        # Shown in a sandboxed frame: the mail's HTML can neither run scripts nor reach the page.
        html=html.get_content() if isinstance(html, EmailMessage) else None,
        attachments=[
            (index, part.get_filename() or f"attachment-{index}", part.get_content_type())
            for index, part in enumerate(mail.attachments())
        ],
    )


@router.get("/{name}/attachments/{index}")
async def download_attachment(name: str, index: int, settings: SettingsDep) -> Response:
    attachments = _stored(name, settings).attachments()
    if not 0 <= index < len(attachments):
        raise NotFound("no such attachment", code="attachment_not_found")
    part = attachments[index]
    filename = part.get_filename() or f"attachment-{index}"
    payload = part.get_payload(decode=True)
    return Response(
        payload if isinstance(payload, bytes) else b"",
        media_type=part.get_content_type(),
        # Always a download, never rendered on this site's origin.
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
