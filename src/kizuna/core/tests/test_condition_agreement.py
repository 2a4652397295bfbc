"""The compiled query over all accounts and the evaluation for one account agree, for every
registered metric and operator: one engine, not two that drift apart."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kizuna.core import conditions
from kizuna.customers import services
from kizuna.customers.choices import Rating, TouchpointKind
from kizuna.customers.models import Account, CustomFieldDefinition
from kizuna.customers.tests.factories import (
    AccountFactory,
    ContactFactory,
    SubscriptionFactory,
    TouchpointFactory,
)
from kizuna.usage.tests.helpers import at, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio() -> list[Account]:
    """Accounts that differ in every figure the metrics read, including missing ones."""
    CustomFieldDefinition.objects.create(
        key="logo", label_ja="ロゴ", label_en="Logo", field_type="boolean"
    )
    CustomFieldDefinition.objects.create(
        key="score", label_ja="点", label_en="Score", field_type="number"
    )
    CustomFieldDefinition.objects.create(
        key="kickoff", label_ja="開始", label_en="Kick-off", field_type="date"
    )
    today = timezone.localdate()
    busy = AccountFactory.create(
        industry="software",
        region="kanto",
        employees=120,
        tier="high",
        custom_attributes={
            "logo": True,
            "score": 7.5,
            "kickoff": (today - datetime.timedelta(days=40)).isoformat(),
        },
    )
    quiet = AccountFactory.create(
        industry="retail",
        tier="low",
        stage="adoption",
        custom_attributes={"logo": False, "score": 2},
    )
    empty = AccountFactory.create(domain="", custom_attributes={})
    SubscriptionFactory.create(account=busy, seats=4, arr=Decimal(2_400_000), mrr=Decimal(200_000))
    SubscriptionFactory.create(
        account=quiet,
        seats=10,
        arr=Decimal(600_000),
        mrr=Decimal(50_000),
        end_date=today + datetime.timedelta(days=30),
    )
    services.refresh_rollups()
    Account.objects.filter(pk=busy.pk).update(tier="high")
    for index in range(3):
        ContactFactory.create(account=busy, product_user_id=f"b{index}")
    ContactFactory.create(account=quiet, product_user_id="q0")
    store(
        [
            ("b0", "Logged In", at(1)),
            ("b1", "Logged In", at(2)),
            ("b1", "Logged In", at(20)),
            ("b2", "Report Exported", at(3)),
            ("b0", "Logged In", at(40)),
            ("q0", "Logged In", at(35)),
            ("q0", "Logged In", at(50)),
            ("q0", "Invoice Created", at(5)),
        ]
    )
    TouchpointFactory.create(account=busy, rating=Rating.VERY_GOOD, kind=TouchpointKind.SEMINAR)
    TouchpointFactory.create(
        account=quiet, rating=Rating.POOR, occurred_at=timezone.now() - datetime.timedelta(days=10)
    )
    TouchpointFactory.create(
        account=quiet, rating="", occurred_at=timezone.now() - datetime.timedelta(days=1)
    )
    Account.objects.filter(pk=empty.pk).update(stage_entered_on=today - datetime.timedelta(days=12))
    return [busy, quiet, empty]


LEAVES: list[dict[str, Any]] = [
    {
        "metric": "account.attribute",
        "params": {"field": "industry"},
        "op": "in",
        "value": ["software"],
    },
    {"metric": "account.attribute", "params": {"field": "domain"}, "op": "empty"},
    {"metric": "account.attribute", "params": {"field": "employees"}, "op": "gte", "value": 100},
    {
        "metric": "account.attribute",
        "params": {"field": "name"},
        "op": "contains",
        "value": "テスト",
    },
    {"metric": "account.custom_field", "params": {"field": "logo"}, "op": "is_true"},
    {"metric": "account.custom_field", "params": {"field": "logo"}, "op": "is_false"},
    {
        "metric": "account.custom_field",
        "params": {"field": "score"},
        "op": "between",
        "value": [2, 5],
    },
    {"metric": "account.custom_field", "params": {"field": "kickoff"}, "op": "gte", "value": 30},
    {"metric": "account.tier", "op": "not_in", "value": ["high"]},
    {"metric": "account.stage", "op": "in", "value": ["adoption"]},
    {"metric": "account.days_in_stage", "op": "gt", "value": 10},
    {"metric": "subscription.arr", "op": "gte", "value": 1_000_000},
    {"metric": "subscription.mrr", "op": "lt", "value": 100_000},
    {"metric": "subscription.seats", "op": "eq", "value": 10},
    {"metric": "subscription.days_to_renewal", "op": "lte", "value": 60},
    {"metric": "subscription.status", "op": "in", "value": ["active"]},
    {"metric": "touchpoint.last_rating", "op": "in", "value": ["poor"]},
    {"metric": "touchpoint.days_since", "op": "lte", "value": 5},
    {
        "metric": "touchpoint.count",
        "params": {"days": 365, "kind": "seminar"},
        "op": "gte",
        "value": 1,
    },
    {"metric": "usage.logins", "params": {"days": 30}, "op": "gte", "value": 2},
    {
        "metric": "usage.event_count",
        "params": {"event": "Invoice Created", "days": 7},
        "op": "gt",
        "value": 0,
    },
    {"metric": "usage.activity", "params": {"days": 30}, "op": "ne", "value": 0},
    {"metric": "usage.active_users", "params": {"days": 30}, "op": "gte", "value": 2},
    {"metric": "usage.login_rate", "params": {"days": 30}, "op": "gte", "value": 50},
    {"metric": "usage.login_rate", "params": {"days": 30}, "op": "empty"},
    {"metric": "usage.days_since_last_seen", "op": "lte", "value": 3},
    {"metric": "usage.change", "params": {"of": "logins", "days": 30}, "op": "lt", "value": 0},
]


def in_memory(tree: Any, accounts: list[Account]) -> set[int]:
    parsed = conditions.parse(tree)
    return {account.pk for account in accounts if conditions.evaluate(parsed, account.pk).matched}


def in_sql(tree: Any) -> set[int]:
    parsed = conditions.parse(tree)
    return set(conditions.matching(parsed, Account.objects.all()).values_list("pk", flat=True))


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: f"{leaf['metric']}-{leaf['op']}")
def test_each_leaf_selects_the_same_accounts_both_ways(portfolio, leaf):
    assert in_sql(leaf) == in_memory(leaf, portfolio)


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: f"not-{leaf['metric']}-{leaf['op']}")
def test_the_negation_of_each_leaf_agrees_too(portfolio, leaf):
    tree = {"not": leaf}

    assert in_sql(tree) == in_memory(tree, portfolio)


def test_every_registered_metric_is_covered():
    assert {leaf["metric"] for leaf in LEAVES} >= {
        metric.key
        for metric in conditions.all_metrics()
        if metric.key.split(".")[0] in {"account", "subscription", "touchpoint", "usage"}
        and metric.key != "account.owner"
    }


def test_the_leaves_tell_the_accounts_apart(portfolio):
    busy, quiet, empty = portfolio

    assert in_sql(LEAVES[19]) == {busy.pk}  # two logins or more in 30 days
    assert in_sql(LEAVES[16]) == {quiet.pk}  # last rated touchpoint was poor
    assert in_sql(LEAVES[24]) == {empty.pk}  # no seats, so no login rate


def test_nested_groups_agree(portfolio):
    tree = {"or": [{"and": LEAVES[0:3]}, {"not": {"or": LEAVES[15:18]}}, {"and": []}]}

    assert in_sql(tree) == in_memory(tree, portfolio) == {a.pk for a in portfolio}


def test_an_empty_or_matches_nobody(portfolio):
    assert in_sql({"or": []}) == set() == in_memory({"or": []}, portfolio)


def test_the_evaluation_shows_each_value_it_saw(portfolio):
    busy = portfolio[0]
    parsed = conditions.parse({"and": [LEAVES[19], LEAVES[11]]})

    evaluation = conditions.evaluate(parsed, busy.pk)

    assert evaluation.matched
    assert [(leaf.value, leaf.matched) for leaf in evaluation.leaves] == [
        (3, True),
        (Decimal("2400000.00"), True),
    ]


def test_a_past_day_reads_the_figures_of_that_day(portfolio):
    quiet = portfolio[1]
    then = conditions.Context(today=timezone.localdate() - datetime.timedelta(days=30))
    parsed = conditions.parse(
        {"metric": "usage.logins", "params": {"days": 30}, "op": "gte", "value": 2}
    )

    assert conditions.evaluate(parsed, quiet.pk, then).matched
    assert not conditions.evaluate(parsed, quiet.pk).matched
    assert quiet.pk in set(
        conditions.matching(parsed, Account.objects.all(), then).values_list("pk", flat=True)
    )
