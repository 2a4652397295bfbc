"""The condition builder in a real browser, on "Find accounts": no JSON typed, the JSON kept
in sync, the live count following every change.

Runs Debian's Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login
from kizuna.core.tests.browser import translated as _t
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.models import CustomFieldDefinition
from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.usage.tests.helpers import at, store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _tree(page: Page) -> Any:
    return json.loads(page.locator("textarea[name=tree]").input_value())


def _count(page: Page, matched: int, total: int) -> None:
    expect(page.locator(".cb-preview .cb-result")).to_have_attribute("data-matched", str(matched))
    expect(page.locator(".cb-preview .cb-result")).to_have_attribute("data-total", str(total))


@pytest.mark.parametrize("language", ["ja", "en"])
def test_manager_builds_a_condition_and_sees_the_count_follow(
    page: Page, live_server: Any, language: str
) -> None:
    UserFactory.create(role=Role.MANAGER, username="keiko")
    sakura = AccountFactory.create(name="サクラ物流", tier="high", arr=Decimal(3_000_000))
    AccountFactory.create(name="ミドリ精機", tier="high", arr=Decimal(1_000_000))
    aozora = AccountFactory.create(name="アオゾラ商事", tier="low")
    AccountFactory.create(name="キタカゼ工業", tier="tech")
    ContactFactory.create(account=aozora, product_user_id="u1")
    store([("u1", "Logged In", at(2))])

    login(page, live_server.url, "keiko")
    page.goto(live_server.url + reverse("core:conditions_explore"))
    builder = page.locator(".cb-builder")
    expect(builder).to_be_visible()
    # The JSON is the form value, hidden behind the builder.
    expect(page.locator("textarea[name=tree]")).to_be_hidden()
    _count(page, 4, 4)

    # Tier → is one of → High touch.
    builder.locator(".cb-add-condition").first.click()
    row = builder.locator(".cb-row").nth(0)
    row.locator(".cb-metric").select_option("account.tier")
    expect(row.locator(".cb-op")).to_have_value("in")
    expect(row.locator(".cb-op option:checked")).to_have_text(_t(language, "is one of"))
    row.get_by_label(_t(language, "High touch")).check()
    _count(page, 2, 4)
    preview = page.locator(".cb-preview")
    expect(preview.get_by_role("link", name="サクラ物流")).to_have_attribute(
        "href", sakura.get_absolute_url()
    )
    expect(preview).not_to_contain_text("アオゾラ商事")

    # Logins in the last 7 days ≥ 1.
    builder.locator(".cb-add-condition").first.click()
    logins = builder.locator(".cb-row").nth(1)
    logins.locator(".cb-metric").select_option("usage.logins")
    logins.get_by_label(_t(language, "Days")).fill("7")
    logins.locator(".cb-op").select_option("gte")
    logins.locator(".cb-value").fill("1")
    # All of: high touch and logged in — nobody.
    _count(page, 0, 4)

    # Any of: high touch or logged in.
    builder.locator(".cb-kind").first.select_option("or")
    _count(page, 3, 4)
    expect(preview.get_by_role("link", name="アオゾラ商事")).to_be_visible()
    assert _tree(page) == {
        "or": [
            {"metric": "account.tier", "op": "in", "value": ["high"]},
            {"metric": "usage.logins", "params": {"days": 7}, "op": "gte", "value": 1},
        ]
    }

    # "Not" on the first row: not high touch, or logged in.
    row.locator(".cb-not input").check()
    _count(page, 2, 4)
    assert _tree(page)["or"][0] == {
        "not": {"metric": "account.tier", "op": "in", "value": ["high"]}
    }


def test_a_row_left_incomplete_is_highlighted_with_the_message(
    page: Page, live_server: Any
) -> None:
    UserFactory.create(role=Role.CSM, username="hanako")
    AccountFactory.create(tier="high")

    login(page, live_server.url, "hanako")
    page.goto(live_server.url + reverse("core:conditions_explore"))
    builder = page.locator(".cb-builder")
    builder.locator(".cb-add-condition").first.click()
    builder.locator(".cb-add-condition").first.click()
    builder.locator(".cb-row").nth(0).locator(".cb-metric").select_option("account.tier")
    builder.locator(".cb-row").nth(0).get_by_label("High touch").check()
    second = builder.locator(".cb-row").nth(1)
    second.locator(".cb-metric").select_option("subscription.arr")
    second.locator(".cb-op").select_option("gte")

    expect(second).to_have_class("cb-row cb-invalid")
    expect(second.locator(".cb-error")).to_have_text("A value is required.")
    expect(page.locator(".cb-preview")).to_contain_text("and[1].value")
    expect(builder.locator(".cb-row").nth(0)).not_to_have_class("cb-row cb-invalid")

    second.locator(".cb-value").fill("0")
    _count(page, 1, 1)
    expect(second).to_have_class("cb-row")


def test_a_nested_group_and_the_json_round_trip(page: Page, live_server: Any) -> None:
    UserFactory.create(role=Role.CSM, username="hanako")
    AccountFactory.create(tier="high", stage="adoption")
    AccountFactory.create(tier="low", stage="renewal")
    AccountFactory.create(tier="low", stage="onboarding")

    login(page, live_server.url, "hanako")
    page.goto(live_server.url + reverse("core:conditions_explore"))
    builder = page.locator(".cb-builder")
    builder.locator(".cb-add-condition").first.click()
    builder.locator(".cb-row").nth(0).locator(".cb-metric").select_option("account.tier")
    builder.locator(".cb-row").nth(0).get_by_label("Low touch").check()
    builder.locator(".cb-add-group").first.click()
    inner = builder.locator(".cb-group .cb-group")
    expect(inner.locator(".cb-kind")).to_have_value("or")
    inner.locator(".cb-row").nth(0).locator(".cb-metric").select_option("account.stage")
    inner.locator(".cb-row").nth(0).get_by_label("Renewal").check()
    _count(page, 1, 3)
    assert _tree(page) == {
        "and": [
            {"metric": "account.tier", "op": "in", "value": ["low"]},
            {"or": [{"metric": "account.stage", "op": "in", "value": ["renewal"]}]},
        ]
    }

    # Edited as JSON, then back in the builder.
    page.locator(".cb-mode").click()
    textarea = page.locator("textarea[name=tree]")
    expect(textarea).to_be_visible()
    textarea.fill('{"and": [{"metric": "account.tier", "op": "in", "value": ["low"]}]}')
    _count(page, 2, 3)
    page.locator(".cb-mode").click()
    expect(textarea).to_be_hidden()
    expect(builder.locator(".cb-row")).to_have_count(1)
    expect(builder.locator(".cb-row").nth(0).get_by_label("Low touch")).to_be_checked()

    # Removing the last condition matches everyone again.
    builder.locator(".cb-row .cb-remove").click()
    _count(page, 3, 3)
    assert _tree(page) == {"and": []}


def test_a_custom_field_offers_its_own_choices(page: Page, live_server: Any) -> None:
    UserFactory.create(role=Role.CSM, username="hanako")
    CustomFieldDefinition.objects.create(
        key="plan", label_ja="プラン", label_en="Plan", field_type="choice", choices=["Pro", "Lite"]
    )
    CustomFieldDefinition.objects.create(
        key="seminars", label_ja="参加回数", label_en="Seminars", field_type="number"
    )
    AccountFactory.create(custom_attributes={"plan": "Pro", "seminars": 3})
    AccountFactory.create(custom_attributes={"plan": "Lite"})

    login(page, live_server.url, "hanako")
    page.goto(live_server.url + reverse("core:conditions_explore"))
    builder = page.locator(".cb-builder")
    builder.locator(".cb-add-condition").first.click()
    row = builder.locator(".cb-row").nth(0)
    row.locator(".cb-metric").select_option("account.custom_field")
    row.get_by_label("Field").select_option("plan")
    row.get_by_label("Pro").check()
    _count(page, 1, 2)
    assert _tree(page)["and"][0] == {
        "metric": "account.custom_field",
        "params": {"field": "plan"},
        "op": "in",
        "value": ["Pro"],
    }

    # Another field, another type: the comparison and the value follow.
    row.get_by_label("Field").select_option("seminars")
    expect(row.locator(".cb-op")).to_have_value("eq")
    row.locator(".cb-op").select_option("gte")
    row.locator(".cb-value").fill("2")
    _count(page, 1, 2)
    assert _tree(page)["and"][0]["value"] == 2


def test_a_comparison_without_a_value_shows_no_value(page: Page, live_server: Any) -> None:
    # A yes/no custom field is only typed once its parameter is resolved; the redrawn row
    # must not show the empty value as text.
    UserFactory.create(role=Role.MANAGER, username="keiko")
    CustomFieldDefinition.objects.create(
        key="logo_received", label_ja="ロゴ受領", label_en="Logo received", field_type="boolean"
    )
    AccountFactory.create(custom_attributes={"logo_received": True})
    tree = {
        "and": [
            {
                "metric": "account.custom_field",
                "params": {"field": "logo_received"},
                "op": "is_true",
            }
        ]
    }

    login(page, live_server.url, "keiko")
    page.goto(live_server.url + reverse("core:conditions_explore") + "?tree=" + json.dumps(tree))
    _count(page, 1, 1)
    row = page.locator(".cb-builder .cb-opvalue").first

    expect(row).to_be_visible()
    expect(row).not_to_contain_text("null")
