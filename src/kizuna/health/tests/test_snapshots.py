"""Each day keeps one snapshot per account, updated by every recompute of that day; past
days can be backfilled by scoring them as of then."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.core.conditions import Context
from kizuna.customers import services as customer_services
from kizuna.customers.models import Subscription
from kizuna.health import services
from kizuna.health.models import HealthSnapshot
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import scorecard

pytestmark = pytest.mark.django_db


def test_one_snapshot_per_day_updated_by_later_recomputes() -> None:
    card = scorecard()
    account = account_with_arr(1_600_000)
    services.recompute_scores(None, Context.now())

    Subscription.objects.filter(account=account).update(arr=200_000)
    customer_services.refresh_rollups()
    services.recompute_scores(None, Context.now())

    snapshot = HealthSnapshot.objects.get(account=account)
    assert snapshot.day == timezone.localdate()
    assert (snapshot.score, snapshot.band) == (10.0, "red")
    assert snapshot.version_id == card.current_version_id
    assert snapshot.measures["arr"]["points"] == 10.0


def test_backfill_scores_past_days_as_of_then_and_keeps_existing_ones() -> None:
    scorecard()
    today = timezone.localdate()
    account = account_with_arr(0)
    # A contract that started 3 days ago: before that the account had no ARR.
    Subscription.objects.create(
        account=account,
        product="Kizuna",
        arr=1_000_000,
        mrr=83_333,
        start_date=today - datetime.timedelta(days=3),
        end_date=today + datetime.timedelta(days=300),
    )
    customer_services.refresh_rollups()
    services.recompute_scores(None, Context.now())
    HealthSnapshot.objects.filter(account=account).update(score=42)

    written = services.backfill_snapshots(today - datetime.timedelta(days=5), today)

    assert written == 5
    scores = dict(HealthSnapshot.objects.values_list("day", "score"))
    assert scores[today - datetime.timedelta(days=5)] == 0.0
    assert scores[today - datetime.timedelta(days=2)] == 50.0
    assert scores[today] == 42
