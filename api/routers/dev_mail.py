"""`/dev/mail`: the mails the dev SMTP sink stored as .eml files, newest first (dev only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import escape
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep
from domain.errors import NotFound

router = APIRouter(prefix="/dev/mail", tags=["dev"], include_in_schema=False)

# Only names the sink writes: no separators, no leading dot, so no way out of the folder.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*\.eml$")
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem}} td,th{{padding:.3rem .8rem;text-align:left}}
pre{{white-space:pre-wrap;background:#f6f6f6;padding:1rem}}
iframe{{width:100%;height:40rem;border:1px solid #ccc}}
</style>
</head><body>{body}</body></html>"""


@dataclass(frozen=True)
class StoredMail:
    name: str
    message: EmailMessage

    def header(self, name: str) -> str:
        return str(self.message.get(name, ""))


def _read(path: Path) -> StoredMail:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return StoredMail(path.name, message)


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=escape(title), body=body))


@router.get("", response_class=HTMLResponse)
async def list_mail(settings: SettingsDep) -> HTMLResponse:
    folder = settings.mail_dir
    paths = [p for p in folder.glob("*.eml") if SAFE_NAME.match(p.name)] if folder.is_dir() else []
    paths.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    rows = []
    for path in paths:
        mail = _read(path)
        to = mail.header("To") or mail.header("X-Envelope-To")
        rows.append(
            f'<tr><td><a href="/dev/mail/{escape(mail.name)}">{escape(mail.header("Subject"))}</a>'
            f"</td><td>{escape(to)}</td><td>{escape(mail.header('Date'))}</td></tr>"
        )
    table = (
        "<table><tr><th>Subject</th><th>To</th><th>Date</th></tr>" + "".join(rows) + "</table>"
        if rows
        else "<p>No mail yet.</p>"
    )
    return _page("Mail", f"<h1>Mail sent by NOP-IC ({len(rows)})</h1>{table}")


@router.get("/{name}", response_class=HTMLResponse)
async def show_mail(name: str, settings: SettingsDep) -> HTMLResponse:
    folder = settings.mail_dir.resolve()
    path = (folder / name).resolve()
    if not SAFE_NAME.match(name) or path.parent != folder or not path.is_file():
        raise NotFound("no such mail", code="mail_not_found")
    mail = _read(path)
    headers = "".join(
        f"<tr><th>{h}</th><td>{escape(mail.header(h))}</td></tr>"
        for h in ("Subject", "From", "To", "Date", "Message-ID")
    )
    parts = []
    text = mail.message.get_body(preferencelist=("plain",))
    if isinstance(text, EmailMessage):
        parts.append(f"<pre>{escape(text.get_content())}</pre>")
    html = mail.message.get_body(preferencelist=("html",))
    if isinstance(html, EmailMessage):
        # Sandboxed: the mail's HTML can neither run scripts nor reach this page.
        parts.append(f'<iframe sandbox srcdoc="{escape(html.get_content())}"></iframe>')
    body = f'<p><a href="/dev/mail">All mail</a></p><table>{headers}</table>{"".join(parts)}'
    return _page(mail.header("Subject") or name, body)
