"""A flow's results: the funnel, per-step outcomes, and outcomes against the hold-out."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.customers.tests.factories import AccountFactory
from kizuna.flows import engine, queries
from kizuna.flows.engine import Candidate
from kizuna.flows.models import Enrolment
from kizuna.flows.tests.factories import cta_step, make_flow
from kizuna.health.models import HealthSnapshot

pytestmark = pytest.mark.django_db

TRIGGER = {"type": "segment_entered", "segment": 1}


def test_the_funnel_and_the_steps_are_counted():
    flow = make_flow(TRIGGER, [cta_step()])
    engine.enrol(flow, [Candidate(account.pk) for account in AccountFactory.create_batch(3)])
    engine.run_due()
    result = queries.results(flow)
    assert result.entered == 3
    assert result.completed == 3
    assert result.steps["cta"] == {"done": 3}


def _group(flow, holdout: bool, n: int, before: float, after: float) -> None:
    entered = timezone.now() - datetime.timedelta(days=40)
    day = timezone.localdate(entered)
    for account in AccountFactory.create_batch(n):
        Enrolment.objects.create(
            flow=flow,
            version=flow.version,
            account=account,
            holdout=holdout,
            status="held_out" if holdout else "completed",
            entered_at=entered,
        )
        HealthSnapshot.objects.create(account=account, day=day, score=before, band="yellow")
        HealthSnapshot.objects.create(
            account=account, day=day + datetime.timedelta(days=30), score=after, band="green"
        )


def test_the_health_change_is_compared_with_the_hold_out():
    flow = make_flow(TRIGGER, [cta_step()])
    _group(flow, holdout=False, n=8, before=50, after=70)
    _group(flow, holdout=True, n=6, before=50, after=55)
    change = next(item for item in queries.results(flow).outcomes if item.key == "health_change")
    assert change.treated == pytest.approx(20)
    assert change.holdout == pytest.approx(5)
    assert change.lift == pytest.approx(15)
    assert change.treated_n == 8
    assert change.holdout_n == 6


def test_too_few_held_out_accounts_give_no_interval():
    flow = make_flow(TRIGGER, [cta_step()])
    _group(flow, holdout=False, n=8, before=50, after=70)
    _group(flow, holdout=True, n=2, before=50, after=55)
    change = next(item for item in queries.results(flow).outcomes if item.key == "health_change")
    assert change.lift == pytest.approx(15)
    assert not change.enough


def test_an_interval_around_a_rate_difference():
    low, high = queries._rate_interval(0.2, 100, 0.4, 100)
    assert low == pytest.approx(-0.2 - 1.959964 * ((0.16 / 100 + 0.24 / 100) ** 0.5))
    assert high is not None
    assert high < 0
