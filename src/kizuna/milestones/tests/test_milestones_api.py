"""Milestones in the REST API: managers and admins define them, everyone with a key reads;
a bad condition is a 422 naming where; an account's progress."""

from __future__ import annotations

import pytest

from kizuna.api.tests.conftest import ApiClient
from kizuna.core.conditions import Context
from kizuna.core.models import Role
from kizuna.customers.tests.factories import AccountFactory
from kizuna.milestones import services
from kizuna.milestones.models import Milestone
from kizuna.milestones.tests.factories import employees_at_least, milestone

pytestmark = pytest.mark.django_db

BASE = "/api/v1/milestones"


def _body(**fields: object) -> dict[str, object]:
    return {
        "stage": "onboarding",
        "key": "first_login",
        "name": "初回ログイン",
        "condition": employees_at_least(100),
        "target_days": 7,
        **fields,
    }


def test_a_manager_creates_reads_updates_and_deletes(make_token) -> None:
    manager = ApiClient(make_token(Role.MANAGER))

    created = manager.post(BASE, _body())
    assert created.status_code == 201
    ident = created.json()["id"]
    assert created.json()["order"] == 10

    assert manager.get(f"{BASE}/{ident}").json()["key"] == "first_login"
    assert manager.get(BASE, stage="onboarding").json()["count"] == 1

    patched = manager.patch(f"{BASE}/{ident}", {"target_days": 10, "enabled": False})
    assert (patched.json()["target_days"], patched.json()["enabled"]) == (10, False)

    assert manager.delete(f"{BASE}/{ident}").status_code == 204
    assert not Milestone.objects.exists()


def test_a_csm_key_reads_but_cannot_write(make_token) -> None:
    csm = ApiClient(make_token(Role.CSM))
    milestone()

    assert csm.get(BASE).status_code == 200
    assert csm.post(BASE, _body(key="other")).status_code == 403


def test_a_bad_condition_is_a_422_naming_where(api: ApiClient) -> None:
    response = api.post(BASE, _body(condition={"and": [{**employees_at_least(1), "op": "in"}]}))

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["condition.and[0].op"]
    assert not Milestone.objects.exists()


def test_a_taken_key_is_a_409(api: ApiClient) -> None:
    milestone("first_login")

    response = api.post(BASE, _body())

    assert response.status_code == 409
    assert list(response.json()["error"]["fields"]) == ["key"]


def test_the_stage_cannot_be_patched(api: ApiClient) -> None:
    goal = milestone()

    response = api.patch(f"{BASE}/{goal.pk}", {"stage": "renewal"})

    assert response.status_code == 422


def test_an_accounts_milestones_with_the_values_seen(api: ApiClient) -> None:
    goal = milestone("big_team")
    account = AccountFactory.create(stage="onboarding", employees=500)
    services.recompute_milestones(None, Context.now())

    response = api.get(f"/api/v1/accounts/{account.pk}/milestones")

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["milestone"] == {
        "id": goal.pk,
        "key": "big_team",
        "name": goal.name,
        "stage": "onboarding",
    }
    assert row["status"] == "reached"
    assert row["reached_values"][0]["value"] == 500


def test_an_unknown_account_is_a_404(api: ApiClient) -> None:
    assert api.get("/api/v1/accounts/999999/milestones").status_code == 404
