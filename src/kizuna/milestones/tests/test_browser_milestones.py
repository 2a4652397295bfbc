"""Milestones in a real browser: a manager creates one in Settings → Milestones with the
condition builder; once the account's data satisfies it (and the recompute ran), the
account page's panel shows it ticked, with the day and why.

Runs Debian's Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from kizuna.core import recompute
from kizuna.core.models import Role
from kizuna.core.tests.browser import login
from kizuna.core.tests.browser import translated as _t
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory
from kizuna.milestones.tests.factories import employees_at_least

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_manager_creates_a_milestone_and_the_account_panel_ticks_it(
    page: Page, live_server, language: str
) -> None:
    UserFactory.create(role=Role.MANAGER, username="keiko")
    account = AccountFactory.create(name="株式会社サクラ物流", stage="onboarding", employees=20)

    login(page, live_server.url, "keiko")
    page.goto(live_server.url + reverse("milestones:list"))
    page.get_by_role("link", name=_t(language, "New milestone")).click()
    page.locator("#id_stage").select_option("onboarding")
    page.locator("#id_name").fill("チーム拡大")
    page.locator("#id_key").fill("team_grown")
    page.locator("#id_target_days").fill("30")
    # The builder is drawn; its JSON mode is the quickest way to give a whole tree.
    page.get_by_role("button", name=_t(language, "Edit as JSON")).click()
    page.locator("textarea[name=condition]").fill(json.dumps(employees_at_least(100)))
    page.locator("#milestone-form button[type=submit]").click()

    expect(page).to_have_url(live_server.url + reverse("milestones:list"))
    expect(page.locator("#milestones-onboarding")).to_contain_text("チーム拡大")

    page.goto(live_server.url + account.get_absolute_url())
    panel = page.locator("#milestones-panel")
    expect(panel.locator("#milestone-percent")).to_have_text("0%")

    Account.objects.filter(pk=account.pk).update(employees=250)
    recompute.recompute([account.pk])

    page.reload()
    ticked = page.locator("#milestones-panel .milestone-reached")
    expect(ticked).to_contain_text("チーム拡大")
    expect(ticked).to_contain_text(timezone.localdate().isoformat())
    expect(ticked.locator(".milestone-why")).to_contain_text("250")
    expect(page.locator("#milestone-percent")).to_have_text("100%")
