"""A backtest runs one query per evaluation date (and per distinct lead day), never one per
account: its query count does not grow with the portfolio."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kizuna.health import backtest
from kizuna.health.tests import backtest_data
from kizuna.health.tests.factories import current, scorecard
from kizuna.usage.tests.helpers import store

pytestmark = pytest.mark.django_db


def _count(version: object) -> int:
    with CaptureQueriesContext(connection) as captured:
        backtest.run(version, horizon=60)  # type: ignore[arg-type]
    return len(captured)


def test_query_count_does_not_grow_with_accounts() -> None:
    backtest_data.build(busy=1)
    version = current(scorecard(backtest_data.login_rate_definition()))
    small = _count(version)
    events: list[tuple[str, str, datetime.datetime]] = []
    for _n in range(5):
        backtest_data.busy_customer(events)
    store(events)
    assert _count(version) == small


def test_the_queries_counted_are_the_ones_reported() -> None:
    backtest_data.build(busy=1)
    version = current(scorecard(backtest_data.login_rate_definition()))
    with CaptureQueriesContext(connection) as captured:
        result = backtest.run(version, horizon=60)
    assert result.queries == len(captured)
