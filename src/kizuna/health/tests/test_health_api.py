"""Health in the REST API: scorecards and versions (refused with paths when invalid),
scores with their explanation and history, overrides — with the roles of the UI."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.api import services as api_services
from kizuna.api.tests.conftest import ApiClient
from kizuna.core.conditions import Context
from kizuna.core.models import Role
from kizuna.health import services
from kizuna.health.models import MeasureOverride, Scorecard
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import arr_definition, scorecard

pytestmark = pytest.mark.django_db


def _client(role: str) -> ApiClient:
    _key, token = api_services.create_api_key(None, name=f"health {role}", role=role)
    return ApiClient(token)


@pytest.fixture
def manager_api() -> ApiClient:
    return _client(Role.MANAGER)


@pytest.fixture
def csm_api() -> ApiClient:
    return _client(Role.CSM)


@pytest.fixture
def viewer_api() -> ApiClient:
    return _client(Role.VIEWER)


def test_manager_creates_a_scorecard(manager_api: ApiClient) -> None:
    response = manager_api.post(
        "/api/v1/scorecards",
        {"name": "Renewal", "stage": "renewal", "definition": arr_definition(), "note": "first"},
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["stage"] == "renewal" and body["current_version"] == 1
    assert body["definition"]["groups"][0]["key"] == "money"


def test_invalid_definition_is_a_422_naming_where(manager_api: ApiClient) -> None:
    raw = arr_definition()
    raw["groups"][0]["measures"][0]["weight"] = 90

    response = manager_api.post("/api/v1/scorecards", {"name": "Broken", "definition": raw})

    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["definition.groups[0].measures"]
    assert "add up to 90" in fields["definition.groups[0].measures"][0]
    assert not Scorecard.objects.exists()


def test_csm_cannot_change_scorecards(csm_api: ApiClient) -> None:
    response = csm_api.post("/api/v1/scorecards", {"name": "X", "definition": arr_definition()})

    assert response.status_code == 403


def test_patch_with_a_definition_adds_a_version(manager_api: ApiClient) -> None:
    card = scorecard()

    response = manager_api.patch(
        f"/api/v1/scorecards/{card.pk}",
        {"definition": arr_definition(green_from=90), "note": "stricter", "priority": 5},
    )

    assert response.status_code == 200, response.json()
    assert response.json()["current_version"] == 2 and response.json()["priority"] == 5
    versions = manager_api.get(f"/api/v1/scorecards/{card.pk}/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert (
        manager_api.get(f"/api/v1/scorecards/{card.pk}/versions/1").json()["definition"]["bands"][
            "green_from"
        ]
        == 70
    )


def test_post_version(manager_api: ApiClient) -> None:
    card = scorecard()

    response = manager_api.post(
        f"/api/v1/scorecards/{card.pk}/versions", {"definition": arr_definition(red_below=30)}
    )

    assert response.status_code == 201 and response.json()["number"] == 2


def test_delete_an_unused_scorecard(manager_api: ApiClient) -> None:
    card = scorecard()

    assert manager_api.delete(f"/api/v1/scorecards/{card.pk}").status_code == 204
    assert not Scorecard.objects.exists()


def test_account_health_with_explanation_and_history(viewer_api: ApiClient) -> None:
    scorecard()
    account = account_with_arr(1_600_000)
    services.recompute_scores(None, Context.now())

    body = viewer_api.get(f"/api/v1/accounts/{account.pk}/health").json()
    history = viewer_api.get(f"/api/v1/accounts/{account.pk}/health/history", days=30).json()

    assert (body["score"], body["band"], body["version"]) == (80.0, "green", 1)
    measure = body["groups"][0]["measures"][0]
    assert (measure["key"], measure["points"], measure["weight_used"]) == ("arr", 80.0, 100.0)
    assert [(row["score"], row["band"]) for row in history] == [(80.0, "green")]


def test_list_scores_by_band(viewer_api: ApiClient) -> None:
    scorecard()
    account_with_arr(1_600_000)
    red = account_with_arr(100_000)
    services.recompute_scores(None, Context.now())

    body = viewer_api.get("/api/v1/health/scores", band="red").json()

    assert body["count"] == 1 and body["results"][0]["account_id"] == red.pk


def test_csm_overrides_and_removes(csm_api: ApiClient) -> None:
    scorecard()
    account = account_with_arr(200_000)
    until = (timezone.now() + datetime.timedelta(days=7)).isoformat()

    created = csm_api.post(
        f"/api/v1/accounts/{account.pk}/health/overrides",
        {"measure_key": "arr", "points": 95, "comment": "大型契約の更新確定", "expires_at": until},
    )
    assert created.status_code == 201, created.json()
    assert csm_api.get(f"/api/v1/accounts/{account.pk}/health").json()["score"] == 95.0

    removed = csm_api.delete(f"/api/v1/health/overrides/{created.json()['id']}")

    assert removed.status_code == 204
    assert csm_api.get(f"/api/v1/accounts/{account.pk}/health").json()["score"] == 10.0


def test_override_without_expiry_in_the_future_is_refused(csm_api: ApiClient) -> None:
    scorecard()
    account = account_with_arr(200_000)

    response = csm_api.post(
        f"/api/v1/accounts/{account.pk}/health/overrides",
        {"measure_key": "arr", "points": 95, "comment": "x", "expires_at": "2020-01-01T00:00:00Z"},
    )

    assert response.status_code == 422
    assert "expires_at" in response.json()["error"]["fields"]
    assert not MeasureOverride.objects.exists()


def test_viewer_cannot_override(viewer_api: ApiClient) -> None:
    scorecard()
    account = account_with_arr(200_000)

    response = viewer_api.post(
        f"/api/v1/accounts/{account.pk}/health/overrides",
        {"measure_key": "arr", "points": 95, "comment": "x", "expires_at": "2099-01-01T00:00:00Z"},
    )

    assert response.status_code == 403


def test_unknown_account_is_a_404(viewer_api: ApiClient) -> None:
    assert viewer_api.get("/api/v1/accounts/999999/health").status_code == 404
