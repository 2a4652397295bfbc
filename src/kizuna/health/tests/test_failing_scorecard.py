"""A scorecard whose computation fails never stops the others: its accounts keep their
last score, the error is recorded on them and on the scorecard, and shown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.core.conditions import Context, metrics
from kizuna.core.conditions.metrics import Metric, ValueType
from kizuna.health import services
from kizuna.health.models import HealthScore, Scorecard
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import arr_definition, definition, group, measure, scorecard

pytestmark = pytest.mark.django_db


class Fragile(Metric):
    key = "test.fragile"
    label = "Fragile"
    category = "Test"
    broken = False

    def value_type(self, params: Any) -> ValueType:
        return ValueType.NUMBER

    def expression(self, params: Any, ctx: Context) -> Any:
        if Fragile.broken:
            raise RuntimeError("the usage store is unreachable")
        from django.db.models import F

        return F("arr")


@pytest.fixture
def fragile() -> Iterator[type[Fragile]]:
    metrics.register(Fragile)
    Fragile.broken = False
    yield Fragile
    metrics._REGISTRY.pop(Fragile.key, None)


def test_one_failing_scorecard_does_not_stop_the_others(fragile) -> None:
    onboarding = scorecard(
        definition(
            group("g", measure("m", "test.fragile", {"kind": "linear", "from": 0, "to": 2_000_000}))
        ),
        name="Onboarding",
        stage="onboarding",
    )
    scorecard(arr_definition(), name="Default")
    stuck = account_with_arr(1_000_000, stage="onboarding")
    fine = account_with_arr(1_600_000, stage="adoption")
    services.recompute_scores(None, Context.now())
    fragile.broken = True

    report = services.recompute_scores(None, Context.now())

    assert "unreachable" in report.errors[onboarding.pk]
    stuck_row = HealthScore.objects.get(account=stuck)
    assert stuck_row.score == 50.0  # the last good score is kept
    assert "unreachable" in stuck_row.error
    assert HealthScore.objects.get(account=fine).score == 80.0
    onboarding.refresh_from_db()
    assert "unreachable" in onboarding.last_error


def test_errors_are_visible_on_the_overview_and_the_panel(fragile, manager_client: Client) -> None:
    scorecard(
        definition(
            group("g", measure("m", "test.fragile", {"kind": "linear", "from": 0, "to": 1}))
        ),
        name="Fragile card",
    )
    account = account_with_arr(1_000_000)
    fragile.broken = True
    services.recompute_scores(None, Context.now())

    overview = manager_client.get(reverse("health:overview")).content.decode()
    panel = manager_client.get(reverse("health:account_panel", args=[account.pk])).content.decode()

    assert "Fragile card" in overview and "unreachable" in overview
    assert "unreachable" in panel


def test_the_next_good_run_clears_the_error(fragile) -> None:
    scorecard(
        definition(
            group("g", measure("m", "test.fragile", {"kind": "linear", "from": 0, "to": 1}))
        ),
    )
    account = account_with_arr(1_000_000)
    fragile.broken = True
    services.recompute_scores(None, Context.now())
    fragile.broken = False

    services.recompute_scores(None, Context.now())

    assert HealthScore.objects.get(account=account).error == ""
    assert Scorecard.objects.get().last_error == ""
