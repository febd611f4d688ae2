"""`/admin` in Chromium against the served app and its worker: the figures after a submission,
an overdue review group with its dry run then its terminate, one workflow's remedy, the remedies
applied to a workflow page by page, and the 403 of anyone who is not an administrator."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.web import admin as admin_pages
from config.settings import Settings
from persistence.db import transaction
from persistence.repositories.operations import OperationsRepository
from tests.api.flow import ADMIN, CERTIFIER, EXPORTER, Auth, eventually, in_review
from tests.api.web.conftest import LAPTOP, PHONE, screenshot
from tests.api.web.test_browser import sign_in
from tests.helpers import actor_for
from workflows.contracts import certificate_workflow_id

# A second of business time: a review is past its escalation almost at once.
SECONDS = 1 / 86_400


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The served app's, with the review's reminder and escalation hurried."""
    return settings.model_copy(
        update={
            "review_reminder_business_days": SECONDS,
            "review_escalation_business_days": 2 * SECONDS,
        }
    )


async def status_of(http: httpx.AsyncClient, auth: Auth, certificate_id: str) -> str:
    response = await http.get(f"/api/certificates/{certificate_id}", headers=auth(EXPORTER))
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


async def test_the_administrator_sees_the_figures_and_terminates_a_stuck_group(
    page: Page, served: str, auth: Auth, settings: Settings
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        first, _ = await in_review(http, auth)
        second, _ = await in_review(http, auth)
        await sign_in(page, ADMIN)
        await page.get_by_role("link", name="Operations").first.click()

        await expect(page.get_by_role("heading", level=1)).to_have_text("Operations")
        by_state = page.locator("table", has=page.locator("caption", has_text="By state"))
        await expect(by_state.get_by_role("row", name="in review 2")).to_be_visible()
        await expect(page.locator("main")).to_contain_text("Demo Organic Certifiers")

        # The reviews pass their escalation within seconds: one cause, two workflows.
        group = page.locator("article", has_text="overdue task: 2 workflows")

        async def both_overdue() -> bool:
            await page.reload()
            return await group.count() == 1

        await eventually(both_overdue, timeout=30, what="two overdue reviews on the page")
        await expect(group).to_contain_text("past due")
        await group.locator("summary").click()
        link = group.get_by_role("link", name=certificate_workflow_id(first))
        await expect(link).to_have_attribute(
            "href",
            f"http://127.0.0.1:{settings.temporal_ui_port}/namespaces/"
            f"{settings.temporal_namespace}/workflows/{certificate_workflow_id(first)}",
        )
        await screenshot(page, "admin-stuck")
        await page.set_viewport_size(PHONE)
        await screenshot(page, "admin-stuck-phone")
        await page.set_viewport_size(LAPTOP)

        # One workflow's own remedy: terminate the first from its page.
        await group.get_by_role("link", name="remedies").first.click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Workflow {certificate_workflow_id(first)}"
        )
        # Nothing of it is failing: a retry does nothing, says so, and is on record.
        await page.get_by_role("button", name="Retry now").click()
        await expect(page.get_by_role("alert")).to_contain_text("no activity of it is failing")
        await page.get_by_label(re.compile("Reason for .terminate.")).fill("duplicate request")
        await page.get_by_role("button", name="Terminate").click()
        await expect(page.get_by_role("status")).to_contain_text("Terminate: done")
        await expect(page.locator("table")).to_contain_text("duplicate request")
        assert await status_of(http, auth, first) == "terminated"

        # The whole cause: a dry run names what is left and does nothing.
        await page.get_by_role("link", name="← Operations").click()
        group = page.locator("article", has_text="overdue task: 1 workflow")

        async def one_left() -> bool:
            await page.reload()
            return await group.count() == 1

        await eventually(one_left, timeout=15, what="one overdue review left")
        await group.get_by_role("button", name=re.compile("Dry run: terminate all 1")).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Dry run: terminate 1 workflow"
        )
        await expect(page.locator("main table")).to_contain_text(certificate_workflow_id(second))
        assert await status_of(http, auth, second) == "in_review"
        await screenshot(page, "admin-dry-run")

        # Terminating without a reason is refused by the browser and by the server.
        refused = await page.context.request.post(
            page.url,
            form={
                "csrf_token": await page.locator("input[name=csrf_token]").last.input_value(),
                "confirm": "yes",
            },
        )
        assert refused.status == 422
        assert await status_of(http, auth, second) == "in_review"

        await page.get_by_label(re.compile("Reason")).fill("exporter went out of business")
        await page.get_by_role("button", name="Terminate: all 1").click()

        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Terminate: done for 1 of 1"
        )
        row = page.get_by_role("row", name=re.compile(certificate_workflow_id(second)))
        await expect(row).to_contain_text("done")
        assert await status_of(http, auth, second) == "terminated"
        actions = await http.get(
            "/api/admin/actions",
            params={"workflow_id": certificate_workflow_id(second)},
            headers=auth(ADMIN),
        )
        items: list[dict[str, Any]] = actions.json()["items"]
        assert [(a["action"], a["outcome"], a["admin_email"], a["reason"]) for a in items] == [
            ("terminate", "done", ADMIN, "exporter went out of business")
        ]
        await screenshot(page, "admin")
        await page.set_viewport_size(PHONE)
        await screenshot(page, "admin-phone")


