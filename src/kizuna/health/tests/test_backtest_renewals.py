"""Besides churn, a backtest sees renewals (a won renewal, or a contract whose term rolled
over) and ARR moves (expanded / contracted) within the horizon after each date."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kizuna.customers import services as customer_services
from kizuna.customers.choices import OpportunityStage, SubscriptionStatus
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import (
    AccountFactory,
    OpportunityFactory,
    SubscriptionFactory,
)
from kizuna.health import backtest
from kizuna.health.tests.factories import arr_definition, current, scorecard

pytestmark = pytest.mark.django_db


def _ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def _customer(**contract: object) -> Account:
    account = AccountFactory.create()
    SubscriptionFactory.create(account=account, start_date=_ago(400), **contract)
    return account


def _outcomes(kind: str) -> set[tuple[int, int]]:
    """(account, days ago) of the observations with that outcome, horizon 60."""
    customer_services.refresh_rollups()
    result = backtest.run(current(scorecard(arr_definition())), horizon=60)
    today = timezone.localdate()
    return {(o.account_id, (today - o.day).days) for o in result.observations if getattr(o, kind)}


def test_a_contract_whose_term_rolled_over_renewed() -> None:
    # Its term ends in 230 days, so the previous term ended 135 days ago.
    account = _customer(end_date=_ago(-230))
    assert _outcomes("renewed") == {(account.pk, 150), (account.pk, 180)}


def test_a_won_renewal_opportunity_renewed() -> None:
    account = _customer(end_date=_ago(-300))
    OpportunityFactory.create(
        account=account, kind="renewal", stage=OpportunityStage.WON, close_date=_ago(70)
    )
    OpportunityFactory.create(
        account=account, kind="renewal", stage=OpportunityStage.LOST, close_date=_ago(160)
    )
    assert _outcomes("renewed") == {(account.pk, 90), (account.pk, 120)}


def test_an_add_on_bought_within_the_horizon_is_an_expansion() -> None:
    account = _customer(end_date=_ago(-300))
    SubscriptionFactory.create(
        account=account, start_date=_ago(50), end_date=_ago(-300), arr=Decimal(600_000)
    )
    assert _outcomes("expanded") == {(account.pk, 60), (account.pk, 90)}


def test_a_contract_ended_without_churning_the_account_is_a_contraction() -> None:
    account = _customer(end_date=_ago(-300))
    SubscriptionFactory.create(
        account=account,
        start_date=_ago(400),
        end_date=_ago(40),
        status=SubscriptionStatus.CANCELLED,
        arr=Decimal(600_000),
    )
    assert _outcomes("contracted") == {(account.pk, 60), (account.pk, 90)}
    assert _outcomes("churned") == set()
