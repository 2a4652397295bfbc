"""Each account is scored by the most specific active scorecard that fits it: its stage
(and segment), else the default."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kizuna.core.conditions import Context
from kizuna.health import services
from kizuna.health.models import HealthScore
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import arr_definition, scorecard

pytestmark = pytest.mark.django_db


def _scorecard_of(account) -> str:
    row = HealthScore.objects.select_related("version__scorecard").get(account=account)
    assert row.version is not None
    return row.version.scorecard.name


def test_the_stage_scorecard_wins_over_the_default() -> None:
    scorecard(name="Default")
    scorecard(name="Renewal", stage="renewal")
    renewing = account_with_arr(1_000_000, stage="renewal")
    adopting = account_with_arr(1_000_000, stage="adoption")

    services.recompute_scores(None, Context.now())

    assert _scorecard_of(renewing) == "Renewal"
    assert _scorecard_of(adopting) == "Default"


def test_lower_priority_number_wins_among_equals() -> None:
    scorecard(name="Second", stage="adoption", priority=20)
    scorecard(name="First", stage="adoption", priority=10)
    account = account_with_arr(1_000_000, stage="adoption")

    services.recompute_scores(None, Context.now())

    assert _scorecard_of(account) == "First"


def test_inactive_scorecards_score_nobody() -> None:
    scorecard(name="Default")
    scorecard(name="Renewal", stage="renewal", is_active=False)
    account = account_with_arr(1_000_000, stage="renewal")

    services.recompute_scores(None, Context.now())

    assert _scorecard_of(account) == "Default"


def test_a_segment_scorecard_wins_for_its_members() -> None:
    from kizuna.segments.models import Segment, SegmentMembership

    segment = Segment.objects.create(name="Enterprise", kind="static")
    member = account_with_arr(1_000_000, stage="adoption")
    other = account_with_arr(1_000_000, stage="adoption")
    SegmentMembership.objects.create(segment=segment, account=member, entered_at=timezone.now())
    scorecard(name="Adoption", stage="adoption")
    scorecard(
        arr_definition(green_from=40),
        name="Enterprise adoption",
        stage="adoption",
        segment_id=segment.pk,
    )

    services.recompute_scores(None, Context.now())

    assert _scorecard_of(member) == "Enterprise adoption"
    assert _scorecard_of(other) == "Adoption"


def test_scorecard_of_one_account() -> None:
    scorecard(name="Default")
    renewal = scorecard(name="Renewal", stage="renewal")
    account = account_with_arr(1_000_000, stage="renewal")

    assert services.scorecard_of(account.pk) == renewal
