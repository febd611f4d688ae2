"""/healthz, the error body of unknown routes, and the dev mail viewer."""

from __future__ import annotations

import os
from email.message import EmailMessage
from pathlib import Path

import httpx

from api.app import create_app
from config.settings import Settings
from tests.api.conftest import serve, settings_for
from tests.conftest import free_port


async def test_healthz_reports_database_and_temporal(api: httpx.AsyncClient):
    response = await api.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_healthz_connects_to_temporal_on_its_own(settings: Settings):
    async for api in serve(create_app(settings)):
        response = await api.get("/healthz")

    assert response.json() == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_healthz_is_503_naming_temporal_when_it_is_down(database_url: str, tmp_path: Path):
    settings = settings_for(database_url, tmp_path, temporal_address=f"127.0.0.1:{free_port()}")

    async for api in serve(create_app(settings)):
        response = await api.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert (body["database"], body["temporal"], body["code"]) == (
        "ok",
        "unavailable",
        "unavailable",
    )
    assert body["detail"] == "temporal did not answer"


async def test_healthz_is_503_naming_the_database_when_it_is_gone(
    tmp_path: Path, settings: Settings
):
    # A folder where the database file should be: SQLite cannot open it.
    (tmp_path / "gone.db").mkdir()
    broken = settings.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'gone.db'}"}
    )

    async for api in serve(create_app(broken)):
        response = await api.get("/healthz")

    assert response.status_code == 503
    assert (response.json()["database"], response.json()["temporal"]) == ("unavailable", "ok")


async def test_unknown_route_gets_404_in_the_error_shape(api: httpx.AsyncClient):
    response = await api.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found", "code": "not_found"}


async def test_wrong_method_gets_405_in_the_error_shape(api: httpx.AsyncClient):
    response = await api.delete("/api/me")

    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed", "code": "method_not_allowed"}


def write_mail(folder: Path, name: str, subject: str, to: str, mtime: float) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "NOP-IC <no-reply@nopic.local>"
    message["To"] = to
    message["Date"] = "Sat, 28 Nov 2026 10:00:00 +0000"
    message.set_content("A review task is waiting.\n")
    message.add_alternative(
        "<p>A review task is <b>waiting</b>.</p><script>x()</script>", subtype="html"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(message.as_bytes())
    os.utime(path, (mtime, mtime))


async def test_dev_mail_lists_newest_first_and_shows_one(settings: Settings, tmp_path: Path):
    dev = settings.model_copy(update={"env": "dev"})
    write_mail(dev.mail_dir, "20261128-100000-aaaa0001.eml", "Older <mail>", "a@demo.test", 1000)
    write_mail(dev.mail_dir, "20261128-110000-bbbb0002.eml", "Newer mail", "b@demo.test", 2000)
    (tmp_path / "secret.eml").write_text("Subject: not in the mail folder\n\nsecret\n")

    async for api in serve(create_app(dev)):
        listing = await api.get("/dev/mail")
        shown = await api.get("/dev/mail/20261128-100000-aaaa0001.eml")
        escapes = [
            await api.get(f"/dev/mail/{name}")
            for name in ("..%2Fsecret.eml", "%2E%2E%2Fsecret.eml", ".hidden.eml", "nope.eml")
        ]

    assert listing.status_code == 200
    assert listing.headers["content-type"].startswith("text/html")
    page = listing.text
    assert page.index("Newer mail") < page.index("Older &lt;mail&gt;")
    assert "b@demo.test" in page
    assert shown.status_code == 200
    assert "A review task is waiting." in shown.text
    assert "<script>" not in shown.text, "the mail's HTML is escaped into a sandboxed frame"
    assert [r.status_code for r in escapes] == [404, 404, 404, 404]
    assert "secret" not in "".join(r.text for r in escapes)


async def test_dev_mail_is_not_served_outside_dev(api: httpx.AsyncClient):
    assert (await api.get("/dev/mail")).status_code == 404
