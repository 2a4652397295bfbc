"""The lifecycle in a real browser: a CSM opens the lifecycle board, opens an account from
its column, moves the account's stage by hand with a reason, sees it in the stage history,
and finds it in the other column of the board.

Runs Debian's Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login
from kizuna.core.tests.browser import translated as _t
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_csm_moves_a_stage_by_hand_and_sees_the_history(
    page: Page, live_server, language: str
) -> None:
    csm = UserFactory.create(role=Role.CSM, username="hanako")
    months_ago = timezone.localdate() - datetime.timedelta(days=60)
    AccountFactory.create(
        name="株式会社サクラ物流",
        stage="adoption",
        arr=Decimal(3_000_000),
        stage_entered_on=months_ago,
        owner=csm,
    )
    AccountFactory.create(name="ミドリ精機株式会社", stage="adoption", owner=csm)
    AccountFactory.create(name="アオゾラ商事株式会社", stage="value", owner=csm)

    login(page, live_server.url, "hanako")
    page.locator("nav.sidebar").get_by_role("link", name=_t(language, "Lifecycle")).click()
    expect(page).to_have_url(live_server.url + reverse("lifecycle:board"))
    adoption, value = page.locator("#stage-adoption"), page.locator("#stage-value")
    expect(adoption.locator(".lifecycle-count")).to_have_text("2")
    expect(value.locator(".lifecycle-count")).to_have_text("1")
    expect(adoption.locator(".stage-days")).to_contain_text("30")  # average of 60 and 0 days

    adoption.get_by_role("link", name="株式会社サクラ物流").click()
    panel = page.locator("#lifecycle-panel")
    expect(panel.locator("#lifecycle-head")).to_have_text(_t(language, "Lifecycle"))
    expect(panel.locator("#stage-history")).to_have_text(
        _t(language, "No stage changes recorded yet.")
    )

    page.evaluate("window.kizunaNoReload = true")
    form = panel.locator("#stage-move-form")
    form.locator("#id_stage").select_option("value")
    form.locator("#id_reason").fill("全社展開が完了し、活用が定着。")
    form.locator("button[type=submit]").click()

    history = page.locator("#stage-history")
    expect(history).to_contain_text("全社展開が完了し、活用が定着。")
    expect(history).to_contain_text(str(csm))
    expect(page.locator("#lifecycle-current")).to_contain_text(_t(language, "Value realisation"))
    # The panel was swapped in place: no navigation happened.
    assert page.evaluate("window.kizunaNoReload") is True

    page.goto(live_server.url + reverse("lifecycle:board"))
    expect(page.locator("#stage-adoption .lifecycle-count")).to_have_text("1")
    expect(page.locator("#stage-value .lifecycle-count")).to_have_text("2")
    expect(page.locator("#stage-value")).to_contain_text("株式会社サクラ物流")


def test_a_move_without_a_reason_shows_the_error_and_changes_nothing(
    page: Page, live_server
) -> None:
    csm = UserFactory.create(role=Role.CSM, username="hanako")
    account = AccountFactory.create(name="株式会社サクラ物流", stage="adoption", owner=csm)

    login(page, live_server.url, "hanako")
    page.goto(live_server.url + account.get_absolute_url())
    form = page.locator("#stage-move-form")
    form.locator("#id_stage").select_option("renewal")
    form.locator("button[type=submit]").click()

    expect(page.locator("#stage-move-form .errors")).to_contain_text(
        _t("en", "This field is required.")
    )
    expect(page.locator("#lifecycle-current")).to_contain_text(_t("en", "Adoption"))
