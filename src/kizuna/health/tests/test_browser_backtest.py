"""The backtest in a real browser: a manager runs it on the scorecard being edited, reads
how many churned accounts were red in time, moves the red threshold and watches the figures
follow, then copies the threshold into the draft.

Runs Debian's Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login, new_page
from kizuna.core.tests.factories import UserFactory
from kizuna.health.tests import backtest_data
from kizuna.health.tests.factories import scorecard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Browser, language: str) -> Iterator[Page]:
    with new_page(browser, language) as page:
        yield page


@pytest.mark.parametrize("language", ["en", "ja"])
def test_manager_tunes_the_red_threshold_against_real_churn(
    page: Page, live_server, language: str
) -> None:
    UserFactory.create(role=Role.MANAGER, username="kanri")
    backtest_data.build()
    card = scorecard(backtest_data.login_rate_definition())

    login(page, live_server.url, "kanri")
    page.goto(live_server.url + reverse("health:scorecard", args=[card.pk]))
    section = page.locator("#backtest")
    section.locator("#bt-source").select_option(str(card.current_version_id))
    section.locator("#backtest-button").click()

    sentence = page.locator("#backtest-sentence")
    expect(sentence).to_contain_text("1")
    expect(page.locator("#backtest-caught .value")).to_have_text("1 / 1")
    expect(page.locator('#backtest-bands tr[data-band="red"] td').nth(2)).to_have_text("2")
    expect(page.locator("#backtest-auc .value")).to_have_text("0.88")

    # Nothing red below 0: the churned account would not have been caught.
    page.locator("#bt-red_below").fill("0")
    expect(page.locator("#bt-red-value")).to_have_text("0")
    expect(page.locator("#backtest-caught .value")).to_have_text("0 / 1")

    page.locator("#bt-red_below").fill("45")
    expect(page.locator("#backtest-caught .value")).to_have_text("1 / 1")
    page.locator("#bt-source").select_option("draft")
    section.locator("#backtest-button").click()
    expect(page.locator("#bt-red-value")).to_have_text("40")
    page.locator("#bt-red_below").fill("45")
    expect(page.locator("#bt-red-value")).to_have_text("45")
    page.locator("#bt-apply").click()
    expect(page.locator('input[name="d-red_below"]')).to_have_value("45")


def test_a_csm_does_not_reach_the_backtest(page: Page, live_server) -> None:
    UserFactory.create(role=Role.CSM, username="tanto")
    card = scorecard(backtest_data.login_rate_definition())
    login(page, live_server.url, "tanto")
    response = page.goto(live_server.url + reverse("health:scorecard", args=[card.pk]))
    assert response is not None and response.status == 403
    expect(page.locator("#backtest")).to_have_count(0)


@pytest.fixture
def language() -> str:
    return "en"
