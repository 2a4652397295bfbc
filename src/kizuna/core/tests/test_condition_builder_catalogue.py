"""The builder's catalogue: every registered metric by category, parameters as form inputs,
operators per value type with people's labels, choices — and choices that depend on the
parameters, resolved on request."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.customers.models import CustomFieldDefinition

pytestmark = pytest.mark.django_db


def _catalogue(client: Client, language: str = "en") -> dict[str, Any]:
    response = client.get(reverse("core:conditions_metrics"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.json()


def _metric(catalogue: dict[str, Any], key: str) -> dict[str, Any]:
    for category in catalogue["categories"]:
        for metric in category["metrics"]:
            if metric["key"] == key:
                return {**metric, "category": category["label"]}
    raise AssertionError(f"{key} is not in the catalogue")


def test_a_metric_with_a_window_has_a_number_input_with_its_bounds(csm_client: Client) -> None:
    logins = _metric(_catalogue(csm_client), "usage.logins")

    assert logins["category"] == "Usage"
    assert logins["label"] == "Logins"
    assert logins["value_type"] == "number"
    assert logins["params"] == [
        {
            "name": "days",
            "label": "Days",
            "input": "number",
            "type": "integer",
            "required": False,
            "default": 30,
            "min": 1,
            "max": 365,
            "options": None,
        }
    ]


def test_an_enum_parameter_is_a_select_with_its_labels(csm_client: Client) -> None:
    count = _metric(_catalogue(csm_client), "touchpoint.count")
    kind = next(param for param in count["params"] if param["name"] == "kind")

    assert kind["input"] == "select"
    assert kind["required"] is False
    assert ["seminar", "Seminar / webinar"] in kind["options"]


def test_a_choice_metric_lists_its_choices(csm_client: Client) -> None:
    tier = _metric(_catalogue(csm_client), "account.tier")

    assert tier["category"] == "Account"
    assert tier["value_type"] == "choice"
    assert tier["params"] == []
    assert tier["choices"] == [["high", "High touch"], ["low", "Low touch"], ["tech", "Tech touch"]]


def test_operators_are_listed_per_value_type_with_labels(csm_client: Client) -> None:
    operators = _catalogue(csm_client)["operators"]

    assert [op["op"] for op in operators["choice"]] == ["in", "not_in", "empty", "not_empty"]
    assert {"op": "between", "label": "is between", "arity": "two"} in operators["number"]
    assert {"op": "contains", "label": "contains", "arity": "one"} in operators["text"]
    assert [op["label"] for op in operators["boolean"]] == ["is yes", "is no"]


def test_custom_fields_are_offered_as_a_list_for_the_field_parameter(csm_client: Client) -> None:
    CustomFieldDefinition.objects.create(
        key="plan", label_ja="プラン", label_en="Plan", field_type="choice", choices=["A", "B"]
    )
    custom = _metric(_catalogue(csm_client), "account.custom_field")

    assert custom["params"][0]["input"] == "select"
    assert custom["params"][0]["options"] == [["plan", "Plan"]]
    # Which type it has depends on the field chosen: resolved once it is.
    assert custom["value_type"] is None


def test_the_catalogue_is_in_the_request_language(csm_client: Client) -> None:
    tier = _metric(_catalogue(csm_client, "ja"), "account.tier")

    assert tier["label"] == "ティア"
    assert tier["choices"][0] == ["high", "ハイタッチ"]


def test_choices_of_a_custom_field_come_with_its_value_type(csm_client: Client) -> None:
    CustomFieldDefinition.objects.create(
        key="plan", label_ja="プラン", label_en="Plan", field_type="choice", choices=["A", "B"]
    )
    response = csm_client.get(
        reverse("core:conditions_choices"),
        {"metric": "account.custom_field", "params": json.dumps({"field": "plan"})},
    )

    body = response.json()
    assert body["value_type"] == "choice"
    assert body["choices"] == [["A", "A"], ["B", "B"]]
    assert [op["op"] for op in body["operators"]] == ["in", "not_in", "empty", "not_empty"]
    assert body["error"] == ""


def test_choices_for_invalid_parameters_say_which_parameter(csm_client: Client) -> None:
    response = csm_client.get(
        reverse("core:conditions_choices"),
        {"metric": "usage.logins", "params": json.dumps({"days": 0})},
    )

    body = response.json()
    assert response.status_code == 200
    assert body["value_type"] is None
    assert body["error_path"] == "params.days"
    assert "greater than or equal to 1" in body["error"]


def test_choices_of_an_unknown_metric_are_refused_by_name(csm_client: Client) -> None:
    response = csm_client.get(reverse("core:conditions_choices"), {"metric": "nope"})

    assert response.json()["error"] == "Unknown metric “nope”."


def test_the_catalogue_needs_a_signed_in_user(client: Client) -> None:
    response = client.get(reverse("core:conditions_metrics"))

    assert response.status_code == 302
    assert "/login/" in response["Location"]
