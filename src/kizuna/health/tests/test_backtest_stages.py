"""A stage's scorecard is backtested on the accounts that were in that stage at each date,
from their stage history — a churned account is scored as the renewal account it was."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.customers.choices import LifecycleStage
from kizuna.customers.models import Account
from kizuna.health import backtest
from kizuna.health.models import ScorecardVersion
from kizuna.health.tests import backtest_data
from kizuna.health.tests.factories import current, scorecard
from kizuna.lifecycle.choices import StageChangeSource
from kizuna.lifecycle.models import StageChange

pytestmark = pytest.mark.django_db


def _moved(account: Account, from_stage: str, to_stage: str, days_ago: int) -> None:
    StageChange.objects.create(
        account=account,
        from_stage=from_stage,
        to_stage=to_stage,
        changed_at=timezone.now() - datetime.timedelta(days=days_ago),
        source=StageChangeSource.MANUAL,
    )


@pytest.fixture
def portfolio() -> backtest_data.Portfolio:
    portfolio = backtest_data.build(busy=2)
    # The leaver entered renewal 100 days ago and churned when its contract ended.
    _moved(portfolio.leaver, LifecycleStage.VALUE, LifecycleStage.RENEWAL, 100)
    _moved(portfolio.leaver, LifecycleStage.RENEWAL, LifecycleStage.CHURNED, 30)
    # The quiet account is in renewal since 200 days, with no recorded move.
    Account.objects.filter(pk=portfolio.quiet.pk).update(stage=LifecycleStage.RENEWAL)
    return portfolio


def _renewal_card() -> ScorecardVersion:
    card = scorecard(backtest_data.login_rate_definition(), stage=LifecycleStage.RENEWAL)
    return current(card)


def test_only_accounts_in_the_stage_at_the_date_are_scored(portfolio) -> None:
    result = backtest.run(
        _renewal_card(), horizon=60, selector=backtest.Selector(stage=LifecycleStage.RENEWAL)
    )
    today = timezone.localdate()
    scored = {(o.account_id, (today - o.day).days) for o in result.observations}
    assert scored == {
        (portfolio.leaver.pk, 90),
        (portfolio.leaver.pk, 60),
        (portfolio.quiet.pk, 120),
        (portfolio.quiet.pk, 90),
        (portfolio.quiet.pk, 60),
    }
    assert [lead.account_id for lead in result.lead] == [portfolio.leaver.pk]


def test_every_customer_can_be_scored_whatever_its_stage(portfolio) -> None:
    result = backtest.run(
        _renewal_card(),
        horizon=60,
        selector=backtest.Selector(stage=LifecycleStage.RENEWAL, all_stages=True),
    )
    assert {o.account_id for o in result.observations} == {
        portfolio.leaver.pk,
        portfolio.quiet.pk,
        *(account.pk for account in portfolio.busy),
    }


def test_a_churned_account_without_history_counts_as_a_customer_before_it_left() -> None:
    portfolio = backtest_data.build(busy=1)
    result = backtest.run(current(scorecard(backtest_data.login_rate_definition())), horizon=60)
    assert portfolio.leaver.pk in {o.account_id for o in result.observations}
