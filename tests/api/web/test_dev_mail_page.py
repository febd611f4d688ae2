"""`/dev/mail` of the embedded stack in Chromium: the list on the layout, one mail with its
HTML part in a sandboxed frame, and its attachment downloaded."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from tests.api.web.conftest import LAPTOP, screenshot, serving
from tests.conftest import free_port

PDF = b"%PDF-1.7\n% not a real document\n"


def write_mail(folder: Path) -> None:
    message = EmailMessage()
    message["Subject"] = "Certificate 555-5550000001-000001 issued <to you>"
    message["From"] = "NOP-IC <no-reply@nopic.local>"
    message["To"] = "importer@demo.test"
    message["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
    message.set_content("Your certificate is attached.\n")
    message.add_alternative("<p>Your certificate is <b>attached</b>.</p>", subtype="html")
    message.add_attachment(
        PDF, maintype="application", subtype="pdf", filename="555-5550000001-000001.pdf"
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "20261201-100000-aaaa0001.eml").write_bytes(message.as_bytes())


async def test_dev_mail_lists_shows_and_downloads_in_the_browser(
    browser: Browser,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    temporal_client: Client,
    tmp_path: Path,
):
    dev = settings.model_copy(update={"env": "dev"})
    write_mail(dev.mail_dir)
    app = create_app(dev, sessions=sessions, temporal=temporal_client)
    async with serving(app, free_port()) as base_url:
        context = await browser.new_context(base_url=base_url, viewport=LAPTOP)
        page = await context.new_page()
        await page.goto("/dev/mail")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Mail sent by NOP-IC (1)")

        await page.get_by_role("link", name="issued <to you>").click()

        await expect(page.get_by_role("heading", level=1)).to_contain_text("issued <to you>")
        frame = page.frame_locator("iframe")
        await expect(frame.locator("b")).to_have_text("attached")
        async with page.expect_download() as download_info:
            await page.get_by_role("link", name="555-5550000001-000001.pdf").click()
        download = await download_info.value
        saved = tmp_path / "download.pdf"
        await download.save_as(saved)
        assert saved.read_bytes() == PDF
        await screenshot(page, "dev-mail")
        await context.close()
