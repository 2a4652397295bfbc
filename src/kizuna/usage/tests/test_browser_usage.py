"""Usage pages in a real browser: a manager creates a data source and copies its key; a CSM
sees an account's usage panel load on the account 360 and the logins column in the list."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login, new_page
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from kizuna.usage.models import Source
from kizuna.usage.tests.helpers import at, store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_page(browser, "en") as page:
        yield page


def test_manager_creates_a_source_and_gets_its_write_key(page: Page, live_server) -> None:
    UserFactory.create(role=Role.MANAGER, username="kanri")
    login(page, live_server.url, "kanri")

    page.get_by_role("link", name="Data sources").click()
    expect(page.locator("h1")).to_have_text("Data sources")
    page.get_by_label("Name").fill("Web app (production)")
    page.get_by_role("button", name="Create source").click()

    key = page.locator("#write-key").inner_text()
    assert Source.objects.get().key_hash == Source.hash_key(key)
    expect(page.locator("#js-snippet")).to_contain_text(f'kizuna.load("{key}")')
    page.get_by_role("link", name="Done").click()
    expect(page.locator("#source-table")).to_contain_text("Web app (production)")
    expect(page.locator("#source-table")).not_to_contain_text(key)


def test_csm_sees_the_usage_panel_and_the_logins_column(page: Page, live_server) -> None:
    csm = UserFactory.create(role=Role.CSM, username="tanto")
    account = AccountFactory.create(name="株式会社サクラ物流", external_id="SF-B1", owner=csm)
    SubscriptionFactory.create(account=account, seats=4)
    for i in range(2):
        ContactFactory.create(account=account, product_user_id=f"b{i}")
    store(
        [("b0", "Logged In", at(1)), ("b1", "Logged In", at(2)), ("b1", "Report Exported", at(2))]
    )

    login(page, live_server.url, "tanto")
    page.goto(live_server.url + reverse("customers:accounts"))
    row = page.locator("#account-results tbody tr", has_text="株式会社サクラ物流")
    expect(row.locator("td").last).to_have_text("2")

    row.get_by_role("link", name="株式会社サクラ物流").click()
    panel = page.locator("#usage-panel")
    expect(panel.locator("#usage-active-users")).to_contain_text("2 / 4")
    expect(panel.locator("#usage-active-users")).to_contain_text("Login rate 50%")
    expect(panel.locator("#usage-chart rect")).to_have_count(90)
    expect(panel.locator("#usage-top-features")).to_contain_text("Report Exported")
    expect(page.locator("#timeline")).to_contain_text("events by 1 user")
