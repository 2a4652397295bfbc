"""Scorecards are versioned: editing the definition adds a version, versions never change,
and every score records the version that computed it."""

from __future__ import annotations

import pytest

from kizuna.core.conditions import Context
from kizuna.health import services
from kizuna.health.models import HealthScore, HealthSnapshot
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import arr_definition, current, scorecard

pytestmark = pytest.mark.django_db


def test_editing_the_definition_adds_a_version_and_keeps_the_old_one() -> None:
    card = scorecard(arr_definition())
    first = current(card)

    card = services.update_scorecard(
        None, card, definition=arr_definition(green_from=90), note="Green is harder"
    )

    assert current(card).number == 2
    assert current(card).note == "Green is harder"
    first.refresh_from_db()
    assert first.definition["bands"]["green_from"] == 70


def test_saving_the_same_definition_adds_no_version() -> None:
    card = scorecard(arr_definition())

    card = services.update_scorecard(None, card, definition=arr_definition(), name="Renamed")

    assert card.versions.count() == 1 and card.name == "Renamed"


def test_scores_record_the_version_that_computed_them() -> None:
    card = scorecard(arr_definition())
    account = account_with_arr(1_600_000)
    services.recompute_scores(None, Context.now())
    assert HealthScore.objects.get(account=account).band == "green"

    card = services.update_scorecard(None, card, definition=arr_definition(green_from=90))
    services.recompute_scores(None, Context.now())

    row = HealthScore.objects.get(account=account)
    assert row.version == card.current_version and row.band == "yellow"
    assert HealthSnapshot.objects.get(account=account).version == card.current_version


def test_a_scorecard_that_scored_cannot_be_deleted() -> None:
    card = scorecard()
    account_with_arr(1_000_000)
    services.recompute_scores(None, Context.now())

    with pytest.raises(services.ScorecardInUse):
        services.delete_scorecard(None, card)


def test_a_new_version_recomputes_scores_in_the_background(
    django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from types import SimpleNamespace

    from kizuna.health import tasks

    queued: list[str] = []
    stub = SimpleNamespace(enqueue=lambda: queued.append("health"))
    monkeypatch.setattr(tasks, "recompute_health", stub)
    card = scorecard()

    with django_capture_on_commit_callbacks(execute=True):
        services.update_scorecard(None, card, definition=arr_definition(red_below=20))
    with django_capture_on_commit_callbacks(execute=True):
        services.update_scorecard(None, card, description="Only the words changed")

    assert queued == ["health"]
