"""health.score and health.band are metrics: segments, flows and campaigns can use them in
condition trees, today from the scores and on a past day from the snapshots."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.core.conditions import ConditionError, Context, evaluate, matching, metrics, parse
from kizuna.customers.models import Account
from kizuna.health import services
from kizuna.health.models import HealthSnapshot
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import scorecard

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio() -> dict[str, Account]:
    scorecard()
    accounts = {
        "green": account_with_arr(1_800_000),
        "yellow": account_with_arr(1_000_000),
        "red": account_with_arr(200_000),
        "unscored": account_with_arr(1_000_000, stage="churned"),
    }
    services.recompute_scores(None, Context.now())
    return accounts


def _match(tree: dict, ctx: Context | None = None) -> set[int]:
    return set(matching(parse(tree), Account.objects.all(), ctx).values_list("pk", flat=True))


def test_band_is_red(portfolio) -> None:
    tree = {"metric": "health.band", "op": "in", "value": ["red"]}

    assert _match(tree) == {portfolio["red"].pk}


def test_no_score_has_no_band(portfolio) -> None:
    tree = {"metric": "health.band", "op": "empty"}

    assert _match(tree) == {portfolio["unscored"].pk}


def test_score_below_a_threshold(portfolio) -> None:
    tree = {"metric": "health.score", "op": "lt", "value": 60}

    assert _match(tree) == {portfolio["yellow"].pk, portfolio["red"].pk}


def test_a_group_score(portfolio) -> None:
    tree = {"metric": "health.score", "params": {"group": "money"}, "op": "gte", "value": 90}

    assert _match(tree) == {portfolio["green"].pk}


def test_unknown_group_is_refused(portfolio) -> None:
    with pytest.raises(ConditionError) as refused:
        parse({"metric": "health.score", "params": {"group": "nps"}, "op": "gt", "value": 1})

    assert refused.value.path == "params"


def test_evaluation_for_one_account_agrees(portfolio) -> None:
    condition = parse({"metric": "health.band", "op": "in", "value": ["red", "yellow"]})

    assert evaluate(condition, portfolio["yellow"].pk).matched
    assert not evaluate(condition, portfolio["green"].pk).matched


def test_a_past_day_reads_that_days_snapshot(portfolio) -> None:
    day = timezone.localdate() - datetime.timedelta(days=30)
    HealthSnapshot.objects.create(account=portfolio["green"], day=day, score=20, band="red")

    tree = {"metric": "health.band", "op": "in", "value": ["red"]}

    assert _match(tree, Context(today=day)) == {portfolio["green"].pk}


def test_metrics_are_registered_as_historical() -> None:
    score, band = metrics.get("health.score"), metrics.get("health.band")

    assert score is not None and score.historical
    assert band is not None and band.historical
