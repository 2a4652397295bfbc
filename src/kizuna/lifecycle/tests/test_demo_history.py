"""The demo portfolio comes with stage rules, realistic time in stage, and a history that
leads to each account's stage."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kizuna.customers import demo
from kizuna.customers.choices import LifecycleStage
from kizuna.customers.models import Account, TierChange
from kizuna.lifecycle.models import StageChange, StageRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(no_rules) -> None:
    demo.generate(120, seed=7, touchpoints_per_account=1)


def test_the_default_rules_are_loaded(portfolio):
    assert StageRule.objects.count() == 4


def test_time_in_stage_is_spread_over_the_past(portfolio):
    days = {
        (timezone.localdate() - entered).days
        for entered in Account.objects.values_list("stage_entered_on", flat=True)
    }
    assert min(days) >= 0
    assert len(days) > 20


def test_each_history_ends_in_the_accounts_stage(portfolio):
    latest: dict[int, str] = {}
    for account_id, to_stage in StageChange.objects.order_by("changed_at", "id").values_list(
        "account_id", "to_stage"
    ):
        latest[account_id] = to_stage
    stages = dict(Account.objects.values_list("pk", "stage"))

    assert latest
    assert all(stages[account_id] == stage for account_id, stage in latest.items())
    onboarding = {pk for pk, stage in stages.items() if stage == LifecycleStage.ONBOARDING}
    assert not onboarding & set(latest)


def test_a_few_accounts_have_changed_tier(portfolio):
    assert 0 < TierChange.objects.count() < Account.objects.count() / 4
