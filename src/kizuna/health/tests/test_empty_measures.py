"""A measure without data gives its weight to the measures of its group that have one (and
says so); a group without any gives its weight to the other groups."""

from __future__ import annotations

import pytest

from kizuna.core.conditions import Context
from kizuna.customers.tests.factories import TouchpointFactory
from kizuna.health import services
from kizuna.health.models import HealthScore
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import ARR_LINEAR, definition, group, measure, scorecard

pytestmark = pytest.mark.django_db

RATING = {"kind": "choices", "points": {"very_good": 100, "good": 70, "poor": 0}}


def _two_measures() -> dict:
    return definition(
        group(
            "all",
            measure("arr", "subscription.arr", ARR_LINEAR, weight=25),
            measure("rating", "touchpoint.last_rating", RATING, weight=75),
        )
    )


def test_weight_of_a_measure_without_data_goes_to_the_others() -> None:
    scorecard(_two_measures())
    account = account_with_arr(1_000_000)  # 50 points; no touchpoint: no rating

    services.recompute_scores(None, Context.now())

    row = HealthScore.objects.get(account=account)
    assert row.score == 50.0
    assert row.measures["rating"] == {
        "value": None,
        "points": None,
        "weight_used": None,
        "override": None,
    }
    assert row.measures["arr"]["weight_used"] == 100.0


def test_with_every_measure_present_the_weights_are_as_defined() -> None:
    scorecard(_two_measures())
    account = account_with_arr(1_000_000)
    TouchpointFactory.create(account=account, rating="very_good")

    services.recompute_scores(None, Context.now())

    row = HealthScore.objects.get(account=account)
    assert row.score == 87.5  # 50 × 25% + 100 × 75%
    assert row.measures["arr"]["weight_used"] == 25.0
    assert row.measures["rating"]["weight_used"] == 75.0


def test_a_group_without_data_gives_its_weight_to_the_other_groups() -> None:
    scorecard(
        definition(
            group("money", measure("arr", "subscription.arr", ARR_LINEAR), weight=30),
            group("relationship", measure("rating", "touchpoint.last_rating", RATING), weight=70),
        )
    )
    account = account_with_arr(1_000_000)

    services.recompute_scores(None, Context.now())

    row = HealthScore.objects.get(account=account)
    assert row.groups == {"money": 50.0, "relationship": None}
    assert row.score == 50.0


def test_no_data_at_all_means_no_score() -> None:
    scorecard(
        definition(group("relationship", measure("rating", "touchpoint.last_rating", RATING)))
    )
    account = account_with_arr(1_000_000)

    services.recompute_scores(None, Context.now())

    row = HealthScore.objects.get(account=account)
    assert row.score is None and row.band == "none"
