"""Measures whose metric cannot look back use today's value at every past date; the backtest
names them."""

from __future__ import annotations

import pytest

from kizuna.customers.models import CustomFieldDefinition
from kizuna.health import backtest
from kizuna.health.tests import backtest_data
from kizuna.health.tests.factories import current, definition, group, measure, scorecard

pytestmark = pytest.mark.django_db


def test_measures_without_history_are_reported() -> None:
    CustomFieldDefinition.objects.create(
        key="payment_delays", label_ja="支払遅延", label_en="Payment delays", field_type="boolean"
    )
    card = scorecard(
        definition(
            group(
                "usage",
                measure(
                    "login_rate",
                    "usage.login_rate",
                    backtest_data.LOGIN_RATE,
                    params={"days": 30},
                ),
                weight=60,
            ),
            group(
                "financial",
                measure(
                    "payment_delays",
                    "account.custom_field",
                    {"kind": "boolean", "true": 0, "false": 100},
                    params={"field": "payment_delays"},
                    weight=50,
                ),
                measure(
                    "tier", "account.tier", {"kind": "choices", "points": {"high": 100}}, weight=50
                ),
                weight=40,
            ),
        )
    )
    result = backtest.run(current(card), horizon=30)
    assert [m.key for m in result.static_measures] == ["payment_delays", "tier"]


def test_a_scorecard_of_historical_measures_reports_none() -> None:
    card = scorecard(backtest_data.login_rate_definition())
    assert backtest.run(current(card), horizon=30).static_measures == []
