"""Each user's home at `/` in Debian's Chromium (DESIGN 6): the exporter's questions to answer
first, the certifier's queue in counts with the next task a click away."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect

from tests.api.flow import CERTIFIER, EXPORTER, Auth, in_review
from tests.api.web.conftest import screenshot
from tests.api.web.test_browser import sign_in
from tests.api.web.test_exporter_pages import question_asked


async def test_the_exporters_home_lists_the_question_awaiting_it(
    page: Page, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        await sign_in(page, EXPORTER)
        await expect(page.locator("#awaiting")).to_have_text(
            "Nothing awaits you: no question to answer and no report due."
        )

        certificate_id = await question_asked(http, auth)
        await page.goto("/")

        awaiting = page.locator("#awaiting li")
        await expect(awaiting).to_have_count(1)
        await expect(awaiting).to_contain_text("must answer it within 14 days")
        await screenshot(page, "home-exporter")
        await awaiting.get_by_role("link").click()
        await expect(page).to_have_url(re.compile(f"/certificates/{certificate_id}$"))


async def test_the_certifiers_home_counts_the_queue_and_takes_the_next_task(
    page: Page, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        certificate_id, _ = await in_review(http, auth)
        await sign_in(page, CERTIFIER)
        await expect(page.locator("#queue-counts")).to_have_text(
            "1 open · 0 claimed · 0 held by you"
        )

        await page.get_by_role("button", name="Take the next task").click()

        await expect(page).to_have_url(re.compile(f"/review/{certificate_id}$"))
        await page.goto("/")
        await expect(page.locator("#queue-counts")).to_have_text(
            "0 open · 1 claimed · 1 held by you"
        )
        await screenshot(page, "home-certifier")
