"""The pages in Debian's Chromium against the served app: sign-in and out, a session that
ends with logout, the CSRF check of a form, a form that shows it is working (and works without
JavaScript), and the page a document's QR code opens."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest
from playwright._impl._api_structures import SetCookieParam
from playwright.async_api import Browser, BrowserContext, Page, Request, Route, expect

from tests.api.flow import CERTIFIER, IMPORTER, Auth, delivered
from tests.api.web.conftest import LAPTOP, PHONE, last_pages, screenshot

QR_LINK = re.compile(r'href="(http://[^"]+/verify/[^"]+)"')


async def sign_in(page: Page, email: str, password: str = "demo") -> None:
    await page.goto("/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def test_a_user_signs_in_sees_who_and_what_role_and_signs_out(page: Page):
    await sign_in(page, CERTIFIER)

    await expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Carmen Reviewer")
    await expect(page.locator("main")).to_contain_text("certifier")
    await expect(page.locator("main")).to_contain_text("Demo Organic Certifiers")
    await screenshot(page, "home")
    await page.set_viewport_size(PHONE)
    await expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
    await screenshot(page, "home-phone")

    await page.get_by_role("button", name="Sign out").click()

    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert not [c for c in await page.context.cookies() if c["name"] == "nopic_session"]
    await screenshot(page, "login")


async def test_a_wrong_password_shows_the_form_again_with_the_email_kept(page: Page):
    await sign_in(page, IMPORTER, password="not the password")

    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    await expect(page.get_by_label("Email")).to_have_value(IMPORTER)
    await screenshot(page, "login-refused")


async def test_a_stolen_session_cookie_does_not_work_after_logout(
    page: Page, browser: Browser, served: str
):
    await sign_in(page, IMPORTER)
    [stolen] = [c for c in await page.context.cookies() if c["name"] == "nopic_session"]
    assert stolen["httpOnly"]
    assert stolen["sameSite"] == "Lax"
    thief = await browser.new_context(base_url=served)
    await thief.add_cookies(
        [
            SetCookieParam(
                name=stolen["name"],
                value=stolen["value"],
                domain=stolen["domain"],
                path=stolen["path"],
                httpOnly=stolen["httpOnly"],
                secure=stolen["secure"],
                sameSite=stolen["sameSite"],
            )
        ]
    )
    thief_page = await thief.new_page()
    await thief_page.goto("/")
    # Before the logout the copy works: the test holds a real session.
    await expect(thief_page.locator("main")).to_contain_text(IMPORTER)

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await thief_page.goto("/")

    await expect(thief_page.get_by_role("heading", name="Sign in")).to_be_visible()
    await screenshot(thief_page, "stolen-cookie-after-logout")
    await thief.close()


async def test_a_form_posted_without_its_csrf_token_is_refused(page: Page, context: BrowserContext):
    await sign_in(page, CERTIFIER)
    # Posted as another site would post it: without this session's token, or with a guess.
    without = await context.request.post("/logout", form={})
    guessed = await context.request.post("/logout", form={"csrf_token": "guessed"})
    assert (without.status, guessed.status) == (403, 403)
    await page.goto("/")
    await expect(page.locator("main")).to_contain_text(CERTIFIER)  # still signed in

    await page.locator('form[action="/logout"] input[name="csrf_token"]').evaluate(
        "input => input.remove()"
    )
    await page.get_by_role("button", name="Sign out").click()

    await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    await screenshot(page, "csrf-refused")


# Installed on the sign-in page before its form is sent: what the button and the live region
# show while the answer is awaited, kept in sessionStorage (the next page of this origin reads
# it), and a second submission tried once the button is disabled. Playwright itself cannot look
# at a page whose navigation is held.
WATCH = """button => {
    const form = button.form;
    const said = form.querySelector('[aria-live="polite"]');
    new MutationObserver(() => {
        if (!button.disabled) return;
        sessionStorage.setItem("seen", JSON.stringify({
            busy: button.getAttribute("aria-busy"), disabled: true, said: said.textContent,
        }));
        window.addEventListener("submit", event => {
            sessionStorage.setItem("second stopped", String(event.defaultPrevented));
        });
        form.requestSubmit();
    }).observe(button, {attributes: true, attributeFilter: ["disabled"]});
}"""


async def test_a_submitted_form_is_busy_and_disabled_until_its_answer_comes(
    page: Page, served: str
):
    login = await page.goto("/")
    assert login is not None
    policy = login.headers["content-security-policy"]
    # Scripts from this site's files only: nothing inline, nothing from elsewhere.
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "default-src 'none'" in policy
    script = await page.context.request.get("/static/nopic.js")
    assert script.status == 200
    assert "javascript" in script.headers["content-type"]
    await expect(page.locator('form[action="/"] [aria-live="polite"]')).to_have_text("")
    posts: list[Request] = []
    held: list[asyncio.Task[None]] = []

    async def answer_later(route: Route) -> None:
        await asyncio.sleep(1.5)  # as long as a decision waiting for its workflow
        await route.continue_()

    async def slow(route: Route) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        posts.append(route.request)
        # Apart from the handler, which would otherwise hold up the page's other messages.
        held.append(asyncio.create_task(answer_later(route)))

    await page.route(f"{served}/", slow)
    await page.get_by_label("Email").fill(CERTIFIER)
    await page.get_by_label("Password").fill("demo")
    await page.get_by_role("button", name="Sign in").evaluate(WATCH)

    await page.get_by_role("button", name="Sign in").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Carmen Reviewer")
    await asyncio.gather(*held)
    seen = json.loads(await page.evaluate("sessionStorage.getItem('seen')"))
    assert seen == {"busy": "true", "disabled": True, "said": "Working…"}
    assert await page.evaluate("sessionStorage.getItem('second stopped')") == "true"
    assert len(posts) == 1
    # The next page's forms are ready: nothing busy, nothing said.
    await expect(page.get_by_role("button", name="Sign out")).to_be_enabled()
    await expect(page.locator('[aria-busy="true"]')).to_have_count(0)
    await expect(page.locator('header form [aria-live="polite"]')).to_have_text("")


async def test_the_same_form_works_without_javascript(
    browser: Browser, served: str, request: pytest.FixtureRequest
):
    context = await browser.new_context(base_url=served, viewport=LAPTOP, java_script_enabled=False)
    page = await context.new_page()

    await sign_in(page, CERTIFIER)

    await expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Carmen Reviewer")
    # The script did not run: no region of its own, and the sign-out form works as it is.
    await expect(page.locator('form [aria-live="polite"]')).to_have_count(0)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await last_pages(context, request.node.name)
    await context.close()


async def test_the_qr_code_of_an_issued_certificate_opens_a_page_that_says_valid(
    browser: Browser, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        certificate = await delivered(http, auth)
        document = await http.get(
            f"/api/certificates/{certificate['id']}/document.html", headers=auth(IMPORTER)
        )
    # The link printed beside the QR code is the URL the code holds (one value renders both).
    [url] = set(QR_LINK.findall(document.text))
    assert url == (
        f"{served}/verify/{certificate['number']}?code={certificate['verification_code']}"
    )
    phone = await browser.new_context(viewport=PHONE, is_mobile=True)
    page = await phone.new_page()

    response = await page.goto(url)

    assert response is not None
    assert response.status == 200
    await expect(page.get_by_role("heading", level=1)).to_have_text("Valid")
    await expect(page.locator("main")).to_contain_text(certificate["number"])
    await expect(page.locator("main")).to_contain_text("delivered")
    await expect(page.locator("main")).to_contain_text(certificate["valid_until"])
    # Nothing of the trade: no parties, product or quantity.
    for secret in ("Andes", "Pacific", "avocado", "18000", "18,000"):
        assert secret not in await page.locator("main").inner_text()
    await screenshot(page, "verify-valid")

    wrong = await page.goto(url.replace("code=", "code=x"))
    assert wrong is not None
    assert wrong.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Not valid")
    await phone.close()


async def test_the_qr_code_of_a_voided_certificate_opens_a_page_that_says_not_valid(
    browser: Browser, served: str, auth: Auth
):
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        certificate = await delivered(http, auth)
        voided = await http.post(
            f"/api/certificates/{certificate['id']}/void",
            json={"reason": "Lot L-2026-11 failed residue testing"},
            headers=auth(CERTIFIER),
        )
        assert voided.status_code == 200, voided.text
        document = await http.get(
            f"/api/certificates/{certificate['id']}/document.html", headers=auth(IMPORTER)
        )
    [url] = set(QR_LINK.findall(document.text))
    phone = await browser.new_context(viewport=PHONE, is_mobile=True)
    page = await phone.new_page()

    await page.goto(url)

    await expect(page.get_by_role("heading", level=1)).to_have_text("Not valid")
    await expect(page.locator("main")).to_contain_text("voided")
    assert "residue" not in await page.locator("main").inner_text()
    await screenshot(page, "verify-voided")
    await phone.close()
