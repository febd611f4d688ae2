"""The certifier's pages in Debian's Chromium against the served app and its worker: the queue
(claim, filters, take the next, its counts and pages past one page), the review page (flags,
capacity, timeline and its pages, the decision form with its errors), what another
organisation's certifier and a forged form get."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import BrowserContext, Locator, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.web import certifier_queue, certifier_review
from config.settings import Settings
from domain.model import Status, TaskKind, TaskState
from persistence.repositories import CertificateRepository
from persistence.seed import demo_user_id
from tests.api.flow import (
    CERTIFIER,
    CERTIFIER2,
    EXPORTER,
    OTHER_CERTIFIER,
    Auth,
    delivered,
    eventually,
    in_review,
    line,
    review_task,
    wait_status,
)
from tests.api.web.conftest import PHONE, screenshot
from tests.api.web.test_browser import sign_in
from tests.helpers import actor_for
from tests.persistence.factories import (
    AVOCADO,
    T0,
    import_request,
    project,
    record,
    timeline,
    transition,
)
from tests.persistence.factories import review_task as task_row

# A second of business time, for the test that needs reviews past their due time at once.
SECONDS = 1 / 86_400
HURRIED = {"test_the_queue_shows_the_overdue_first_in_red_with_how_late"}


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The served app's; for the tests in HURRIED, with the review's due time hurried."""
    if request.node.name not in HURRIED:
        return settings
    return settings.model_copy(
        update={
            "review_reminder_business_days": SECONDS,
            "review_escalation_business_days": 2 * SECONDS,
        }
    )


def row(page: Page, certificate_id: str) -> Locator:
    """The queue's row of the certificate."""
    return page.locator("tbody tr").filter(has=page.locator(f'a[href="/review/{certificate_id}"]'))


