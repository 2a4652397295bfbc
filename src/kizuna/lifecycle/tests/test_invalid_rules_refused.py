"""An invalid stage rule is refused with a message that says where, and nothing is
saved — in the settings page and in the API."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.lifecycle.models import StageRule
from kizuna.lifecycle.tests.factories import StageRuleFactory

pytestmark = pytest.mark.django_db

WRONG_OPERATOR = {
    "and": [
        {"metric": "account.days_in_stage", "op": "gte", "value": 14},
        {"metric": "subscription.arr", "op": "contains", "value": "x"},
    ]
}


def _post(client: Client, **changes: object):
    data = {
        "name": "Onboarding done",
        "to_stage": "adoption",
        "from_stages": ["onboarding"],
        "conditions": json.dumps({"metric": "account.days_in_stage", "op": "gte", "value": 14}),
        "priority": "10",
        "enabled": "on",
        "description": "",
    }
    data.update(changes)  # type: ignore[arg-type]
    return client.post(reverse("lifecycle:rule_new"), data)


def test_a_valid_rule_is_saved(manager_client, no_rules):
    response = _post(manager_client)

    assert response.status_code == 302
    rule = StageRule.objects.get()
    assert (rule.from_stages, rule.to_stage) == (["onboarding"], "adoption")


def test_a_wrong_operator_is_refused_with_its_place_in_the_tree(manager_client, no_rules):
    response = _post(manager_client, conditions=json.dumps(WRONG_OPERATOR))

    assert "at and[1].op:" in response.content.decode()
    assert not StageRule.objects.exists()


def test_an_unknown_metric_is_refused(manager_client, no_rules):
    response = _post(
        manager_client, conditions=json.dumps({"metric": "usage.nope", "op": "gt", "value": 1})
    )

    assert "Unknown metric" in response.content.decode()
    assert not StageRule.objects.exists()


def test_a_rule_into_a_stage_it_moves_from_is_refused(manager_client, no_rules):
    response = _post(manager_client, from_stages=["onboarding", "adoption"])

    assert "cannot move accounts to a stage they are in" in response.content.decode()
    assert not StageRule.objects.exists()


def test_a_rule_without_conditions_is_refused(manager_client, no_rules):
    response = _post(manager_client, conditions=json.dumps({"and": []}))

    assert "needs at least one condition" in response.content.decode()
    assert not StageRule.objects.exists()


def test_a_csm_cannot_change_rules(csm_client, no_rules):
    assert _post(csm_client).status_code == 403
    assert not StageRule.objects.exists()


def test_the_api_names_the_place_in_the_tree(manager_client, no_rules):
    response = manager_client.post(
        "/api/v1/stage-rules",
        json.dumps(
            {
                "name": "x",
                "from_stages": ["onboarding"],
                "to_stage": "adoption",
                "conditions": WRONG_OPERATOR,
            }
        ),
        content_type="application/json",
    )

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["conditions.and[1].op"]
    assert not StageRule.objects.exists()


def test_an_api_update_that_is_invalid_changes_nothing(manager_client, no_rules):
    rule = StageRuleFactory.create(from_stages=["adoption"], to_stage="renewal")

    response = manager_client.patch(
        f"/api/v1/stage-rules/{rule.pk}",
        json.dumps({"to_stage": "adoption", "name": "renamed"}),
        content_type="application/json",
    )

    assert response.status_code == 422
    assert "to_stage" in response.json()["error"]["fields"]
    rule.refresh_from_db()
    assert (rule.to_stage, rule.name) == ("renewal", rule.name)
    assert rule.name != "renamed"
