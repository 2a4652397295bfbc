"""A manager builds a success flow from scratch in a real browser — trigger, a CTA step, a
validation error shown at the step and fixed, a dry run, live — and creates one from the
template gallery.

Runs Debian's Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login
from kizuna.core.tests.browser import translated as _t
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory
from kizuna.engagement import seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _loaded(page: Page) -> None:
    """Wait for the sections the flow page loads after itself (results, log), so no
    request is still being answered when the test's database is emptied."""
    expect(page.locator("#results-entered")).to_be_visible()
    expect(page.locator("#flow-log[hx-get]")).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_manager_builds_a_flow_from_scratch(page: Page, live_server, language: str) -> None:
    UserFactory.create(role=Role.MANAGER, username="keiko")
    AccountFactory.create(name="株式会社オオキ商事")
    AccountFactory.create(name="株式会社ミドリ精機")

    login(page, live_server.url, "keiko")
    page.get_by_role("navigation").get_by_role("link", name=_t(language, "Success flows")).click()
    page.locator("#new-flow").click()

    page.locator("#id_name").fill("2回目ログイン")
    page.locator("#id_trigger_type").select_option("event")
    page.locator("#id_event").fill("$login")
    page.locator("#id_occurrence").fill("2")
    page.locator("#flow-new-form button[type=submit]").click()

    expect(page.locator("h1")).to_have_text("2回目ログイン")
    expect(page.locator("#flow-trigger")).to_contain_text("2")
    expect(page.locator("#flow-status")).to_have_text(_t(language, "Draft"))

    # A CTA step without its reason: refused, with the message at the step.
    page.locator("#add-start-start a").click()
    form = page.locator("#step-form")
    expect(form).to_be_visible()
    # Choosing the action draws its parameters: once HTMX has taken the new form in hand,
    # choose, and wait until the form has been drawn again.
    page.wait_for_function("() => !!document.querySelector('#id_action')['htmx-internal-data']")
    page.evaluate("document.getElementById('step-form').dataset.before = '1'")
    form.locator("#id_action").select_option("cta.create")
    expect(page.locator("#step-form[data-before]")).to_have_count(0)
    expect(page.locator("#id_param_reason")).to_be_visible()
    form.locator("#id_param_type").select_option("onboarding")
    form.locator("#save-step").click()
    expect(page.locator("#step-error")).to_contain_text("reason")
    expect(page.locator("#id_param_type")).to_have_value("onboarding")

    # Fixed: saved as version 2, drawn in the tree.
    page.locator("#id_param_reason").fill("チュートリアルを案内")
    page.locator("#save-step").click()
    expect(page.locator("#step-action-1")).to_contain_text("チュートリアルを案内")
    expect(page.locator("#flow-version")).to_contain_text("2")

    # Dry run for one account, found by searching.
    page.locator("#dry-run-search").fill("ミドリ")
    expect(page.locator("#dry-run-account option")).to_have_count(1)
    page.locator("#dry-run-button").click()
    output = page.locator("#dry-run-output")
    expect(output).to_contain_text("株式会社ミドリ精機")
    expect(output).to_contain_text("チュートリアルを案内")

    page.locator("#flow-live").click()
    expect(page.locator("#flow-status")).to_have_text(_t(language, "Live"))
    _loaded(page)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_gallery_creates_the_first_login_flow(page: Page, live_server, language: str) -> None:
    UserFactory.create(role=Role.MANAGER, username="keiko")
    seed.install()  # the emails the template sends (a transactional test may have flushed them)

    login(page, live_server.url, "keiko")
    page.goto(live_server.url + "/flows/")
    page.locator("#open-gallery").click()
    card = page.locator("#template-first-login")
    expect(card).to_contain_text(_t(language, "First login"))
    card.get_by_role("button").click()

    expect(page.locator("h1")).to_have_text(_t(language, "First login"))
    expect(page.locator("#flow-status")).to_have_text(_t(language, "Draft"))
    expect(page.locator("#flow-tree .flow-node").first).to_be_visible()
    # Tech touch is installed: its email and in-app steps run, nothing is marked as missing.
    expect(page.locator("#flow-unavailable")).to_have_count(0)
    expect(page.locator("#flow-tree .flow-warning")).to_have_count(0)
    _loaded(page)
