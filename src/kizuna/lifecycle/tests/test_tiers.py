"""Tiers come from ARR thresholds or from condition trees, set-based, with history and
`tier.changed` events."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kizuna.customers import services
from kizuna.customers.choices import Tier, TierMode
from kizuna.customers.models import Account, TierChange, TierPolicy
from kizuna.customers.tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

FINANCE = {
    "metric": "account.attribute",
    "params": {"field": "industry"},
    "op": "in",
    "value": ["finance"],
}
BIG = {"metric": "account.attribute", "params": {"field": "employees"}, "op": "gte", "value": 500}


def _tiers() -> dict[int, str]:
    return dict(Account.objects.values_list("pk", "tier"))


def _conditions_policy(high: dict, low: dict) -> TierPolicy:
    policy = TierPolicy.current()
    policy.mode = TierMode.CONDITIONS
    policy.high_touch_conditions = high
    policy.low_touch_conditions = low
    policy.save()
    return policy


def test_in_conditions_mode_the_first_matching_tree_decides():
    _conditions_policy(FINANCE, BIG)
    bank = AccountFactory.create(industry="finance", employees=800)  # matches both: high
    factory = AccountFactory.create(industry="manufacturing", employees=800)
    shop = AccountFactory.create(industry="retail", employees=20, tier=Tier.HIGH_TOUCH)

    services.apply_tiers()

    assert _tiers() == {
        bank.pk: Tier.HIGH_TOUCH,
        factory.pk: Tier.LOW_TOUCH,
        shop.pk: Tier.TECH_TOUCH,
    }


def test_in_conditions_mode_contract_rollups_leave_the_tier_to_the_rules():
    _conditions_policy(FINANCE, BIG)
    account = AccountFactory.create(industry="finance")
    services.apply_tiers()
    SubscriptionFactory.create(account=account, arr=Decimal(100_000))  # tiny ARR

    services.refresh_rollups([account.pk])

    account.refresh_from_db()
    assert (account.arr, account.tier) == (Decimal(100_000), Tier.HIGH_TOUCH)


def test_a_tier_change_is_recorded_with_the_arr_and_the_policy():
    account = AccountFactory.create()
    SubscriptionFactory.create(account=account, arr=Decimal(7_200_000))

    services.refresh_rollups([account.pk])

    change = TierChange.objects.get(account=account)
    assert (change.from_tier, change.to_tier, change.arr) == (
        Tier.TECH_TOUCH,
        Tier.HIGH_TOUCH,
        Decimal(7_200_000),
    )
    assert change.policy == {
        "mode": "arr",
        "high_touch_min_arr": "6000000.00",
        "low_touch_min_arr": "1200000.00",
    }
    assert change.reason == "ARR ¥7,200,000 ≥ ¥6,000,000 (high-touch threshold)"


def test_a_rule_based_change_says_which_rule_matched():
    _conditions_policy(FINANCE, BIG)
    account = AccountFactory.create(industry="manufacturing", employees=900)

    services.apply_tiers()

    change = TierChange.objects.get(account=account)
    assert change.to_tier == Tier.LOW_TOUCH
    assert change.reason == "Matched the low-touch rule"
    assert change.policy["low_touch_conditions"] == BIG


def test_each_change_publishes_tier_changed(published):
    moved = AccountFactory.create()
    SubscriptionFactory.create(account=moved, arr=Decimal(2_000_000))
    AccountFactory.create()  # stays tech touch

    services.refresh_rollups()

    changes = [event for event in published if event.type == "tier.changed"]
    assert [(event.instance.account_id, event.changes) for event in changes] == [
        (moved.pk, {"tier": ["tech", "low"]})
    ]
    assert changes[0].object_id == TierChange.objects.get().pk


def test_re_tiering_without_a_change_records_nothing():
    account = AccountFactory.create()
    SubscriptionFactory.create(account=account, arr=Decimal(2_000_000))
    services.refresh_rollups()

    assert services.apply_tiers() == []
    assert TierChange.objects.count() == 1


def test_re_tiering_is_a_fixed_number_of_queries(django_assert_num_queries):
    policy = TierPolicy.current()
    for arr in (500_000, 2_000_000, 7_000_000, 3_000_000):
        account = AccountFactory.create()
        SubscriptionFactory.create(account=account, arr=Decimal(arr))
    Account.objects.update(arr=7_000_000)

    # INSERT … SELECT of the changes, one UPDATE, and the webhooks looking for endpoints
    # that want tier.changed.
    with django_assert_num_queries(3):
        changes = services.apply_tiers(policy=policy)
    assert len(changes) == 4
