"""One certificate's whole life through the pages, each role in a browser of its own: the
exporter files a two-line request, the certifier asks a question and approves after the answer,
the importer downloads the document and records an entry, the document's QR address says valid
to anyone, and the administrator's figures count it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, expect
from pypdf import PdfReader

from tests.api.flow import (
    ADMIN,
    AVOCADOS,
    CERTIFIER,
    COFFEE,
    EXPORTER,
    IMPORTER,
    days_from_today,
    eventually,
)
from tests.api.web.conftest import LAPTOP, PHONE, screenshot
from tests.api.web.test_browser import sign_in
from tests.api.web.test_exporter_pages import fill_request

QUESTION = "Which orchard are lots L-2026-11 and L-2026-12 from?"
ANSWER = "Orchard 7, Chincha valley, both lots."
APPROVAL = "Orchard 7 is on the exporter's certified operation: approved."
ENTRY = "ABC-1234567-8"


@pytest.fixture
async def browsers() -> AsyncIterator[AsyncExitStack]:
    """Closes the browser contexts the test opens, one per person."""
    async with AsyncExitStack() as stack:
        yield stack


async def person(browser: Browser, served: str, stack: AsyncExitStack, email: str) -> Page:
    """A browser context of its own for `email`, signed in on its home page."""
    context = await browser.new_context(base_url=served, viewport=LAPTOP)
    stack.push_async_callback(context.close)
    page = await context.new_page()
    await sign_in(page, email)
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


async def reload_until_visible(page: Page, locator: Locator, what: str) -> None:
    """Reloads `page` until `locator` shows, while the certificate's workflow catches up."""

    async def shown() -> bool:
        await page.reload()
        return await locator.count() > 0 and await locator.first.is_visible()

    await eventually(shown, timeout=30, what=what)


