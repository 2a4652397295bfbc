"""All accounts are scored by a fixed number of queries, whatever their number, and each
score is written with the version that computed it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kizuna.core import recompute
from kizuna.core.conditions import Context
from kizuna.customers.models import Account
from kizuna.health import services
from kizuna.health.models import HealthScore, HealthSnapshot
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import scorecard

pytestmark = pytest.mark.django_db


def _portfolio(size: int) -> None:
    for index in range(size):
        account_with_arr(100_000 * (index % 20), stage="adoption" if index % 2 else "onboarding")


def _queries_for_full_recompute(size: int) -> int:
    _portfolio(size)
    with CaptureQueriesContext(connection) as captured:
        services.recompute_scores(None, Context.now())
    return len(captured)


def test_query_count_does_not_grow_with_the_number_of_accounts() -> None:
    scorecard(name="Default")
    scorecard(name="Onboarding", stage="onboarding")
    small = _queries_for_full_recompute(3)
    Account.objects.all().delete()
    large = _queries_for_full_recompute(40)

    assert small == large
    assert HealthScore.objects.count() == 40


def test_full_recompute_query_count_is_pinned(django_assert_num_queries) -> None:
    scorecard(name="Default")
    scorecard(name="Onboarding", stage="onboarding")
    _portfolio(10)

    # scorecards; per scorecard: savepoint, measures with live overrides, the upsert,
    # release; accounts without a scorecard, snapshots, band changes, webhook endpoints
    # (for the health.changed events), live success flows triggered by band changes,
    # scorecards' status
    with django_assert_num_queries(15):
        services.recompute_scores(None, Context.now())


def test_every_account_gets_a_score_with_its_version() -> None:
    card = scorecard()
    rich = account_with_arr(1_600_000)
    poor = account_with_arr(200_000)

    services.recompute_scores(None, Context.now())

    scores = {row.account_id: row for row in HealthScore.objects.all()}
    assert scores[rich.pk].score == 80.0 and scores[rich.pk].band == "green"
    assert scores[poor.pk].score == 10.0 and scores[poor.pk].band == "red"
    assert {row.version_id for row in scores.values()} == {card.current_version_id}
    assert scores[rich.pk].groups == {"money": 80.0}
    assert scores[rich.pk].measures["arr"]["points"] == 80.0
    assert scores[rich.pk].measures["arr"]["weight_used"] == 100.0
    assert float(scores[rich.pk].measures["arr"]["value"]) == 1_600_000


def test_recompute_of_some_accounts_leaves_the_others() -> None:
    scorecard()
    first = account_with_arr(1_600_000)
    second = account_with_arr(200_000)

    services.recompute_scores([first.pk], Context.now())

    assert list(HealthScore.objects.values_list("account_id", flat=True)) == [first.pk]
    assert not HealthScore.objects.filter(account=second).exists()


def test_recompute_step_is_registered_and_idempotent() -> None:
    scorecard()
    account = account_with_arr(1_000_000)

    recompute.recompute([account.pk])
    first = HealthScore.objects.values("score", "band", "groups", "measures").get()
    recompute.recompute([account.pk])

    assert HealthScore.objects.values("score", "band", "groups", "measures").get() == first
    assert HealthSnapshot.objects.count() == 1


def test_accounts_no_scorecard_fits_have_no_score() -> None:
    scorecard(stage="renewal")
    account = account_with_arr(1_000_000, stage="adoption")

    services.recompute_scores(None, Context.now())

    row = HealthScore.objects.get(account=account)
    assert row.score is None and row.band == "none" and row.version is None


def test_churned_accounts_are_not_scored_by_the_default_scorecard() -> None:
    scorecard()
    churned = account_with_arr(1_000_000, stage="churned")

    services.recompute_scores(None, Context.now())

    assert HealthScore.objects.get(account=churned).band == "none"


def test_no_accounts_to_recompute_does_nothing(django_assert_num_queries) -> None:
    scorecard()

    with django_assert_num_queries(0):
        services.recompute_scores([], Context.now())
