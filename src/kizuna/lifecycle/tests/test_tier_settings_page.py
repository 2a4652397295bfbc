"""Managers choose how tiers are decided — ARR thresholds or condition trees — preview how
many accounts would change tier, and save; an invalid tree is refused and nothing changes."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from kizuna.customers.choices import Tier, TierMode
from kizuna.customers.models import Account, TierChange, TierPolicy
from kizuna.customers.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

FINANCE = {
    "metric": "account.attribute",
    "params": {"field": "industry"},
    "op": "in",
    "value": ["finance"],
}
NOBODY = {
    "metric": "account.attribute",
    "params": {"field": "employees"},
    "op": "gt",
    "value": 10**9,
}


def _data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "mode": "conditions",
        "high_touch_min_arr": "6000000",
        "low_touch_min_arr": "1200000",
        "high_touch_conditions": json.dumps(FINANCE),
        "low_touch_conditions": json.dumps(NOBODY),
    }
    data.update(changes)
    return data


def test_preview_counts_the_accounts_that_would_change_without_saving(manager_client):
    AccountFactory.create(industry="finance")
    AccountFactory.create(industry="finance")
    AccountFactory.create(industry="retail")

    response = manager_client.post(reverse("customers:tiers"), {**_data(), "preview": "1"})

    assert response.context["preview_total"] == 2
    assert "2 accounts would change tier." in response.content.decode()
    assert TierPolicy.current().mode == TierMode.ARR
    assert set(Account.objects.values_list("tier", flat=True)) == {Tier.TECH_TOUCH}


def test_saving_conditions_re_tiers_every_account_with_history(manager_client):
    bank = AccountFactory.create(industry="finance", arr=Decimal(100))

    response = manager_client.post(reverse("customers:tiers"), _data())

    assert response.status_code == 302
    policy = TierPolicy.current()
    assert (policy.mode, policy.high_touch_conditions) == (TierMode.CONDITIONS, FINANCE)
    bank.refresh_from_db()
    assert bank.tier == Tier.HIGH_TOUCH
    assert TierChange.objects.get().reason == "Matched the high-touch rule"


def test_an_invalid_tree_is_refused_with_its_place_and_nothing_changes(manager_client):
    AccountFactory.create(industry="finance")
    bad = {"and": [FINANCE, {"metric": "subscription.arr", "op": "in", "value": ["x"]}]}

    response = manager_client.post(
        reverse("customers:tiers"), _data(high_touch_conditions=json.dumps(bad))
    )

    assert "at and[1].op:" in response.content.decode()
    assert TierPolicy.current().mode == TierMode.ARR
    assert not TierChange.objects.exists()


def test_the_page_lists_recent_tier_changes(manager_client):
    account = AccountFactory.create(industry="finance", name="株式会社ミズホ銀行")
    manager_client.post(reverse("customers:tiers"), _data())

    html = manager_client.get(reverse("customers:tiers")).content.decode()

    assert account.name in html
    assert "Matched the high-touch rule" in html
