"""A large portfolio is backtested by the background worker: the editor shows how far it
is and asks again until the scores are there; the scores are remembered for the
thresholds to move over them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.health import backtest, services
from kizuna.health.models import ScorecardVersion
from kizuna.health.tests import backtest_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    backtest.store().clear()


@pytest.fixture
def draft_spec() -> backtest.Spec:
    backtest_data.build()
    parsed = services.validate_definition(backtest_data.login_rate_definition())
    return backtest.Spec.of(ScorecardVersion(definition=parsed.dump()), horizon=60)


def test_progress_is_reported_after_each_scoring_query(draft_spec: backtest.Spec) -> None:
    seen: list[tuple[int, int]] = []
    draft_spec.run(lambda done, total: seen.append((done, total)))
    # Three evaluation dates and one lead day.
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_a_large_portfolio_goes_to_the_worker_and_the_editor_waits(
    manager_client: Client, monkeypatch: pytest.MonkeyPatch, draft_spec: backtest.Spec
) -> None:
    monkeypatch.setattr(backtest, "BACKGROUND_FROM", 0)
    data = backtest_data.editor_inputs(backtest_data.login_rate_definition(), **{"bt-reset": "1"})

    waiting = manager_client.post(reverse("health:backtest"), data).content.decode()
    assert 'id="backtest-running"' in waiting
    assert "queued" in waiting

    backtest.compute(draft_spec)  # what the worker does
    done = manager_client.post(reverse("health:backtest"), data).content.decode()
    assert "1 of 1 churned account would have been red 60 days earlier" in done


def test_an_immediate_task_backend_answers_at_once(settings, draft_spec: backtest.Spec) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    fetched = backtest.fetch(draft_spec, background_from=0)
    assert fetched.backtest is not None
    assert fetched.backtest.figures().caught == 1


def test_a_remembered_backtest_is_read_again_without_scoring(
    draft_spec: backtest.Spec, django_assert_max_num_queries
) -> None:
    first = backtest.fetch(draft_spec)
    with django_assert_max_num_queries(0):
        again = backtest.fetch(draft_spec)
    assert (first.cached, again.cached) == (False, True)
    assert again.backtest is not None
    assert again.backtest.figures().caught == 1
