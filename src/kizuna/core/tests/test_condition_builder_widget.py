"""Every ConditionField renders as the visual builder over its JSON, which stays the value
the server validates; "Find accounts" is the builder's own page."""

from __future__ import annotations

import json

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from kizuna.core.conditions.forms import ConditionField
from kizuna.core.conditions.widgets import ConditionBuilderWidget
from kizuna.customers.tests.factories import AccountFactory


class RuleForm(forms.Form):
    condition = ConditionField()
    quiet = ConditionField(preview=False, required=False)


def test_a_condition_field_renders_the_builder_over_its_json() -> None:
    html = str(RuleForm()["condition"])

    assert "data-condition-builder" in html
    assert 'data-catalogue-url="/conditions/metrics.json"' in html
    assert 'data-preview-url="/conditions/preview/"' in html
    assert 'data-preview="1"' in html
    assert '<textarea name="condition"' in html
    assert "kizuna/conditions.js" in html


def test_the_builder_never_marks_its_hidden_textarea_required() -> None:
    html = str(RuleForm()["condition"])

    assert "required" not in html.split("<textarea", 1)[1].split(">", 1)[0]


def test_the_preview_can_be_turned_off() -> None:
    field = RuleForm().fields["quiet"]

    assert isinstance(field.widget, ConditionBuilderWidget)
    assert 'data-preview="0"' in str(RuleForm()["quiet"])


def test_the_json_is_shown_indented_for_people_without_javascript() -> None:
    tree = {"and": [{"metric": "account.tier", "op": "in", "value": ["high"]}]}
    form = RuleForm(initial={"condition": tree})

    assert "\n  &quot;and&quot;: [" in str(form["condition"])


@pytest.mark.django_db
def test_the_field_still_refuses_an_invalid_tree_with_where() -> None:
    tree = {"and": [{"metric": "account.tier", "op": "gt", "value": 1}]}
    form = RuleForm(data={"condition": json.dumps(tree)})

    assert not form.is_valid()
    assert str(form.errors["condition"][0]).startswith("at and[0].op: ")


@pytest.mark.django_db
def test_find_accounts_shows_the_builder(csm_client: Client) -> None:
    response = csm_client.get(reverse("core:conditions_explore"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Find accounts" in html
    assert "data-condition-builder" in html


@pytest.mark.django_db
def test_find_accounts_without_javascript_shows_the_result_of_a_submitted_tree(
    viewer_client: Client,
) -> None:
    AccountFactory.create(name="サクラ物流", tier="high")
    AccountFactory.create(name="アオゾラ商事", tier="low")
    tree = {"and": [{"metric": "account.tier", "op": "in", "value": ["high"]}]}

    response = viewer_client.get(reverse("core:conditions_explore"), {"tree": json.dumps(tree)})

    html = response.content.decode()
    assert 'data-matched="1" data-total="2"' in html
    assert "サクラ物流" in html


@pytest.mark.django_db
def test_find_accounts_shows_an_invalid_tree_as_the_field_error(csm_client: Client) -> None:
    tree = {"and": [{"metric": "usage.logins", "params": {"days": 0}, "op": "gte", "value": 1}]}

    response = csm_client.get(reverse("core:conditions_explore"), {"tree": json.dumps(tree)})

    html = response.content.decode()
    assert "at and[0].params.days: Invalid parameter" in html
    assert "data-matched" not in html
