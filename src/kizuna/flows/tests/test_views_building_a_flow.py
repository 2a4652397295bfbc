"""Building a flow on its page: each edit saves a new version through the services; a
refusal is shown at the step it names and keeps what was typed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.flows.choices import FlowStatus
from kizuna.flows.models import SuccessFlow
from kizuna.flows.tests.factories import cta_step, make_flow

pytestmark = pytest.mark.django_db

LOGIN_TWICE = {"type": "event", "event": "$login", "occurrence": 2}


def _definition(flow: SuccessFlow) -> dict[str, Any]:
    assert flow.version is not None
    return flow.version.definition


def _new_flow(client: Client) -> SuccessFlow:
    response = client.post(
        reverse("flows:new"),
        {
            "name": "Second login",
            "trigger_type": "event",
            "event": "$login",
            "occurrence": "2",
            "per": "account",
            "reentry": "once",
            "holdout_percent": "0",
        },
    )
    assert response.status_code == 302
    return SuccessFlow.objects.get(name="Second login")


def test_a_manager_creates_a_flow_with_its_trigger(manager_client: Client) -> None:
    flow = _new_flow(manager_client)
    assert flow.status == FlowStatus.DRAFT
    assert flow.version is not None
    assert _definition(flow)["trigger"]["occurrence"] == 2
    assert _definition(flow)["steps"] == []


def test_a_missing_required_parameter_is_shown_at_the_new_step(manager_client: Client) -> None:
    flow = _new_flow(manager_client)
    response = manager_client.post(
        reverse("flows:step_add", args=[flow.pk]),
        {
            "parent": "",
            "branch": "start",
            "kind": "action",
            "action": "cta.create",
            "step_id": "call",
            "param_type": "onboarding",
            "param_reason": "",
        },
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert 'id="step-error"' in page
    assert "reason: this parameter is required" in page
    assert 'value="call"' in page  # what was typed is kept
    assert flow.versions.count() == 1


def test_a_valid_step_is_saved_as_a_new_version(manager_client: Client) -> None:
    flow = _new_flow(manager_client)
    response = manager_client.post(
        reverse("flows:step_add", args=[flow.pk]),
        {
            "parent": "",
            "branch": "start",
            "kind": "action",
            "action": "cta.create",
            "param_type": "onboarding",
            "param_reason": "Second login: offer a tutorial",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("flows:detail", args=[flow.pk])
    flow.refresh_from_db()
    assert flow.version is not None and flow.version.number == 2
    assert _definition(flow)["start"] == "action-1"
    assert _definition(flow)["steps"][0]["params"]["reason"] == "Second login: offer a tutorial"


def test_a_step_added_after_another_takes_its_place_in_the_chain(manager_client: Client) -> None:
    flow = make_flow(LOGIN_TWICE, [cta_step("first", next="last"), cta_step("last")], live=False)
    manager_client.post(
        reverse("flows:step_add", args=[flow.pk]),
        {"parent": "first", "branch": "next", "kind": "wait", "delay_days": "2"},
    )
    flow.refresh_from_db()
    steps = {step["id"]: step for step in _definition(flow)["steps"]}
    assert steps["first"]["next"] == "wait-1"
    assert steps["wait-1"]["next"] == "last"


def test_an_edit_refused_elsewhere_is_shown_at_that_step(manager_client: Client) -> None:
    flow = make_flow(LOGIN_TWICE, [cta_step("first")], live=False)
    response = manager_client.post(
        reverse("flows:step_edit", args=[flow.pk, "first"]),
        {"kind": "decision", "wait_for": "event", "event": "Settings Saved"},
    )
    assert response.status_code == 400
    assert "A decision needs a time limit" in response.content.decode()


def test_deleting_a_step_links_what_led_to_it_to_what_followed(manager_client: Client) -> None:
    flow = make_flow(
        LOGIN_TWICE, [cta_step("a", next="b"), cta_step("b", next="c"), cta_step("c")], live=False
    )
    manager_client.post(reverse("flows:step_delete", args=[flow.pk, "b"]))
    flow.refresh_from_db()
    steps = {step["id"]: step for step in _definition(flow)["steps"]}
    assert set(steps) == {"a", "c"}
    assert steps["a"]["next"] == "c"


def test_the_settings_change_the_trigger_and_the_holdout(manager_client: Client) -> None:
    flow = make_flow(LOGIN_TWICE, [cta_step("a")], live=False)
    manager_client.post(
        reverse("flows:settings", args=[flow.pk]),
        {
            "name": "Renewal call",
            "trigger_type": "date",
            "date_field": "renewal",
            "offset_days": "-90",
            "reentry": "again",
            "reentry_days": "300",
            "holdout_percent": "10",
        },
    )
    flow.refresh_from_db()
    definition = _definition(flow)
    assert flow.name == "Renewal call"
    assert definition["trigger"] == {"type": "date", "field": "renewal", "offset_days": -90}
    assert definition["holdout_percent"] == 10
    assert definition["reentry"] == {"mode": "again", "after_days": 300}
    assert definition["steps"][0]["id"] == "a"


def test_an_edit_to_a_live_flow_says_it_creates_a_new_version(manager_client: Client) -> None:
    flow = make_flow(LOGIN_TWICE, [cta_step("a")], live=True)
    response = manager_client.get(reverse("flows:step_edit", args=[flow.pk, "a"]))
    assert "saving a change creates version 2" in response.content.decode()


def test_a_manager_turns_a_flow_live_and_pauses_it(manager_client: Client) -> None:
    flow = make_flow(LOGIN_TWICE, [cta_step("a")], live=False)
    manager_client.post(reverse("flows:status", args=[flow.pk]), {"status": "live"})
    flow.refresh_from_db()
    assert flow.status == FlowStatus.LIVE
    manager_client.post(reverse("flows:status", args=[flow.pk]), {"status": "paused"})
    flow.refresh_from_db()
    assert flow.status == FlowStatus.PAUSED
    page = manager_client.get(reverse("flows:detail", args=[flow.pk])).content.decode()
    assert flow.paused_reason in page


def test_a_flow_without_steps_cannot_go_live(manager_client: Client) -> None:
    flow = _new_flow(manager_client)
    response = manager_client.post(
        reverse("flows:status", args=[flow.pk]), {"status": "live"}, follow=True
    )
    flow.refresh_from_db()
    assert flow.status == FlowStatus.DRAFT
    assert "The flow has no steps." in response.content.decode()
