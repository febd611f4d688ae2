"""The importer's pages in Chromium against the served app and its worker: a delivered
certificate's PDF downloaded, an entry recorded, and what another importer may not see."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from api.routers.documents import HTML_POLICY
from tests.api.flow import (
    CERTIFIER,
    EXPORTER,
    IMPORTER,
    OTHER_IMPORTER,
    Auth,
    days_from_today,
    delivered,
    submit,
)
from tests.api.web.conftest import PHONE, SCREENSHOTS, screenshot
from tests.api.web.test_browser import sign_in


async def test_the_importer_downloads_the_pdf_and_records_an_entry(
    page: Page, served: str, auth: Auth, tmp_path: Path
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        certificate = await delivered(http, auth)
    await sign_in(page, IMPORTER)
    await page.get_by_role("link", name="Certificates", exact=True).click()
    row = page.locator("tbody tr", has_text=certificate["number"])
    await expect(row).to_contain_text("18000")
    await row.get_by_role("link").click()
    await expect(page.locator("#where")).to_contain_text("Delivered to you")

    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="download the PDF").click()
    download = await downloading.value
    assert download.suggested_filename == f"{certificate['number']}.pdf"
    pdf = tmp_path / download.suggested_filename
    await download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    render_first_page(pdf)

    await page.get_by_role("button", name="Acknowledge receipt").click()
    await expect(page.locator("main")).to_contain_text("You acknowledged receipt")
    # The customs filing data, laid out to copy.
    customs = page.locator("#customs")
    await expect(customs).to_contain_text(certificate["number"])
    await expect(customs).to_contain_text(certificate["hts_code"])
    await page.get_by_label("Entry number").fill("ABC-1234567-8")
    # More than the certificate covers: refused beside the form, the form kept as typed.
    await page.get_by_label("Quantity (kg)").fill("18000.5")
    await page.get_by_label("Entry date").fill(days_from_today(0))
    await page.get_by_label("Port of entry").fill("Los Angeles")
    await page.get_by_role("button", name="Record the entry").click()
    await expect(page.locator("#entry-refused")).to_be_visible()
    await expect(page.get_by_label("Entry number")).to_have_value("ABC-1234567-8")
    await screenshot(page, "importer-entry-refused")
    await page.get_by_label("Quantity (kg)").fill("6000")
    await page.get_by_role("button", name="Record the entry").click()

    entries = page.locator("#entries tbody")
    await expect(entries).to_contain_text("ABC-1234567-8")
    # A single-shipment certificate is used by its first entry (R7).
    await expect(page.locator("#where")).to_contain_text("Used by customs entries")
    await expect(customs).to_contain_text("12000")
    await screenshot(page, "importer-certificate")
    await page.set_viewport_size(PHONE)
    await screenshot(page, "importer-certificate-phone")


def render_first_page(pdf: Path) -> None:
    """The document's first page as the README shows it."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    target = SCREENSHOTS / "certificate-page1"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", "-f", "1", str(pdf), str(target)],
        check=True,
    )
    assert target.with_suffix(".png").stat().st_size > 0


async def test_another_importer_gets_404_and_the_exporter_no_customs_form(
    browser: Browser, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        certificate = await delivered(http, auth)
    address = f"/certificates/{certificate['id']}"
    for email, status in ((OTHER_IMPORTER, 404), (EXPORTER, 200)):
        context = await browser.new_context(base_url=served)
        page = await context.new_page()
        await sign_in(page, email)

        response = await page.goto(address)
        pdf = await context.request.get(f"{address}/document.pdf")

        assert response is not None
        assert (response.status, pdf.status) == (status, status)
        if status == 404:
            await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
            assert certificate["number"] not in await page.content()
            await screenshot(page, "certificate-other-importer")
        else:
            await expect(page.locator("#customs")).to_have_count(0)
            await expect(page.get_by_role("button", name="Record the entry")).to_have_count(0)
            entry = await context.request.post(f"{address}/entries", form={})
            assert entry.status == 403  # no CSRF token, and not the importer's to do
            # The document's HTML keeps its own policy: its styles and QR code are inline.
            html = await context.request.get(f"{address}/document.html")
            assert html.status == 200
            assert html.headers["content-security-policy"] == HTML_POLICY
            assert certificate["number"] in await html.text()
        await context.close()


async def test_a_certifier_opening_a_certificate_page_is_sent_to_its_review_page(
    page: Page, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        created = await submit(http, auth)
    certificate_id = created["certificates"][0]["id"]
    await sign_in(page, CERTIFIER)

    await page.goto(f"/certificates/{certificate_id}")

    await expect(page).to_have_url(re.compile(f"/review/{certificate_id}$"))
