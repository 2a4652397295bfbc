"""A backtest scores each account at past dates, as the scorecard would have then, and
compares with what happened: the account that stopped logging in months before it churned
is red, at the dates before it left and 60 days before its churn date."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.health import backtest
from kizuna.health.choices import Band
from kizuna.health.tests import backtest_data
from kizuna.health.tests.factories import current, scorecard

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio() -> backtest_data.Portfolio:
    return backtest_data.build()


def _run(**options: object) -> backtest.Backtest:
    card = scorecard(backtest_data.login_rate_definition())
    return backtest.run(current(card), horizon=60, **options)  # type: ignore[arg-type]


def test_evaluation_dates_start_where_the_usage_history_covers_the_window(portfolio) -> None:
    result = _run()
    today = timezone.localdate()
    # Usage starts 169 days ago; a 30-day login rate can be read from 140 days ago.
    assert result.dates == [today - datetime.timedelta(days=d) for d in (60, 90, 120)]
    assert result.skipped_dates == [today - datetime.timedelta(days=d) for d in (150, 180)]


def test_the_churned_account_was_red_60_days_before_it_churned(portfolio) -> None:
    result = _run()
    [lead] = result.lead
    assert lead.account_id == portfolio.leaver.pk
    assert lead.day == portfolio.churn_date - datetime.timedelta(days=60)
    assert lead.score == 0
    figures = result.figures()
    assert (figures.caught, figures.churned_accounts) == (1, 1)


def test_churn_rate_per_band(portfolio) -> None:
    figures = _run().figures()
    rows = {row.band: row for row in figures.bands}
    # Red: the leaver at the two dates before it churned, the quiet account at all three.
    assert (rows[Band.RED].scores, rows[Band.RED].churned) == (5, 2)
    assert rows[Band.RED].churn_rate == 40
    # Green: the busy accounts, and the leaver 120 days ago, when it still logged in.
    assert (rows[Band.GREEN].scores, rows[Band.GREEN].churned) == (10, 0)
    assert rows[Band.YELLOW].scores == 0


def test_lift_of_red_over_green_needs_churn_among_the_green(portfolio) -> None:
    figures = _run().figures()
    assert figures.green_rate == 0
    assert figures.lift is None
    assert figures.lift_infinite


def test_auc_ranks_the_churned_below_the_staying(portfolio) -> None:
    figures = _run().figures()
    # Both churned scores are 0: below the 10 green scores, tied with the quiet account's 3.
    assert figures.auc == pytest.approx((2 * 10 + 2 * 3 * 0.5) / (2 * 13))


def test_healthy_accounts_red_at_the_same_lead_are_flagged(portfolio) -> None:
    result = _run()
    figures = result.figures()
    # Of the four accounts that stayed, only the quiet one was red 60 days ago.
    assert (figures.flagged, figures.stayed_accounts) == (1, 4)
    assert result.stayed[portfolio.quiet.pk] == 0


def test_a_draft_not_saved_yet_can_be_backtested(portfolio) -> None:
    from kizuna.health.models import ScorecardVersion

    draft = ScorecardVersion(definition=backtest_data.login_rate_definition())
    figures = backtest.run(draft, horizon=60).figures()
    assert (figures.caught, figures.churned_accounts) == (1, 1)


def test_churn_counts_only_within_the_horizon_after_a_date(portfolio) -> None:
    card = scorecard(backtest_data.login_rate_definition())
    result = backtest.run(current(card), horizon=30)
    churned_days = {o.day for o in result.observations if o.churned}
    assert churned_days == {portfolio.churn_date - datetime.timedelta(days=30)}
