"""The explanation of one account: scorecard and version, each group and measure with its
value, points and weight used, overrides, and what changed since last week."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.core.conditions import Context
from kizuna.core.models import User
from kizuna.customers.tests.factories import TouchpointFactory
from kizuna.health import queries, services
from kizuna.health.models import HealthSnapshot
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import ARR_LINEAR, definition, group, measure, scorecard

pytestmark = pytest.mark.django_db

RATING = {"kind": "choices", "points": {"very_good": 100, "good": 70, "poor": 0}}


@pytest.fixture
def card():
    return scorecard(
        definition(
            group("money", measure("arr", "subscription.arr", ARR_LINEAR), weight=40),
            group(
                "relationship",
                measure("rating", "touchpoint.last_rating", RATING, weight=50),
                measure(
                    "touchpoints",
                    "touchpoint.count",
                    {"kind": "linear", "from": 0, "to": 4},
                    weight=50,
                    params={"days": 90},
                ),
                weight=60,
            ),
        )
    )


def test_each_measure_has_value_points_and_weight_used(card) -> None:
    account = account_with_arr(1_000_000)
    TouchpointFactory.create(account=account, rating="poor")
    services.recompute_scores(None, Context.now())

    explanation = queries.explain(account.pk)

    assert explanation.scorecard == card
    assert explanation.version is not None and explanation.version.number == 1
    money, relationship = explanation.groups
    assert (money.score, money.weight, money.weight_used) == (50.0, 40, 40.0)
    arr = money.measures[0]
    assert (arr.value_text, arr.points, arr.weight_used) == ("¥1,000,000", 50.0, 100.0)
    rating, touchpoints = relationship.measures
    assert (rating.value_text, rating.points) == ("Poor", 0.0)
    assert (touchpoints.value_text, touchpoints.points) == ("1", 25.0)
    assert explanation.score == 27.5  # 50 × 40% + 12.5 × 60%
    assert explanation.band == "red"


def test_a_measure_without_data_says_so(card) -> None:
    account = account_with_arr(1_000_000)
    services.recompute_scores(None, Context.now())

    rating = queries.explain(account.pk).groups[1].measures[0]

    assert rating.no_data and rating.weight_used is None
    assert rating.value_text == "no data"


def test_override_is_shown_with_comment_author_and_expiry(card, csm: User) -> None:
    account = account_with_arr(1_000_000)
    until = timezone.now() + datetime.timedelta(days=10)
    services.set_override(
        csm, account, measure_key="arr", points=80, comment="増額予定", expires_at=until
    )

    arr = queries.explain(account.pk).groups[0].measures[0]

    assert arr.points == 80.0 and arr.computed_points == 50.0
    assert arr.override is not None
    assert (arr.override.comment, arr.override.author) == ("増額予定", str(csm))
    assert arr.override.expires_at == until


def test_what_changed_since_last_week_sorted_by_impact(card) -> None:
    account = account_with_arr(1_000_000)
    TouchpointFactory.create(account=account, rating="poor")
    services.recompute_scores(None, Context.now())
    today = timezone.localdate()
    HealthSnapshot.objects.create(
        account=account,
        day=today - datetime.timedelta(days=7),
        score=70.0,
        band="green",
        version_id=card.current_version_id,
        groups={"money": 60.0, "relationship": 77.5},
        measures={
            "arr": {"points": 60.0},
            "rating": {"points": 100.0},
            "touchpoints": {"points": 25.0},
        },
    )

    explanation = queries.explain(account.pk)
    since = explanation.since_last_week

    assert since is not None
    assert (since.score, since.band, since.score_delta) == (70.0, "green", -42.5)
    assert explanation.trend == "down"
    assert [(m.measure.key, m.delta, m.impact) for m in since.movers] == [
        ("rating", -100.0, -30.0),
        ("arr", -10.0, -4.0),
    ]


def test_history_is_the_last_90_days_of_snapshots(card) -> None:
    account = account_with_arr(1_000_000)
    today = timezone.localdate()
    for days_ago in (0, 30, 89, 90, 200):
        HealthSnapshot.objects.create(
            account=account, day=today - datetime.timedelta(days=days_ago), score=50, band="yellow"
        )

    history = queries.explain(account.pk).history

    assert [point.day for point in history] == [
        today - datetime.timedelta(days=89),
        today - datetime.timedelta(days=30),
        today,
    ]


def test_no_score_yet_is_an_empty_explanation() -> None:
    account = account_with_arr(1_000_000)

    explanation = queries.explain(account.pk)

    assert not explanation.has_score and explanation.groups == []
