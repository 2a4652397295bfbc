"""Helpers for the real-browser tests: Debian's Chromium driven by Playwright's sync API.

The shared fixtures (src/kizuna/conftest.py) are built from these: `browser` (one
Chromium per test module), `language` ("en"; parametrize it to run a test in Japanese too)
and `page` (a fresh page in that language). `translated` gives a message as the page in
that language shows it.

No browser is ever downloaded: Chromium comes from Debian (`./run test` installs it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1366, "height": 900}
LOCALES = {"ja": "ja-JP", "en": "en-US"}
# The password every UserFactory user has.
PASSWORD = "correct horse battery"

# On SQLite the live server's thread and the test's thread share one in-memory database
# connection (see the root conftest). The server holds this lock while it answers a
# request; a test that reads the database while the page may still be talking to the
# server takes it too, so the two never use the connection at the same time.
LIVE_SERVER_LOCK = threading.RLock()


@contextmanager
def launch_browser() -> Iterator[Browser]:
    """Start headless Chromium for a module's tests, and stop it afterwards.

    Playwright's sync API keeps an event loop in this thread, which makes Django refuse ORM
    calls from the test ("SynchronousOnlyOperation"); the tests' own queries run strictly
    between browser calls, so that check is switched off while the browser is up.
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM}; install it with "
            "`apt-get install chromium fonts-noto-cjk` (`./run test` does this).",
            pytrace=False,
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()


@contextmanager
def new_page(browser: Browser, language: str = "en") -> Iterator[Page]:
    """A page in a fresh context (no cookies) whose browser asks for `language` ("ja"/"en")."""
    context = browser.new_context(locale=LOCALES.get(language, language), viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def login(page: Page, live_server_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form and wait until the home page has loaded."""
    page.goto(f"{live_server_url}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form:has(#id_username) button[type=submit]").click()
    page.wait_for_url(f"{live_server_url}/")
    expect(page.locator("nav.sidebar")).to_be_visible()


def translated(language: str, message: str) -> str:
    """`message` in `language`, as the page shows it."""
    from django.utils import translation

    with translation.override(language):
        return translation.gettext(message)


def wait_for_database(page: Page, check: Callable[[], bool], seconds: float = 15) -> None:
    """Poll `check` (a database query) until it is true, between the server's requests.

    For what the page makes the server write (an event the browser reports): a query that
    ran while the server was in the middle of a request would share its connection."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        with LIVE_SERVER_LOCK:
            if check():
                return
        assert time.monotonic() < deadline, "timed out waiting for the database"
        page.wait_for_timeout(100)
