"""Health in a real browser: a manager tunes a scorecard — adds a measure without typing
JSON, watches the weights add up, previews it on real accounts, saves a new version — and a
CSM opens a red account and reads why it is red.

Runs Debian's Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from kizuna.core.conditions import Context
from kizuna.core.models import Role
from kizuna.core.tests.browser import login
from kizuna.core.tests.browser import translated as _t
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import TouchpointFactory
from kizuna.health import services
from kizuna.health.models import HealthSnapshot, Scorecard
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import ARR_LINEAR, current, definition, group, measure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


RATING = {"kind": "choices", "points": {"very_good": 100, "good": 70, "poor": 0}}


def _portfolio() -> Scorecard:
    card = services.create_scorecard(
        None,
        name="Adoption health",
        stage="adoption",
        definition=definition(
            group(
                "money",
                measure("arr", "subscription.arr", ARR_LINEAR),
                weight=40,
            ),
            group(
                "relationship",
                measure("rating", "touchpoint.last_rating", RATING),
                weight=60,
            ),
        ),
    )
    for index, rating in enumerate(["very_good", "good", "poor", "poor"]):
        account = account_with_arr(400_000 * (index + 1), stage="adoption")
        TouchpointFactory.create(account=account, rating=rating)
    services.recompute_scores(None, Context.now())
    return card


@pytest.mark.parametrize("language", ["en", "ja"])
def test_manager_adds_a_measure_previews_and_saves_a_version(
    page: Page, live_server, language: str
) -> None:
    UserFactory.create(role=Role.MANAGER, username="kanri")
    card = _portfolio()

    login(page, live_server.url, "kanri")
    page.goto(live_server.url + reverse("health:scorecard", args=[card.pk]))
    relationship = page.locator("#d-g1")
    expect(relationship.locator('input[name="d-g1-m0-key"]')).to_have_value("rating")

    # A second relationship measure, chosen from the metric list: no JSON anywhere.
    relationship.get_by_role("button", name=_t(language, "Add measure")).click()
    new = page.locator("#d-g1-m1")
    expect(new).to_be_visible()
    new.locator('input[name="d-g1-m1-key"]').fill("touchpoints_90d")
    new.locator('select[name="d-g1-m1-metric"]').select_option("touchpoint.count")
    # The row is rendered again for the metric chosen: its parameters appear.
    expect(page.locator('select[name="d-g1-m1-p-rating"]')).to_be_visible()
    # The window carries over from the metric it replaced; a count over 90 days it is.
    expect(page.locator('input[name="d-g1-m1-p-days"]')).to_have_value("30")
    page.locator('input[name="d-g1-m1-p-days"]').fill("90")
    page.locator('input[name="d-g1-m1-from"]').fill("0")
    page.locator('input[name="d-g1-m1-to"]').fill("3")

    # The running total shows the weights must be rebalanced to reach 100.
    page.locator('input[name="d-g1-m1-weight"]').fill("40")
    total = page.locator('output[data-total="d-g1"]')
    expect(total).to_have_text("140")
    expect(total).to_have_class("sc-total sc-off")
    page.locator('input[name="d-g1-m0-weight"]').fill("60")
    expect(total).to_have_text("100")

    page.locator("#preview-button").click()
    expect(page.locator("#preview-count")).to_contain_text("4")
    expect(page.locator("#preview-samples tbody tr")).to_have_count(4)
    expect(page.locator("#preview-bands")).to_be_visible()

    page.locator("#id_note").fill("Touchpoint frequency counts too")
    page.locator("#save-scorecard").click()

    expect(page.locator(".messages")).to_contain_text("2")
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    card.refresh_from_db()
    assert current(card).number == 2
    assert current(card).definition["groups"][1]["measures"][1]["metric"] == {
        "metric": "touchpoint.count",
        "params": {"days": 90},
    }


def test_weights_that_do_not_add_up_are_refused_and_marked(page: Page, live_server) -> None:
    UserFactory.create(role=Role.MANAGER, username="kanri")
    card = _portfolio()

    login(page, live_server.url, "kanri")
    page.goto(live_server.url + reverse("health:scorecard", args=[card.pk]))
    page.locator('input[name="d-g0-weight"]').fill("50")
    page.locator("#save-scorecard").click()

    expect(page.locator("#definition-error")).to_contain_text("add up to 110")
    expect(page.locator('input[name="d-g0-weight"]')).to_have_attribute("aria-invalid", "true")
    assert Scorecard.objects.get().versions.count() == 1


def test_csm_opens_a_red_account_and_reads_why(page: Page, live_server) -> None:
    csm = UserFactory.create(role=Role.CSM, username="hanako")
    card = _portfolio()
    red = account_with_arr(200_000, stage="adoption", name="株式会社アカネ物流", owner=csm)
    TouchpointFactory.create(account=red, rating="poor")
    services.recompute_scores(None, Context.now())
    HealthSnapshot.objects.filter(account=red).update(
        day=timezone.localdate() - datetime.timedelta(days=7)
    )
    HealthSnapshot.objects.filter(account=red).update(
        score=64.0,
        band="yellow",
        groups={"money": 10.0, "relationship": 100.0},
        measures={"arr": {"points": 10.0}, "rating": {"points": 100.0}},
        version_id=card.current_version_id,
    )
    services.recompute_scores([red.pk], Context.now())

    login(page, live_server.url, "hanako")
    page.goto(live_server.url + reverse("health:overview"))
    expect(page.locator("#kpi-red .value")).to_have_text("3")
    page.locator("#movers-down").get_by_role("link", name="株式会社アカネ物流").click()

    panel = page.locator("#health-panel")
    expect(panel.locator("#health-score")).to_contain_text("4")
    expect(panel.locator(".health-headline .band-red")).to_be_visible()
    expect(panel.locator(".health-trend.health-down").first).to_be_visible()
    expect(panel.locator("#health-since")).to_contain_text("Rating")
    rating = panel.locator("#measure-rating")
    expect(rating).to_contain_text("Poor")
    expect(rating).to_contain_text("0")

    # The CSM knows better: the poor call was about a bug since fixed.
    panel.locator(".health-override-form summary").click()
    form = page.locator("#override-form")
    form.locator("#id_measure_key").select_option("rating")
    form.locator("#id_points").fill("70")
    form.locator("#id_comment").fill("不具合は解消済み、次回定例で再確認")
    form.get_by_role("button", name="Save override").click()

    expect(page.locator("#override-rating")).to_contain_text("不具合は解消済み")
    expect(page.locator("#health-score")).to_contain_text("46")
