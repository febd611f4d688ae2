"""The pages under test: the app on a real port with its worker, and Debian's Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from tests.api.conftest import settings_for
from tests.conftest import SmtpServer, free_port

CHROMIUM = "/usr/bin/chromium"
# Committed with the code, for the README: each browser test leaves its last page here.
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
LAPTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, temporal_client: Client, smtp_server: SmtpServer
) -> Settings:
    """As the API tests', with the port the app will be served on, so that the documents the
    worker renders point their QR code at this app."""
    address = temporal_client.service_client.config.target_host
    base = settings_for(database_url, tmp_path, temporal_address=address, smtp=smtp_server)
    port = free_port()
    return base.model_copy(update={"http_port": port, "public_url": f"http://127.0.0.1:{port}"})


@asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[str]:
    """`app` under uvicorn on `port` of this machine, for the block; its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def served(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    temporal_client: Client,
    worker: None,  # noqa: ARG001
) -> AsyncIterator[str]:
    """The app on its port of this machine, as a browser sees it."""
    app = create_app(settings, sessions=sessions, temporal=temporal_client)
    async with serving(app, settings.http_port) as base_url:
        yield base_url


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        await chromium.close()


# Not committed: where each browser test leaves its last page, passed or failed, for whoever
# reads the run (CI keeps the folder as it is).
LAST_PAGES = Path(__file__).resolve().parents[3] / "test-results" / "last-pages"


@pytest.fixture
async def context(
    browser: Browser, served: str, request: pytest.FixtureRequest
) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(base_url=served, viewport=LAPTOP)
    yield context
    await last_pages(context, request.node.name)
    await context.close()


async def last_pages(context: BrowserContext, test_name: str) -> None:
    """A screenshot of each page still open in `context`, named after the test."""
    LAST_PAGES.mkdir(parents=True, exist_ok=True)
    open_pages = [page for page in context.pages if not page.is_closed()]
    for number, page in enumerate(open_pages, start=1):
        suffix = f"-{number}" if len(open_pages) > 1 else ""
        await page.screenshot(
            path=LAST_PAGES / f"{test_name}{suffix}.png", full_page=True, timeout=10_000
        )


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
