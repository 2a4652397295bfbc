"""A manager builds segments in a real browser: a dynamic one from conditions, whose members
appear on its page, and a static one whose members are picked by searching; a viewer only
reads.

Runs Debian's Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login
from kizuna.core.tests.browser import translated as _t
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory
from kizuna.segments.tests.factories import employees_at_least

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _write_conditions(page: Page, language: str, tree: dict) -> None:
    """Type the tree in the condition builder's own JSON mode."""
    as_json = page.get_by_role("button", name=_t(language, "Edit as JSON"))
    expect(as_json).to_be_visible()
    as_json.click()
    page.locator("textarea[name=conditions]").fill(json.dumps(tree))


@pytest.mark.parametrize("language", ["ja", "en"])
def test_manager_creates_a_dynamic_segment_and_sees_its_members(
    page: Page, live_server, language: str
) -> None:
    UserFactory.create(role=Role.MANAGER, username="keiko")
    AccountFactory.create(name="株式会社オオキ商事", employees=800)
    AccountFactory.create(name="株式会社ミドリ精機", employees=300)
    AccountFactory.create(name="株式会社チイサ工房", employees=12)

    login(page, live_server.url, "keiko")
    page.get_by_role("navigation").get_by_role("link", name=_t(language, "Segments")).click()
    expect(page).to_have_url(live_server.url + reverse("segments:list"))
    page.get_by_role("link", name=_t(language, "New segment")).click()

    page.locator("#id_name").fill("大企業")
    _write_conditions(page, language, employees_at_least(100))
    page.locator("#segment-form button[type=submit]").click()

    expect(page.locator("h1")).to_have_text("大企業")
    members = page.locator("#member-list tbody tr")
    expect(members).to_have_count(2)
    expect(page.locator("#member-list")).to_contain_text("株式会社オオキ商事")
    expect(page.locator("#member-list")).not_to_contain_text("株式会社チイサ工房")
    expect(page.locator("#segment-member-count")).to_have_text("2")
    expect(page.locator("#segment-definition")).to_contain_text("100")


def test_an_invalid_tree_is_shown_with_where_and_nothing_is_saved(page: Page, live_server) -> None:
    UserFactory.create(role=Role.MANAGER, username="keiko")

    login(page, live_server.url, "keiko")
    page.goto(live_server.url + reverse("segments:new"))
    page.locator("#id_name").fill("壊れた")
    _write_conditions(page, "en", {"and": [{**employees_at_least(1), "op": "contains"}]})
    page.locator("#segment-form button[type=submit]").click()

    expect(page.locator(".field.has-error")).to_contain_text("and[0].op")
    page.goto(live_server.url + reverse("segments:list"))
    expect(page.locator("#segment-list")).to_have_count(0)


def test_manager_picks_the_members_of_a_static_segment(page: Page, live_server) -> None:
    UserFactory.create(role=Role.MANAGER, username="keiko")
    AccountFactory.create(name="株式会社サクラ物流", name_kana="サクラブツリュウ")
    AccountFactory.create(name="アオゾラ商事株式会社", name_kana="アオゾラショウジ")

    login(page, live_server.url, "keiko")
    page.goto(live_server.url + reverse("segments:new"))
    page.locator("#id_name").fill("導入事例の候補")
    page.locator("input[name=kind][value=static]").check()
    expect(page.locator("textarea[name=conditions]")).to_be_hidden()
    page.locator("#segment-form button[type=submit]").click()

    expect(page.locator("h1")).to_have_text("導入事例の候補")
    page.locator("#candidate-search").fill("さくら")
    page.get_by_role("button", name="Add 株式会社サクラ物流").click()

    expect(page.locator("#member-list tbody tr")).to_have_count(1)
    expect(page.locator("#member-list")).to_contain_text("株式会社サクラ物流")


def test_a_viewer_reads_segments_without_edit_buttons(page: Page, live_server) -> None:
    UserFactory.create(role=Role.VIEWER, username="miru")

    login(page, live_server.url, "miru")
    page.goto(live_server.url + reverse("segments:list"))

    expect(page.locator("h1")).to_have_text("Segments")
    expect(page.get_by_role("link", name="New segment")).to_have_count(0)
