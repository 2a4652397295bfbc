"""The health pages render for the roles allowed, are refused to the others, and cost a
fixed number of queries whatever the size of the portfolio."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kizuna.core.conditions import Context
from kizuna.core.models import User
from kizuna.customers.tests.factories import TouchpointFactory
from kizuna.health import services
from kizuna.health.models import HealthSnapshot, MeasureOverride
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import scorecard

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(csm: User) -> list[int]:
    """A scored portfolio with a week of history."""
    card = scorecard(services.DEFAULT_DEFINITION, name="Standard health")
    ids = []
    for index in range(12):
        account = account_with_arr(200_000 * index, owner=csm if index % 2 else None)
        TouchpointFactory.create(account=account, rating=["very_good", "good", "poor"][index % 3])
        ids.append(account.pk)
    services.recompute_scores(None, Context.now())
    week_ago = timezone.localdate() - datetime.timedelta(days=7)
    HealthSnapshot.objects.bulk_create(
        HealthSnapshot(
            account_id=pk, day=week_ago, score=50, band="yellow", version_id=card.current_version_id
        )
        for pk in ids
    )
    return ids


def test_overview_shows_bands_movers_and_risk(csm_client: Client, scored: list[int]) -> None:
    response = csm_client.get(reverse("health:overview"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="band-distribution"' in page
    assert 'id="tier-bands"' in page and 'id="stage-bands"' in page
    assert 'id="movers-down"' in page or 'id="movers-up"' in page
    assert "ARR at risk" in page


def test_overview_query_count(
    csm_client: Client, scored: list[int], django_assert_num_queries
) -> None:
    # session, user, the band GROUP BY, movers up, movers down, errors, scorecards
    with django_assert_num_queries(7):
        response = csm_client.get(reverse("health:overview"), {"owner": "me"})
    assert response.status_code == 200


def test_account_panel_explains_the_score(csm_client: Client, scored: list[int]) -> None:
    response = csm_client.get(reverse("health:account_panel", args=[scored[1]]))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="health-panel"' in page
    assert "Login rate (30 days)" in page
    assert "no data — weight redistributed" in page
    assert 'id="override-form"' in page
    assert 'id="health-chart"' in page


def test_account_panel_query_count(
    csm_client: Client, scored: list[int], django_assert_num_queries
) -> None:
    # session, user, account, score+version+scorecard, snapshots, live overrides
    with django_assert_num_queries(6):
        response = csm_client.get(reverse("health:account_panel", args=[scored[3]]))
    assert response.status_code == 200


def test_viewer_reads_the_panel_without_the_override_form(
    viewer_client: Client, scored: list[int]
) -> None:
    response = viewer_client.get(reverse("health:account_panel", args=[scored[1]]))

    assert response.status_code == 200
    assert 'id="override-form"' not in response.content.decode()


def test_viewer_cannot_override(viewer_client: Client, scored: list[int]) -> None:
    response = viewer_client.post(
        reverse("health:override_new", args=[scored[1]]),
        {"measure_key": "login_rate", "points": 80, "comment": "x", "expires_on": "2099-01-01"},
    )

    assert response.status_code == 403
    assert not MeasureOverride.objects.exists()


def test_csm_overrides_a_measure_from_the_panel(csm_client: Client, scored: list[int]) -> None:
    until = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()

    response = csm_client.post(
        reverse("health:override_new", args=[scored[1]]),
        {
            "measure_key": "last_rating",
            "points": 100,
            "comment": "導入説明会で好評",
            "expires_on": until,
        },
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert "導入説明会で好評" in response.content.decode()
    assert MeasureOverride.objects.get().points == 100


def test_override_without_comment_is_refused(csm_client: Client, scored: list[int]) -> None:
    until = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()

    response = csm_client.post(
        reverse("health:override_new", args=[scored[1]]),
        {"measure_key": "last_rating", "points": 100, "comment": "", "expires_on": until},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400
    assert not MeasureOverride.objects.exists()


@pytest.mark.parametrize("name", ["health:scorecards", "health:scorecard_new"])
def test_scorecard_pages_are_for_managers(
    manager_client: Client, csm_client: Client, scored: list[int], name: str
) -> None:
    assert manager_client.get(reverse(name)).status_code == 200
    assert csm_client.get(reverse(name)).status_code == 403


def test_scorecard_editor_renders_the_definition_as_rows(
    manager_client: Client, scored: list[int]
) -> None:
    card = services.ordered_scorecards()[0]

    response = manager_client.get(reverse("health:scorecard", args=[card.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="d-g0-m0-metric"' in page
    assert 'value="login_rate"' in page
    assert 'id="versions"' in page


def test_scorecard_editor_query_count(
    manager_client: Client, scored: list[int], django_assert_max_num_queries
) -> None:
    card = services.ordered_scorecards()[0]
    # session, user, scorecard, versions, segments for the select, custom fields for the
    # metric list; bounded whatever the number of accounts
    with django_assert_max_num_queries(10):
        response = manager_client.get(reverse("health:scorecard", args=[card.pk]))
    assert response.status_code == 200
