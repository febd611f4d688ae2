"""The exporter's pages in Chromium against the served app and its worker: a request filed
through the form, a refusal shown beside its field first, and the certificates it made."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.web import certificates
from persistence.db import transaction
from persistence.models import AuditEvent, Certificate
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
from tests.persistence.factories import ANDES, MEDITERRANEO, T0, import_request, record, timeline


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
    # The limits of the schema are on the fields as attributes, not escaped into text.
    await expect(page.get_by_label("Country of origin (2 letters)")).to_have_attribute(
        "maxlength", "2"
    )
    await expect(page.locator("#importer_id")).to_have_attribute("inputmode", "numeric")
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


async def question_asked(http: httpx.AsyncClient, auth: Auth) -> str:
    """A certificate whose certifier asked the exporter a question; its id."""
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
    return asked


async def test_a_question_of_the_certifier_comes_first_and_is_answered_on_its_page(
    page: Page, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        await submit(http, auth, lines=[line(hts_code=COFFEE, product_name="Coffee beans")])
        await question_asked(http, auth)
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


async def report_due(page: Page, served: str, auth: Auth) -> None:
    """The exporter on the page of a delivered multi-shipment certificate: a report is due."""
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        certificate = await delivered(http, auth, coverage="multiple_shipments")
    await sign_in(page, EXPORTER)
    await page.goto(f"/certificates/{certificate['id']}")


async def test_the_exporter_reports_the_actual_weights_of_a_multi_shipment_certificate(
    page: Page, served: str, auth: Auth
):
    await report_due(page, served, auth)
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


async def test_a_blank_answer_is_refused_beside_its_field_and_a_stale_one_beside_the_form(
    page: Page, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        asked = await question_asked(http, auth)
        await sign_in(page, EXPORTER)
        await page.goto(f"/certificates/{asked}")

        await page.get_by_label("Your answer").fill("   ")
        async with page.expect_response(re.compile(r"/answer$")) as answered:
            await page.get_by_role("button", name="Send the answer").click()

        assert (await answered.value).status == 422
        field = page.get_by_label("Your answer")
        await expect(field).to_have_attribute("aria-invalid", "true")
        await expect(field).to_have_attribute("aria-describedby", "message-error")
        await expect(page.locator("#message-error")).to_be_visible()
        await expect(field).to_have_value("   ")
        await screenshot(page, "exporter-answer-refused")

        # Answered meanwhile (another tab, the API): this form's answer is refused by the state
        # machine, said where the form was, and the page says where the certificate stands.
        sent = await http.post(
            f"/api/certificates/{asked}/answer",
            json={"message": "Orchard 7."},
            headers=auth(EXPORTER),
        )
        assert sent.status_code == 200, sent.text
        await field.fill("Orchard 7, Chincha valley.")
        async with page.expect_response(re.compile(r"/answer$")) as answered:
            await page.get_by_role("button", name="Send the answer").click()

    assert (await answered.value).status == 409
    await expect(page.locator("#answer-refused")).to_be_visible()
    await expect(page.locator("#where")).to_contain_text("certifier decides next")
    await expect(page.get_by_role("button", name="Send the answer")).to_have_count(0)


async def test_a_bad_weight_in_the_report_is_refused_beside_it_with_the_other_rows_kept(
    page: Page, served: str, auth: Auth
):
    await report_due(page, served, auth)
    today = days_from_today(0)
    await page.locator("#shipments\\.0\\.reference").fill("MSCU1234567")
    await page.locator("#shipments\\.0\\.net_kg").fill("9000")
    await page.locator("#shipments\\.0\\.date").fill(today)
    await page.locator("#shipments\\.2\\.reference").fill("MSCU1234568")
    await page.locator("#shipments\\.2\\.net_kg").fill("8,9 t")
    await page.locator("#shipments\\.2\\.date").fill(today)

    async with page.expect_response(re.compile(r"/actuals$")) as reported:
        await page.get_by_role("button", name="Send the report").click()

    assert (await reported.value).status == 422
    weight = page.locator("#shipments\\.2\\.net_kg")
    await expect(weight).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#shipments\\.2\\.net_kg-error")).to_be_visible()
    assert await page.locator(".field-error").count() == 1
    await expect(weight).to_have_value("8,9 t")
    await expect(page.locator("#shipments\\.0\\.reference")).to_have_value("MSCU1234567")
    await expect(page.locator("#shipments\\.0\\.net_kg")).to_have_value("9000")
    await expect(page.locator("#shipments\\.2\\.reference")).to_have_value("MSCU1234568")
    await expect(page.locator("#shipments\\.2\\.date")).to_have_value(today)
    await screenshot(page, "exporter-actuals-refused")

    await weight.fill("8900")
    await page.get_by_role("button", name="Send the report").click()
    await expect(page.locator("#where")).to_contain_text("the certifier confirms them next")


async def filed(
    sessions: async_sessionmaker[AsyncSession],
    names: list[str],
    parties: tuple[str, str, str] = ANDES,
) -> dict[str, str]:
    """A certificate per name, a minute apart in that order, written as the workflows would
    write them (no workflow runs); their ids by name."""
    ids = {}
    for minute, name in enumerate(names):
        request = import_request(
            parties=parties, product_name=name, created_at=T0 + timedelta(minutes=minute)
        )
        [ids[name]] = await record(sessions, request)
    return ids


async def test_the_exporter_list_pages_to_every_certificate_with_what_awaits_it_first(
    page: Page, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(certificates, "LIST_SIZE", 3)
    names = [f"Product {n:02}" for n in range(10)]
    ids = await filed(sessions, names)
    others = await filed(sessions, ["Someone else's question"], parties=MEDITERRANEO)
    asked = ["Product 01", "Product 04", "Product 08"]
    async with transaction(sessions) as session:
        await session.execute(
            update(Certificate)
            .where(Certificate.id.in_([ids[n] for n in asked] + list(others.values())))
            .values(status="info_requested")
        )
        await session.execute(
            update(Certificate)
            .where(Certificate.id == ids["Product 06"])
            .values(status="delivered", reconciliation="requested")
        )
    awaiting = ["Product 08", "Product 06", "Product 04", "Product 01"]
    rest = [n for n in reversed(names) if n not in awaiting]
    await sign_in(page, EXPORTER)
    await page.goto("/certificates")

    seen: list[str] = []
    seen_awaiting: list[str] = []
    for _ in range(len(names)):
        links = page.locator("main tbody a")
        await expect(links.first).to_be_visible()
        seen += await links.all_inner_texts()
        seen_awaiting += await page.locator("#awaiting tbody a").all_inner_texts()
        following = page.get_by_role("link", name="Next page")
        if not await following.count():
            break
        await following.click()

    assert seen_awaiting == awaiting
    assert seen == awaiting + rest
    await page.get_by_role("link", name="First page").click()
    await expect(page.locator("#awaiting tbody a")).to_have_text(awaiting[:3])
    await expect(page.get_by_role("link", name="First page")).to_have_count(0)


async def test_the_timeline_pages_past_its_page_size(
    page: Page, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(certificates, "TIMELINE_SIZE", 3)
    certificate = (await filed(sessions, ["Fresh Hass avocados"]))["Fresh Hass avocados"]
    await timeline(sessions, certificate, 7)
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).where(AuditEvent.certificate_id == certificate)
        )
    assert count is not None
    assert count > 6
    await sign_in(page, EXPORTER)
    await page.goto(f"/certificates/{certificate}")

    shown = 0
    for _ in range(count):
        await expect(page.locator(".timeline li").first).to_be_visible()
        shown += await page.locator(".timeline li").count()
        later = page.get_by_role("link", name="Later events")
        if not await later.count():
            break
        await later.click()

    assert shown == count
    await page.get_by_role("link", name="From the first event").click()
    await expect(page.locator(".timeline li")).to_have_count(3)
    await expect(page.get_by_role("link", name="Later events")).to_be_visible()