async def file_two_lines(page: Page) -> str:
    """(a) The exporter's request through the form; the first certificate's id."""
    await page.get_by_role("link", name="New request", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("New import request")
    # The exporter pages' two lines (the HTS codes offered are the exporter's certified
    # products), with the second line's quantity typed right.
    await fill_request(page)
    await page.locator("#lines\\.1\\.quantity_kg").fill("12500")
    # Multiple shipments: the certificate stays in force after its first customs entry.
    await page.get_by_label("Coverage").select_option("multiple_shipments")
    await expect(page.locator("#lines\\.0\\.hts_code")).to_have_value(AVOCADOS)
    await expect(page.locator("#lines\\.1\\.hts_code")).to_have_value(COFFEE)
    await expect(page.locator("#lines\\.0\\.organic_category")).to_have_value("organic")

    await page.get_by_role("button", name="File the request").click()

    await expect(page).to_have_url(re.compile(r"/certificates/[0-9a-f-]+$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Fresh Hass avocados")
    await expect(page.locator("#where")).to_contain_text("certifier")
    certificate_id = page.url.rsplit("/", 1)[-1]
    await page.get_by_role("link", name="All certificates").click()
    await expect(page.locator("tbody tr")).to_have_count(2)
    await expect(page.locator("tbody")).to_contain_text("Green Arabica coffee beans")
    return certificate_id


async def test_a_certificate_from_request_to_customs_entry_through_the_pages(
    browser: Browser, served: str, browsers: AsyncExitStack, tmp_path: Path
):
    exporter = await person(browser, served, browsers, EXPORTER)
    await expect(exporter.locator("main")).to_contain_text("exporter")
    certificate_id = await file_two_lines(exporter)
    address = f"/certificates/{certificate_id}"

    # (b) The certifier claims the first certificate's task and asks a question.
    certifier = await person(browser, served, browsers, CERTIFIER)
    await expect(certifier.locator("main")).to_contain_text("certifier")
    await certifier.get_by_role("link", name="Queue", exact=True).click()
    await expect(certifier.get_by_role("heading", level=1)).to_have_text("Task queue")
    row = certifier.locator("tbody tr").filter(
        has=certifier.locator(f'a[href="/review/{certificate_id}"]')
    )
    await reload_until_visible(certifier, row, "the first certificate's task in the queue")
    await expect(row).to_contain_text(AVOCADOS)
    await expect(row).to_contain_text("open")
    await row.get_by_role("button", name="Claim").click()
    await expect(row).to_contain_text("you")
    await row.get_by_role("link", name="Fresh Hass avocados").click()
    await expect(certifier.get_by_role("heading", level=1)).to_have_text("Fresh Hass avocados")
    await expect(certifier.locator("main")).to_contain_text("task claimed by you")
    await certifier.get_by_role("radio", name="Request information").check()
    await certifier.get_by_role("textbox", name="Comment").fill(QUESTION)
    await certifier.get_by_role("button", name="Send the decision").click()
    await expect(certifier.locator("main")).to_contain_text("info requested")
    await expect(certifier.locator(".timeline")).to_contain_text(QUESTION)

    # (c) The exporter finds the question first and answers it on the certificate's page.
    await exporter.get_by_role("link", name="Certificates", exact=True).click()
    asked = exporter.locator("tbody tr", has_text="Fresh Hass avocados")
    await expect(asked).to_contain_text("you must answer it")
    await asked.get_by_role("link", name="Fresh Hass avocados").click()
    await expect(exporter.locator(".timeline")).to_contain_text(QUESTION)
    await exporter.get_by_label("Your answer").fill(ANSWER)
    await exporter.get_by_role("button", name="Send the answer").click()
    await expect(exporter.locator("#where")).to_contain_text("certifier decides next")
    await expect(exporter.locator(".timeline")).to_contain_text(ANSWER)

    # (d) The certifier reads the answer and approves, with a comment.
    decide = certifier.get_by_role("button", name="Send the decision")
    await reload_until_visible(certifier, decide, "the decision form after the answer")
    await expect(certifier.locator(".timeline")).to_contain_text(ANSWER)
    await certifier.get_by_role("radio", name="Approve").check()
    await certifier.get_by_role("textbox", name="Comment").fill(APPROVAL)
    await decide.click()
    await expect(certifier.locator(".timeline")).to_contain_text(APPROVAL)
    delivered = certifier.get_by_text("Status delivered")
    await reload_until_visible(certifier, delivered, "the certificate issued and delivered")
    status_line = await delivered.inner_text()
    number = re.search(r"certificate (\S+)", status_line)
    assert number is not None, status_line
    number_text = number.group(1)

    # (e) The importer finds it, downloads the PDF, acknowledges and records an entry.
    importer = await person(browser, served, browsers, IMPORTER)
    await expect(importer.locator("main")).to_contain_text("importer")
    await importer.get_by_role("link", name="Certificates", exact=True).click()
    listed = importer.locator("tbody tr", has_text=number_text)
    await expect(listed).to_contain_text("Fresh Hass avocados")
    await expect(listed).to_contain_text("delivered")
    await listed.get_by_role("link").click()
    await expect(importer).to_have_url(re.compile(f"{address}$"))
    await expect(importer.locator("#where")).to_contain_text("Delivered to you")
    await expect(importer.get_by_role("heading", level=1)).to_have_text("Fresh Hass avocados")
    async with importer.expect_download() as downloading:
        await importer.get_by_role("link", name="download the PDF").click()
    download = await downloading.value
    pdf = tmp_path / download.suggested_filename
    await download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    pdf_text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert number_text in pdf_text

    await importer.get_by_role("button", name="Acknowledge receipt").click()
    await expect(importer.locator("main")).to_contain_text("You acknowledged receipt")
    customs = importer.locator("#customs")
    await expect(customs).to_contain_text(number_text)
    await expect(customs).to_contain_text(AVOCADOS)
    await expect(customs).to_contain_text("L-2026-11, L-2026-12")
    await importer.get_by_label("Entry number").fill(ENTRY)
    await importer.get_by_label("Quantity (kg)").fill("6000")
    await importer.get_by_label("Entry date").fill(days_from_today(0))
    await importer.get_by_label("Port of entry").fill("Los Angeles")
    await importer.get_by_role("button", name="Record the entry").click()
    await expect(importer.locator("#entries tbody")).to_contain_text(ENTRY)
    await expect(customs).to_contain_text("12000")

    # (f) The address the document carries beside its QR code (one value renders both).
    await importer.get_by_role("link", name="view it").click()
    await expect(importer).to_have_url(re.compile(f"{address}/document.html$"))
    verify_link = importer.locator('a[href*="/verify/"]')
    await expect(verify_link).to_have_count(1)
    verify_url = await verify_link.get_attribute("href")
    assert verify_url is not None
    assert verify_url.startswith(f"{served}/verify/{number_text}?code=")
    assert verify_url in pdf_text.replace("\n", "")
    phone = await browser.new_context(viewport=PHONE, is_mobile=True)
    browsers.push_async_callback(phone.close)
    port = await phone.new_page()
    opened = await port.goto(verify_url)
    assert opened is not None
    assert opened.status == 200
    await expect(port.get_by_role("heading", level=1)).to_have_text("Valid")
    facts = port.locator("main dl")
    await expect(facts).to_contain_text(number_text)
    await expect(facts).to_contain_text("delivered")
    await expect(facts).to_contain_text(days_from_today(0))
    await expect(facts).to_contain_text(days_from_today(30))
    await expect(port.get_by_role("button", name="Sign out")).to_have_count(0)

    # (g) The administrator's figures: this one delivered, the coffee still in review.
    admin = await person(browser, served, browsers, ADMIN)
    await expect(admin.locator("main")).to_contain_text("admin")
    await admin.get_by_role("link", name="Operations").first.click()
    await expect(admin.get_by_role("heading", level=1)).to_have_text("Operations")
    await expect(admin.locator("main")).to_contain_text("2 in all; 1 issued in the last 24 hours")
    by_state = admin.locator("table", has=admin.locator("caption", has_text="By state"))
    await expect(by_state.get_by_role("row", name="delivered 1")).to_be_visible()
    await expect(by_state.get_by_role("row", name="in review 1")).to_be_visible()
    await screenshot(admin, "whole-flow-admin")
