"""The exporter's pages in Chromium against the served app and its worker: a request filed
through the form, a refusal shown beside its field first, and the certificates it made."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect

from tests.api.flow import (
    AVOCADOS,
    CERTIFIER,
    COFFEE,
    EXPORTER,
    IMPORTER,
    Auth,
    days_from_today,
    delivered,
    in_review,
    line,
    submit,
)
from tests.api.web.conftest import LAPTOP, PHONE, screenshot
from tests.api.web.test_browser import sign_in


async def fill_request(page: Page) -> None:
    await page.get_by_label("Importer's operation id").fill("5550000002")
    await page.get_by_label("Valid until").fill(days_from_today(30))
    await page.get_by_label("Country of origin").fill("PE")
    await page.get_by_label("Port of export").fill("Callao")
    await page.get_by_label("Port of entry (US)").fill("Los Angeles")
    await page.get_by_label("Bill of lading").fill("MSCU1234567")
    await page.get_by_label("Containers").fill("MSCU7654321, MSCU7654322")
    await page.locator("#lines\\.0\\.hts_code").select_option(AVOCADOS)
    await page.locator("#lines\\.0\\.product_name").fill("Fresh Hass avocados")
    await page.locator("#lines\\.0\\.quantity_kg").fill("18000")
    await page.locator("#lines\\.0\\.lot_numbers").fill("L-2026-11, L-2026-12")
    await page.locator("#lines\\.1\\.hts_code").select_option(COFFEE)
    await page.locator("#lines\\.1\\.product_name").fill("Green Arabica coffee beans")
    await page.locator("#lines\\.1\\.organic_category").select_option("100_percent_organic")
    # A typing slip: not a quantity.
    await page.locator("#lines\\.1\\.quantity_kg").fill("12,5 t")


async def test_the_exporter_files_a_two_line_request_after_fixing_a_field(page: Page):
    await sign_in(page, EXPORTER)
    await page.get_by_role("link", name="New request", exact=True).click()
    # The HTS codes offered are the exporter's products, each with its reference description.
    await expect(page.locator("#lines\\.0\\.hts_code")).to_contain_text("Certified organic")
    await fill_request(page)

    await page.get_by_role("button", name="File the request").click()

    error = page.locator("#lines\\.1\\.quantity_kg-error")
    await expect(error).to_be_visible()
    await expect(page.locator("#lines\\.1\\.quantity_kg")).to_have_attribute("aria-invalid", "true")
    # Everything else is kept as typed.
    await expect(page.locator("#lines\\.1\\.quantity_kg")).to_have_value("12,5 t")
    await expect(page.locator("#lines\\.0\\.lot_numbers")).to_have_value("L-2026-11, L-2026-12")
    await expect(page.locator("#lines\\.1\\.hts_code")).to_have_value(COFFEE)
    await expect(page.get_by_label("Containers")).to_have_value("MSCU7654321, MSCU7654322")
    await screenshot(page, "request-form-error")
    await page.set_viewport_size(PHONE)
    await screenshot(page, "request-form-error-phone")
    await page.set_viewport_size(LAPTOP)
    assert await page.locator(".field-error[id$='-error']").count() == 1

    await page.locator("#lines\\.1\\.quantity_kg").fill("12500")
    await page.get_by_role("button", name="File the request").click()

    await expect(page).to_have_url(re.compile(r"/certificates/[0-9a-f-]+"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Fresh Hass avocados")
    await expect(page.locator("#where")).to_contain_text("certifier")
    await expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    await expect(page.locator("main")).to_contain_text("L-2026-11, L-2026-12")

    await page.get_by_role("link", name="All certificates").click()
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.locator("tbody")).to_contain_text("Green Arabica coffee beans")
    await expect(page.locator("tbody")).to_contain_text("12500")
    await screenshot(page, "certificates-exporter")
    await page.set_viewport_size(PHONE)
    await screenshot(page, "certificates-exporter-phone")


async def test_another_role_gets_403_on_the_request_form(page: Page):
    await sign_in(page, IMPORTER)

    response = await page.goto("/requests/new")

    assert response is not None
    assert response.status == 403
    await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


async def test_a_question_of_the_certifier_comes_first_and_is_answered_on_its_page(
    page: Page, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        await submit(http, auth, lines=[line(hts_code=COFFEE, product_name="Coffee beans")])
        asked, task = await in_review(http, auth)
        claimed = await http.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
        assert claimed.status_code == 200, claimed.text
        decided = await http.post(
            f"/api/certificates/{asked}/decision",
            json={
                "decision": "request_info",
                "comment": "Which orchard are lots <b>L-2026-11</b> from?",
            },
            headers=auth(CERTIFIER),
        )
        assert decided.status_code == 200, decided.text
    await sign_in(page, EXPORTER)
    await page.goto("/certificates")
    first = page.locator("tbody tr").first
    await expect(first).to_contain_text("you must answer it")

    await first.get_by_role("link").click()
    # The certifier's words, as text.
    await expect(page.locator(".timeline")).to_contain_text("<b>L-2026-11</b>")
    await expect(page.get_by_text("Withdraw this certificate before it is issued")).to_be_visible()
    await page.get_by_label("Your answer").fill("Orchard 7, Chincha valley.")
    await page.get_by_role("button", name="Send the answer").click()

    await expect(page.locator("#where")).to_contain_text("certifier decides next")
    await expect(page.locator(".timeline")).to_contain_text("Orchard 7, Chincha valley.")
    await expect(page.get_by_role("button", name="Send the answer")).to_have_count(0)
    await screenshot(page, "exporter-certificate")
    await page.set_viewport_size(PHONE)
    await screenshot(page, "exporter-certificate-phone")


async def test_the_exporter_reports_the_actual_weights_of_a_multi_shipment_certificate(
    page: Page, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        certificate = await delivered(http, auth, coverage="multiple_shipments")
    await sign_in(page, EXPORTER)
    await page.goto(f"/certificates/{certificate['id']}")
    await expect(page.locator("#where")).to_contain_text("Delivered to the importer")

    await page.get_by_label("Reference").first.fill("MSCU1234567")
    await page.get_by_label("Net kg").first.fill("17950.5")
    await page.get_by_label("Date").first.fill(days_from_today(0))
    await page.get_by_role("button", name="Send the report").click()

    await expect(page.locator("#where")).to_contain_text("the certifier confirms them next")
    await expect(page.locator(".timeline")).to_contain_text("reported")
    await expect(page.get_by_role("button", name="Send the report")).not_to_be_visible()
    await screenshot(page, "exporter-actuals-reported")


async def test_the_exporter_withdraws_a_certificate_before_issuance(
    page: Page, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        certificate_id, _ = await in_review(http, auth)
    await sign_in(page, EXPORTER)
    await page.goto(f"/certificates/{certificate_id}")

    await page.get_by_text("Withdraw this certificate before it is issued").click()
    await page.get_by_label("Why").fill("The buyer cancelled the order.")
    await page.get_by_role("button", name="Withdraw this certificate").click()

    await expect(page.locator("#where")).to_have_text(
        "Withdrawn before issuance; nothing more to do."
    )
    await expect(page.locator(".timeline")).to_contain_text("The buyer cancelled the order.")
    await expect(page.get_by_text("Withdraw this certificate before it is issued")).to_have_count(0)
