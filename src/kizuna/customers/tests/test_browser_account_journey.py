"""A CSM's day in a real browser: sign in, find an account by a partial kana reading, log a
touchpoint from the account 360; a viewer only reads; the language switch works.

Runs Debian's Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Browser, Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login, new_page
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def language() -> str:
    """The language the browser asks for; tests parametrize it to cover both."""
    return "en"


@pytest.fixture
def page(browser: Browser, language: str) -> Iterator[Page]:
    with new_page(browser, language) as page:
        yield page


def _t(language: str, message: str) -> str:
    """`message` as the server shows it in `language`, from the same catalogue."""
    with translation.override(language):
        return translation.gettext(message)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_csm_finds_account_by_partial_kana_and_logs_touchpoint(
    page: Page, live_server, language: str
) -> None:
    csm = UserFactory.create(role=Role.CSM, username="hanako")
    sakura = AccountFactory.create(
        name="株式会社サクラ物流", name_kana="サクラブツリュウ", owner=csm
    )
    AccountFactory.create(name="ミドリ精機株式会社", name_kana="ミドリセイキ", owner=csm)
    AccountFactory.create(name="アオゾラ商事株式会社", name_kana="アオゾラショウジ", owner=csm)

    login(page, live_server.url, "hanako")
    expect(page.locator("html")).to_have_attribute("lang", language)

    page.goto(live_server.url + reverse("customers:accounts"))
    rows = page.locator("#account-results tbody tr")
    expect(rows).to_have_count(3)
    # Hiragana finds the katakana reading; HTMX swaps only the results in.
    page.locator("#id_q").fill("さくら")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("株式会社サクラ物流")
    expect(page).to_have_url(re.compile(r"[?&]q="))

    page.locator("#account-results").get_by_role("link", name="株式会社サクラ物流").click()
    expect(page).to_have_url(live_server.url + sakura.get_absolute_url())
    expect(page.locator("#log-head")).to_have_text(_t(language, "Log a touchpoint"))

    page.evaluate("window.kizunaNoReload = true")
    form = page.locator("#touchpoint-form")
    form.locator("#id_kind").select_option("call")
    form.locator("#id_subject").fill("更新前の活用状況ヒアリング")
    form.locator("#id_body").fill("全部署で利用が定着している。")
    form.locator("input[name=rating][value=very_good]").check()
    form.locator("button[type=submit]").click()

    expect(page.locator("#timeline")).to_contain_text("更新前の活用状況ヒアリング")
    expect(form.get_by_role("status")).to_have_text(_t(language, "Touchpoint logged."))
    # The form and the timeline were swapped in place: no navigation happened.
    assert page.evaluate("window.kizunaNoReload") is True
    expect(form.locator("#id_subject")).to_have_value("")


def test_viewer_sees_account_without_edit_button_or_touchpoint_form(
    page: Page, live_server
) -> None:
    UserFactory.create(role=Role.VIEWER, username="miru")
    account = AccountFactory.create(name="株式会社サクラ物流")

    login(page, live_server.url, "miru")
    page.goto(live_server.url + account.get_absolute_url())

    expect(page.locator("h1")).to_have_text("株式会社サクラ物流")
    expect(page.locator("#timeline")).to_be_visible()
    expect(page.get_by_role("link", name=_t("en", "Edit account"))).to_have_count(0)
    expect(page.locator("#touchpoint-form")).to_have_count(0)


def test_viewer_opening_edit_url_directly_gets_403_page(page: Page, live_server) -> None:
    UserFactory.create(role=Role.VIEWER, username="miru")
    account = AccountFactory.create(name="株式会社サクラ物流")

    login(page, live_server.url, "miru")
    response = page.goto(live_server.url + reverse("customers:account_edit", args=[account.pk]))

    assert response is not None
    assert response.status == 403
    expect(page.locator("h1")).to_have_text(_t("en", "You are not allowed to do that"))


@pytest.mark.parametrize(("language", "switch_to"), [("en", "ja"), ("ja", "en")])
def test_language_switch_in_top_bar_changes_ui_language(
    page: Page, live_server, language: str, switch_to: str
) -> None:
    UserFactory.create(role=Role.CSM, username="hanako")
    login(page, live_server.url, "hanako")
    expect(page.locator("html")).to_have_attribute("lang", language)

    page.locator(f"header.topbar .lang-switch button[value={switch_to}]").click()

    expect(page.locator("html")).to_have_attribute("lang", switch_to)
    expect(page).to_have_url(live_server.url + reverse("customers:home"))
    expect(page.locator(f".lang-switch button[value={switch_to}]")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("nav.sidebar a[aria-current=page]")).to_have_text(_t(switch_to, "Home"))
