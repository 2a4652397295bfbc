"""Settings → Milestones (managers and admins) and the account panel: counts in one GROUP
BY, the form with the builder, enable, reorder, delete; pinned query counts."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from kizuna.core.conditions import Context
from kizuna.customers.tests.factories import AccountFactory
from kizuna.milestones import services
from kizuna.milestones.models import Milestone
from kizuna.milestones.tests.factories import days_ago, employees_at_least, milestone

pytestmark = pytest.mark.django_db

LIST = reverse("milestones:list")


def _form(**fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "stage": "onboarding",
        "name": "初回ログイン",
        "key": "first_login",
        "condition": json.dumps(employees_at_least(100)),
        "target_days": "7",
        "description": "",
        "enabled": "on",
    }
    data.update(fields)
    return data


def test_a_csm_cannot_open_the_settings(csm_client) -> None:
    assert csm_client.get(LIST).status_code == 403
    assert csm_client.post(reverse("milestones:new"), _form()).status_code == 403


@pytest.mark.parametrize("accounts", [3, 30])
def test_the_list_shows_counts_in_a_fixed_number_of_queries(
    manager_client, accounts: int, django_assert_num_queries
) -> None:
    milestone("big_team", target_days=7)
    milestone("other", stage="adoption")
    for index in range(accounts):
        AccountFactory.create(
            stage="onboarding", employees=500 if index else 5, stage_entered_on=days_ago(10)
        )
    services.recompute_milestones(None, Context.now())

    # Session, user, the counts (one GROUP BY), the milestones.
    with django_assert_num_queries(4):
        response = manager_client.get(LIST)

    page = response.content.decode()
    assert response.status_code == 200
    assert f'<td class="num milestone-reached">{accounts - 1}</td>' in page
    assert '<td class="num milestone-overdue">1</td>' in page


def test_a_manager_creates_a_milestone(manager_client) -> None:
    response = manager_client.post(reverse("milestones:new"), _form())

    assert response.status_code == 302
    saved = Milestone.objects.get()
    assert (saved.key, saved.target_days, saved.condition) == (
        "first_login",
        7,
        employees_at_least(100),
    )


def test_a_bad_condition_is_shown_with_where_and_nothing_is_saved(manager_client) -> None:
    tree = {"and": [{**employees_at_least(1), "op": "contains"}]}
    response = manager_client.post(reverse("milestones:new"), _form(condition=json.dumps(tree)))

    assert response.status_code == 400
    assert "and[0].op" in response.content.decode()
    assert not Milestone.objects.exists()


def test_a_taken_key_is_shown_on_the_key(manager_client) -> None:
    milestone("first_login")

    response = manager_client.post(reverse("milestones:new"), _form())

    assert response.status_code == 400
    assert "already has the key" in response.content.decode()
    assert Milestone.objects.count() == 1


def test_the_stage_cannot_be_changed_in_the_form(manager_client) -> None:
    goal = milestone("first_login")

    manager_client.post(reverse("milestones:edit", args=[goal.pk]), _form(stage="renewal"))

    assert Milestone.objects.get().stage == "onboarding"


def test_disable_move_and_delete(manager_client) -> None:
    first, second = milestone("a"), milestone("b")

    manager_client.post(reverse("milestones:enabled", args=[first.pk]), {"enabled": "0"})
    manager_client.post(reverse("milestones:move", args=[second.pk]), {"direction": "up"})
    first.refresh_from_db()
    assert not first.enabled
    assert list(Milestone.objects.order_by("order").values_list("key", flat=True)) == ["b", "a"]

    manager_client.post(reverse("milestones:delete", args=[first.pk]))
    assert list(Milestone.objects.values_list("key", flat=True)) == ["b"]


def test_the_account_panel_shows_progress_and_why(client_and_account, django_assert_num_queries):
    client, account = client_and_account

    # Session, user, the account, the milestones, the account's rows.
    with django_assert_num_queries(5):
        response = client.get(reverse("milestones:account_panel", args=[account.pk]))

    page = response.content.decode()
    assert "1 of 2 reached" in page
    assert 'id="milestone-percent">50%' in page
    assert "500" in page  # the value seen
    assert "overdue since" in page


@pytest.fixture
def client_and_account(csm_client):
    milestone("big_team", target_days=7)
    milestone(
        "huge_team",
        target_days=7,
        condition={**employees_at_least(5000)},
    )
    account = AccountFactory.create(stage="onboarding", employees=500, stage_entered_on=days_ago(9))
    services.recompute_milestones(None, Context.now())
    return csm_client, account