async def test_the_certifier_claims_asks_for_information_and_approves_after_the_answer(
    page: Page, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        # Over 90% of the exporter's declared 500,000 kg: screening flags it for the reviewer.
        certificate_id, _ = await in_review(http, auth, lines=[line(quantity_kg=460000)])
        await sign_in(page, CERTIFIER)
        await page.get_by_role("link", name="Queue", exact=True).click()

        await expect(page.get_by_role("heading", name="Task queue")).to_be_visible()
        await expect(page.get_by_role("link", name="open (1)")).to_be_visible()
        await expect(row(page, certificate_id)).to_contain_text("0804400020")
        await expect(row(page, certificate_id)).to_contain_text("Andes")
        await row(page, certificate_id).get_by_role("button", name="Claim").click()

        await expect(row(page, certificate_id)).to_contain_text("you")
        await expect(page.get_by_role("link", name="mine (1)")).to_be_visible()
        await page.get_by_role("link", name="claimed (1)").click()
        assert page.url.endswith("/queue?state=claimed")
        await expect(
            row(page, certificate_id).get_by_role("button", name="Release")
        ).to_be_visible()
        await screenshot(page, "queue")
        await page.set_viewport_size(PHONE)
        await screenshot(page, "queue-phone")
        await page.set_viewport_size({"width": 1280, "height": 800})

        await row(page, certificate_id).get_by_role("link").click()
        await expect(page.get_by_role("heading", name="Exporter's capacity")).to_be_visible()
        capacity = page.locator("section", has=page.get_by_role("heading", name="capacity"))
        await expect(capacity).to_contain_text("500,000 kg")
        await expect(page.locator("main")).to_contain_text("R4 mass balance high")
        # Asking without a comment: the error is next to the field, the choice kept.
        await page.get_by_role("radio", name="Request information").check()
        await page.get_by_role("button", name="Send the decision").click()
        await expect(page.locator("#comment-error")).to_contain_text("comment is required")
        await expect(page.get_by_role("radio", name="Request information")).to_be_checked()
        question = "Which orchard are lots L-2026-11 from? <b>not markup</b>"
        await page.get_by_role("textbox", name="Comment").fill(question)
        await page.get_by_role("button", name="Send the decision").click()

        await expect(page.locator("main")).to_contain_text("info requested")
        await expect(page.locator(".timeline")).to_contain_text(question)  # escaped, as typed

        answered = await http.post(
            f"/api/certificates/{certificate_id}/answer",
            json={"message": "Orchard Santa Rosa, Ica."},
            headers=auth(EXPORTER),
        )
        assert answered.status_code == 200, answered.text
        await review_task(http, auth, certificate_id, state="claimed")
        await page.reload()
        await expect(page.locator(".timeline")).to_contain_text("Orchard Santa Rosa, Ica.")
        await screenshot(page, "review")
        await page.get_by_role("radio", name="Approve").check()
        await page.get_by_role("button", name="Send the decision").click()

        await wait_status(http, auth, certificate_id, "delivered", email=CERTIFIER)
        await page.reload()
        await expect(page.locator("main")).to_contain_text("delivered")
        await expect(page.get_by_role("heading", name="Void this certificate")).to_be_visible()
        await page.set_viewport_size(PHONE)
        await screenshot(page, "review-phone")


async def test_take_the_next_task_claims_the_most_urgent_and_opens_it(
    page: Page, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        first, _ = await in_review(http, auth)
        await in_review(http, auth)
    await sign_in(page, CERTIFIER)
    await page.goto("/queue")

    await page.get_by_role("button", name="Take the next task").click()

    assert page.url.endswith(f"/review/{first}")
    await expect(page.locator("main")).to_contain_text("task claimed by you")
    await expect(page.get_by_role("button", name="Send the decision")).to_be_visible()


async def test_voiding_needs_a_reason_shown_next_to_the_field(page: Page, served: str, auth: Auth):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        certificate = await delivered(http, auth)
    await sign_in(page, CERTIFIER)
    await page.goto(f"/review/{certificate['id']}")

    await page.get_by_role("button", name="Void").click()
    await expect(page.locator("#void-error")).to_be_visible()
    await page.get_by_label("Reason for voiding").fill("Lot L-2026-11 failed residue testing")
    await page.get_by_role("button", name="Void").click()

    await expect(page.locator("main")).to_contain_text("voided")
    await expect(page.locator(".timeline")).to_contain_text("residue testing")


async def test_another_organisations_certifier_gets_404_and_others_403(
    page: Page, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        certificate_id, task = await in_review(http, auth)
    await sign_in(page, OTHER_CERTIFIER)

    response = await page.goto(f"/review/{certificate_id}")
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    await page.goto("/queue")
    await expect(page.locator("tbody")).to_have_count(0)
    await page.get_by_role("button", name="Take the next task").click()
    await expect(page.get_by_role("status")).to_contain_text("No open task to take")
    claimed = await page.context.request.post(
        f"/queue/{task['id']}/claim",
        form={"csrf_token": await _csrf(page)},
    )
    assert claimed.status == 404

    await page.context.clear_cookies()
    await sign_in(page, EXPORTER)
    refused = await page.goto("/queue")
    assert refused is not None
    assert refused.status == 403
    await page.goto(f"/review/{certificate_id}")
    await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    await screenshot(page, "review-not-theirs")


async def test_a_claim_posted_without_the_csrf_token_is_refused(
    page: Page, context: BrowserContext, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        certificate_id, task = await in_review(http, auth)
    await sign_in(page, CERTIFIER)

    forged = await context.request.post(f"/queue/{task['id']}/claim", form={})
    assert forged.status == 403
    await page.goto("/queue")
    await row(page, certificate_id).locator('input[name="csrf_token"]').evaluate("i => i.remove()")
    await row(page, certificate_id).get_by_role("button", name="Claim").click()

    await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        still = await review_task(http, auth, certificate_id)
    assert still["assignee"] is None
    await screenshot(page, "queue-csrf-refused")


async def _csrf(page: Page) -> str:
    value = await page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert value is not None
    return value


async def test_replacing_an_issued_certificate_opens_the_replacement(
    page: Page, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        certificate = await delivered(http, auth)
    await sign_in(page, CERTIFIER)
    await page.goto(f"/review/{certificate['id']}")
    await expect(page.get_by_label("Quantity (kg)")).to_have_value("18000")

    await page.get_by_label("Quantity (kg)").fill("17500")
    await page.get_by_role("button", name="Replace").click()
    # No reason: the error is next to its field, the corrected quantity kept as typed.
    await expect(page.locator("#replace-reason-error")).to_be_visible()
    await expect(page.get_by_label("Quantity (kg)")).to_have_value("17500")
    await page.get_by_label("Reason for the replacement").fill("Weighbridge ticket corrected")
    await page.get_by_role("button", name="Replace").click()

    await expect(page.get_by_role("heading", name="The request as filed")).to_be_visible()
    assert certificate["id"] not in page.url
    await expect(page.locator("main")).to_contain_text("17,500 kg")
    replaced = page.locator(f'a[href="/review/{certificate["id"]}"]')
    await expect(replaced).to_be_visible()
    await screenshot(page, "review-replacement")


async def test_the_queue_shows_the_overdue_first_in_red_with_how_late(
    page: Page, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        first, _ = await in_review(http, auth)
        second, task = await in_review(
            http, auth, lines=[line(product_name="Hass avocados, lot B")]
        )
        # Claimed by a colleague: the row names them.
        claimed = await http.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER2))
        assert claimed.status_code == 200, claimed.text
    await sign_in(page, CERTIFIER)

    async def both_overdue() -> bool:
        await page.goto("/queue")
        return await page.locator(".overdue").count() == 2

    await eventually(both_overdue, timeout=30, what="two overdue reviews in the queue")
    rows = page.locator("tbody tr")
    await expect(rows.nth(0)).to_contain_text("Fresh Hass avocados")  # due first
    await expect(rows.nth(1)).to_contain_text("Hass avocados, lot B")
    await expect(rows.nth(1)).to_contain_text("Daniel Reviewer")
    await expect(rows.nth(0).locator(".overdue")).to_contain_text("late")
    red = await rows.nth(0).locator(".overdue").evaluate("e => getComputedStyle(e).color")
    assert red == "rgb(164, 22, 26)"
    assert first != second
    await screenshot(page, "queue-overdue")


async def projected_tasks(
    sessions: async_sessionmaker[AsyncSession],
    specs: list[tuple[TaskKind, TaskState, str | None]],
) -> list[str]:
    """Certificates in review with a task each (kind, state, assignee), due one hour apart from
    long ago, as the projection writes them: a queue longer than a page without hundreds of
    workflows. Their certificate ids, in the queue's order."""
    lines = [(AVOCADO, Decimal(1))] * len(specs)
    certificate_ids = await record(sessions, import_request(lines=lines))
    for hour, (certificate_id, (kind, state, assignee)) in enumerate(
        zip(certificate_ids, specs, strict=True)
    ):
        task = task_row(due_at=T0.replace(hour=hour), kind=kind, state=state, assignee=assignee)
        await project(sessions, transition(certificate_id, 1, Status.IN_REVIEW, task=task))
    return certificate_ids


async def listed(page: Page) -> list[str]:
    """The certificate ids of the queue's rows on this page, top to bottom."""
    links = page.locator("tbody tr td[data-label=Product] a")
    return [
        str(href).removeprefix("/review/")
        for href in await links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    ]


async def test_the_queue_counts_every_live_task_and_pages_through_them_with_the_filter(
    page: Page,
    served: str,
    auth: Auth,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(certifier_queue, "PAGE_SIZE", 3)
    review, reconcile = TaskKind.REVIEW, TaskKind.RECONCILE
    colleague = demo_user_id(CERTIFIER2)
    a, b, c, d, e = await projected_tasks(
        sessions,
        [
            (review, TaskState.OPEN, None),
            (review, TaskState.OPEN, None),
            (reconcile, TaskState.OPEN, None),
            (review, TaskState.CLAIMED, colleague),
            (review, TaskState.OPEN, None),
        ],
    )
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        # A real review, due last: the one claimed from the second page.
        live, _ = await in_review(http, auth)
    await sign_in(page, CERTIFIER)
    await page.goto("/queue?kind=review")

    for name in ("All (6)", "review (5)", "reconcile (1)", "open (5)", "claimed (1)", "mine (0)"):
        await expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    seen = await listed(page)
    assert seen == [a, b, d]
    await page.get_by_role("link", name="Next page").click()
    query = parse_qs(urlsplit(page.url).query)
    assert query["kind"] == ["review"]
    assert "cursor" in query
    assert await listed(page) == [e, live]
    await expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    await screenshot(page, "queue-page-2")

    await row(page, live).get_by_role("button", name="Claim").click()
    await expect(row(page, live)).to_contain_text("you")
    assert parse_qs(urlsplit(page.url).query) == query  # back on the second page, filtered
    await expect(page.get_by_role("link", name="mine (1)", exact=True)).to_be_visible()
    await expect(page.get_by_role("link", name="claimed (2)", exact=True)).to_be_visible()

    await page.get_by_role("link", name="First page").click()
    assert page.url.endswith("/queue?kind=review")
    assert await listed(page) == [a, b, d]
    assert c not in seen  # the reconcile task is outside the filter


async def test_the_review_timeline_reaches_every_event_page_by_page(
    page: Page,
    served: str,  # noqa: ARG001
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(certifier_review, "EVENTS_PAGE_SIZE", 3)
    # A certificate as filed, then the events of a long customs life.
    [certificate_id] = await record(sessions, import_request())
    await timeline(sessions, certificate_id, 7)
    certifier = await actor_for(sessions, CERTIFIER)
    async with sessions() as session:
        every = await CertificateRepository(session).events(certifier, certificate_id, limit=200)
    assert len(every.items) > 3
    await sign_in(page, CERTIFIER)
    await page.goto(f"/review/{certificate_id}")

    shown: list[str] = []
    for _ in range(len(every.items)):
        entries = page.locator(".timeline > li")
        assert await entries.count() <= 3
        shown += [text.strip() for text in await entries.all_inner_texts()]
        later = page.get_by_role("link", name="Later events")
        if not await later.count():
            break
        await later.click()
        await expect(page.get_by_role("link", name="Timeline from the start")).to_be_visible()
    assert len(shown) == len(every.items)
    entries_recorded = [t for t in shown if "entry recorded" in t]
    assert len(entries_recorded) == 7
    await page.get_by_role("link", name="Timeline from the start").click()
    await expect(page.locator(".timeline > li")).to_have_count(3)
