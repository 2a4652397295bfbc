"""In a real browser: an admin creates an API key (shown once) that then works against the
API; a manager sets up a webhook, sends a test event and redelivers it; the interactive API
docs load without a single request leaving the server.

Runs Debian's Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from kizuna.api import webhooks
from kizuna.core.models import Role
from kizuna.core.tests.browser import login, new_page
from kizuna.core.tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_page(browser, "en") as page:
        yield page


def test_admin_creates_an_api_key_that_is_shown_once_and_works(page: Page, live_server) -> None:
    UserFactory.create(role=Role.ADMIN, username="kanri")
    login(page, live_server.url, "kanri")

    page.locator("nav.sidebar").get_by_role("link", name="API keys").click()
    page.locator("#id_name").fill("Salesforce sync")
    page.locator("#id_role").select_option("csm")
    page.get_by_role("button", name="Create key").click()

    key_box = page.locator("#created-key")
    expect(key_box).to_be_visible()
    token = key_box.input_value()
    assert token.startswith("kz_")
    expect(page.locator("#api-keys")).to_contain_text("Salesforce sync")

    answer = page.request.get(
        f"{live_server.url}/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 200

    page.reload()
    expect(page.locator("#created-key")).to_have_count(0)
    assert token not in page.content()


def test_manager_sets_up_a_webhook_and_redelivers_a_test_event(
    page: Page, live_server, receiver
) -> None:
    UserFactory.create(role=Role.MANAGER, username="manager")
    login(page, live_server.url, "manager")

    page.goto(live_server.url + reverse("api:webhooks"))
    page.get_by_role("link", name="New webhook").click()
    page.locator("#id_name").fill("CRM")
    page.locator("#id_url").fill(receiver.url)
    page.locator("input[name=event_types][value='account.created']").check()
    page.get_by_role("button", name="Save").click()

    expect(page.locator("h1")).to_have_text("CRM")
    page.get_by_role("button", name="Send test event").click()
    rows = page.locator("#deliveries tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("webhook.test")

    # The worker's job, run here: send what is due.
    assert webhooks.send_due() == 1
    page.reload()
    expect(rows.first).to_contain_text("Succeeded")
    expect(rows.first).to_contain_text("200")

    rows.first.get_by_role("link").click()
    page.get_by_role("button", name="Redeliver").click()
    expect(page.locator(".messages")).to_contain_text("Redelivery queued.")
    assert webhooks.send_due() == 1
    page.reload()
    expect(page.locator("#delivery-code")).to_have_text("200")

    first, second = receiver.requests
    assert first.headers["Kizuna-Event-Id"] == second.headers["Kizuna-Event-Id"]
    assert json.loads(second.body)["type"] == "webhook.test"


def test_the_api_docs_load_without_any_outside_request(page: Page, live_server) -> None:
    UserFactory.create(role=Role.VIEWER, username="miru")
    login(page, live_server.url, "miru")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(live_server.url + "/api/v1/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Kizuna API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    assert requested
    outside = [url for url in requested if not url.startswith(live_server.url)]
    assert outside == []
