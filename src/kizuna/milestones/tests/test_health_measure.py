"""A health scorecard can measure milestone progress: the step runs before health, so a
scorecard sees this pass's ticks."""

from __future__ import annotations

import pytest

from kizuna.core import recompute
from kizuna.customers.tests.factories import AccountFactory
from kizuna.health.models import HealthScore
from kizuna.health.tests.factories import definition, group, measure, scorecard
from kizuna.milestones.tests.factories import milestone

pytestmark = pytest.mark.django_db

PERCENT = {"kind": "linear", "from": 0, "to": 100}


def test_a_scorecard_measure_on_milestone_progress() -> None:
    scorecard(definition(group("adoption", measure("progress", "milestone.progress", PERCENT))))
    milestone("big_team")
    milestone(
        "huge_team",
        condition={
            "metric": "account.attribute",
            "params": {"field": "employees"},
            "op": "gte",
            "value": 5000,
        },
    )
    account = AccountFactory.create(stage="onboarding", employees=500)

    report = recompute.recompute([account.pk])

    assert report.errors == {}
    score = HealthScore.objects.get(account=account)
    assert float(score.measures["progress"]["value"]) == 50.0
    assert score.score == pytest.approx(50)
