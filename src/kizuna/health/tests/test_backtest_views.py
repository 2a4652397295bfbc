"""The backtest in the scorecard editor: managers run it on the draft or a saved version and
read the figures in words; moving a threshold re-reads them without scoring again; CSMs and
viewers are refused."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kizuna.health import backtest
from kizuna.health.models import Scorecard
from kizuna.health.tests import backtest_data
from kizuna.health.tests.factories import current, scorecard

pytestmark = pytest.mark.django_db

SENTENCE = (
    "With these thresholds, 1 of 1 churned account would have been red 60 days earlier; "
    "1 healthy accounts flagged."
)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    backtest.store().clear()


@pytest.fixture
def draft() -> dict[str, str]:
    backtest_data.build()
    return backtest_data.editor_inputs(backtest_data.login_rate_definition(), **{"bt-reset": "1"})


def _post(client: Client, data: dict[str, str]) -> tuple[int, str]:
    response = client.post(reverse("health:backtest"), data)
    return response.status_code, response.content.decode()


def test_a_manager_backtests_the_draft(manager_client: Client, draft: dict[str, str]) -> None:
    status, page = _post(manager_client, draft)
    assert status == 200
    assert SENTENCE in page
    assert 'id="backtest-bands"' in page
    assert "0.5 = no better than chance" in page
    assert 'name="bt-red_below"' in page


def test_a_saved_version_is_backtested_with_its_scorecard_stage(
    manager_client: Client, draft: dict[str, str]
) -> None:
    version = current(scorecard(backtest_data.login_rate_definition()))
    status, page = _post(manager_client, {**draft, "bt-source": str(version.pk)})
    assert status == 200
    assert SENTENCE in page


def test_moving_a_threshold_rereads_the_remembered_scores(
    manager_client: Client, draft: dict[str, str]
) -> None:
    _post(manager_client, draft)
    moved = {**draft, "bt-reset": "", "bt-only": "figures", "bt-red_below": "0"}
    with CaptureQueriesContext(connection) as captured:
        status, page = _post(manager_client, moved)
    assert status == 200
    assert "would have been red" in page
    assert "0 of 1 churned account" in page
    assert 'name="bt-red_below"' not in page  # only the figures are swapped
    assert not any("usage_contactdailyusage" in q["sql"] for q in captured.captured_queries)


def test_an_invalid_draft_says_where(manager_client: Client, draft: dict[str, str]) -> None:
    status, page = _post(manager_client, {**draft, "d-g0-weight": "50"})
    assert status == 400
    assert "The draft is not valid" in page
    assert "add up to 50" in page


def test_red_above_green_is_refused(manager_client: Client, draft: dict[str, str]) -> None:
    moved = {**draft, "bt-reset": "", "bt-red_below": "80", "bt-green_from": "60"}
    status, page = _post(manager_client, moved)
    assert status == 400
    assert "cannot be above" in page


def test_an_unknown_horizon_is_refused(manager_client: Client, draft: dict[str, str]) -> None:
    status, page = _post(manager_client, {**draft, "bt-horizon": "45"})
    assert status == 400
    assert "30 / 60 / 90" in page


@pytest.mark.parametrize("client_name", ["csm_client", "viewer_client"])
def test_only_managers_run_backtests(
    request: pytest.FixtureRequest, client_name: str, draft: dict[str, str]
) -> None:
    client: Client = request.getfixturevalue(client_name)
    assert client.post(reverse("health:backtest"), draft).status_code == 403


def test_the_editor_has_the_backtest_section(manager_client: Client) -> None:
    card = scorecard(backtest_data.login_rate_definition())
    page = manager_client.get(card.get_absolute_url()).content.decode()
    assert 'id="backtest"' in page
    assert "Backtest against real outcomes" in page
    assert f'<option value="{card.current_version_id}">v1 (current)</option>' in page


def test_a_manager_loads_the_seed_templates(manager_client: Client) -> None:
    response = manager_client.post(reverse("health:install_templates"))
    assert response.status_code == 302
    assert Scorecard.objects.count() == 4


def test_a_csm_cannot_load_the_seed_templates(csm_client: Client) -> None:
    assert csm_client.post(reverse("health:install_templates")).status_code == 403
    assert not Scorecard.objects.exists()
