"""Conditions and scorecards read today's usage figures from the counters the rollup worker
keeps; they must equal the same figures aggregated from the daily rollups."""

from __future__ import annotations

import pytest

from kizuna.core import conditions
from kizuna.core.conditions import Context
from kizuna.customers.models import Account
from kizuna.customers.services import refresh_rollups
from kizuna.customers.tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from kizuna.usage import rollups
from kizuna.usage.models import AccountActivity
from kizuna.usage.tests.helpers import at, store

pytestmark = pytest.mark.django_db

FIGURES = [
    ("usage.logins", {"days": 7}),
    ("usage.logins", {"days": 30}),
    ("usage.logins", {"days": 90}),
    ("usage.activity", {"days": 14}),
    ("usage.activity", {"days": 90}),
    ("usage.active_users", {"days": 7}),
    ("usage.active_users", {"days": 30}),
    ("usage.login_rate", {"days": 30}),
    ("usage.change", {"of": "logins", "days": 30}),
    ("usage.change", {"of": "active_users", "days": 30}),
    ("usage.change", {"of": "activity", "days": 30}),
    ("usage.days_since_last_seen", {}),
]


@pytest.fixture
def accounts() -> list[Account]:
    busy = AccountFactory.create()
    fading = AccountFactory.create()
    never = AccountFactory.create()
    SubscriptionFactory.create(account=busy, seats=4)
    SubscriptionFactory.create(account=fading, seats=20)
    refresh_rollups()
    for index in range(3):
        ContactFactory.create(account=busy, product_user_id=f"b{index}")
        ContactFactory.create(account=fading, product_user_id=f"f{index}")
    store(
        [
            ("b0", "Logged In", at(0)),
            ("b1", "Logged In", at(6)),
            ("b2", "Report Exported", at(13)),
            ("b0", "Logged In", at(45)),
            ("f0", "Logged In", at(35)),
            ("f1", "Logged In", at(50)),
            ("f2", "Logged In", at(80)),
            ("f2", "Comment Added", at(10)),
        ]
    )
    return [busy, fading, never]


def values(accounts: list[Account]) -> list[list[object]]:
    tree = {
        "and": [{"metric": key, "params": params, "op": "not_empty"} for key, params in FIGURES]
    }
    parsed = conditions.parse(tree)
    found = conditions.leaf_values(
        parsed, [a.pk for a in accounts], Context.now(), Account.objects.all()
    )
    return [found[a.pk] for a in accounts]


def test_the_counters_are_kept_for_today(accounts):
    assert set(AccountActivity.objects.values_list("window_end", flat=True)) == {
        Context.now().today
    }


def test_counters_and_aggregates_agree(accounts):
    from_counters = values(accounts)
    AccountActivity.objects.update(window_end=None)  # stale: read the aggregates instead

    assert values(accounts) == from_counters


def test_the_nightly_refresh_recounts_stale_counters(accounts):
    expected = values(accounts)
    AccountActivity.objects.update(window_end=None, logins_7d=99, activity_90d=0)

    rollups.refresh_windows()

    assert values(accounts) == expected


def test_days_since_last_seen_comes_from_the_last_seen_time(accounts):
    parsed = conditions.parse({"metric": "usage.days_since_last_seen", "op": "not_empty"})

    found = conditions.leaf_values(
        parsed, [a.pk for a in accounts], Context.now(), Account.objects.all()
    )

    assert [found[a.pk] for a in accounts] == [[0], [10], [None]]
