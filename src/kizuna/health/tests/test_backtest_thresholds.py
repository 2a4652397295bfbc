"""Trying other band thresholds re-reads the backtest's scores: the figures change, no query
runs (the scores do not depend on the thresholds)."""

from __future__ import annotations

import datetime

import pytest

from kizuna.health import backtest
from kizuna.health.tests import backtest_data
from kizuna.health.tests.factories import current, scorecard

pytestmark = pytest.mark.django_db


def test_moving_a_threshold_changes_the_figures_without_a_query(
    django_assert_num_queries,
) -> None:
    backtest_data.build()
    result = backtest.run(current(scorecard(backtest_data.login_rate_definition())), horizon=60)
    before = result.figures()
    with django_assert_num_queries(0):
        # Nothing below 0: no account is red any more.
        after = result.figures(red_below=0, green_from=70)
    assert (before.caught, before.flagged) == (1, 1)
    assert (after.caught, after.flagged) == (0, 0)
    assert after.lift is None
    assert before.auc == after.auc  # the ranking does not depend on the bands


def _empty(red_below: float, green_from: float) -> backtest.Backtest:
    return backtest.Backtest(
        today=datetime.date(2026, 1, 1), horizon=60, red_below=red_below, green_from=green_from
    )


def test_the_version_thresholds_are_the_default() -> None:
    figures = _empty(35, 75).figures()
    assert (figures.red_below, figures.green_from) == (35, 75)


def test_red_above_green_is_refused() -> None:
    with pytest.raises(backtest.BacktestError):
        _empty(40, 70).figures(red_below=80, green_from=70)