async def test_anyone_but_an_administrator_gets_403(
    page: Page, context: BrowserContext, browser: Browser, served: str
):
    await sign_in(page, CERTIFIER)
    token = await page.locator('form[action="/logout"] input[name=csrf_token]').input_value()
    await expect(page.get_by_role("link", name="Operations")).to_have_count(0)

    response = await page.goto("/admin")

    assert response is not None
    assert response.status == 403
    await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    await expect(page.locator("main")).to_contain_text("only administrators")
    for path in ("/admin/stuck/overdue_task:review/terminate", "/admin/workflows/x/terminate"):
        posted = await context.request.post(
            path, form={"csrf_token": token, "reason": "x", "confirm": "yes"}
        )
        assert posted.status == 403, path
    anonymous = await browser.new_context(base_url=served)
    stranger = await anonymous.new_page()
    refused = await stranger.goto("/admin")
    assert refused is not None
    assert refused.status == 401
    await anonymous.close()


async def test_the_remedies_applied_to_a_workflow_are_reached_page_by_page(
    page: Page,
    served: str,  # noqa: ARG001
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(admin_pages, "ACTIONS_PAGE", 2)
    workflow_id = certificate_workflow_id("a-long-history")
    admin = await actor_for(sessions, ADMIN)
    start = datetime.now(UTC) - timedelta(hours=1)
    async with transaction(sessions) as session:
        for n in range(5):
            await OperationsRepository(session).audit(
                admin,
                ADMIN,
                action="retry",
                workflow_id=workflow_id,
                certificate_id=None,
                reason=f"attempt {n}",
                outcome="skipped",
                detail="nothing failing",
                now=start + timedelta(minutes=n),
            )
    await sign_in(page, ADMIN)
    await page.goto(f"/admin/workflows/{workflow_id}")

    reasons: list[str] = []
    for _ in range(5):
        rows = page.locator("#applied + figure tbody tr")
        assert await rows.count() <= 2
        reasons += [await r.locator("td").nth(3).inner_text() for r in await rows.all()]
        older = page.get_by_role("link", name="Older remedies")
        if not await older.count():
            break
        await older.click()
        await expect(page.get_by_role("link", name="Newest first")).to_be_visible()
    assert reasons == [f"attempt {n}" for n in reversed(range(5))]
    await page.get_by_role("link", name="Newest first").click()
    await expect(page.locator("#applied + figure tbody tr").first).to_contain_text("attempt 4")
