"""Every flow page renders for every role; the builder shows each step type in words."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.customers.tests.factories import AccountFactory
from kizuna.flows.models import SuccessFlow
from kizuna.flows.tests.factories import cta_step, make_flow

pytestmark = pytest.mark.django_db

ROLES = ["admin_client_user", "manager_client", "csm_client", "viewer_client"]


def _client(request: pytest.FixtureRequest, role: str) -> Client:
    value = request.getfixturevalue(role)
    return value[0] if isinstance(value, tuple) else value


def branching_flow() -> SuccessFlow:
    steps = [
        {
            "id": "check",
            "type": "condition",
            "label": "High tier?",
            "condition": {"and": [{"metric": "account.tier", "op": "in", "value": ["high"]}]},
            "yes": "call",
            "no": "pause",
        },
        cta_step("call", reason="Call them", label="Call", next="join"),
        {"id": "pause", "type": "wait", "delay": {"days": 2}, "next": "opened"},
        {
            "id": "opened",
            "type": "decision",
            "wait_for": {"kind": "event", "event": "Settings Saved"},
            "within": {"days": 3},
            "yes": "join",
        },
        {
            "id": "join",
            "type": "action",
            "action": "owner.notify",
            "params": {"message": "Look at this account"},
        },
    ]
    return make_flow({"type": "event", "event": "$login", "occurrence": 2}, steps, live=False)


@pytest.mark.parametrize("role", ROLES)
def test_the_flow_list_renders_for_every_role(request, role: str) -> None:
    flow = branching_flow()
    response = _client(request, role).get(reverse("flows:list"))
    assert response.status_code == 200
    assert flow.name in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_the_flow_page_renders_for_every_role(request, role: str) -> None:
    flow = branching_flow()
    response = _client(request, role).get(reverse("flows:detail", args=[flow.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Call them" in page  # the action's describe()
    assert "Wait 2 days" in page
    assert "Settings Saved" in page


@pytest.mark.parametrize("role", ROLES)
def test_the_gallery_renders_for_every_role(request, role: str) -> None:
    response = _client(request, role).get(reverse("flows:gallery"))
    assert response.status_code == 200
    assert "First login" in response.content.decode()


def test_a_step_reached_from_two_places_is_drawn_once(manager_client: Client) -> None:
    flow = branching_flow()
    page = manager_client.get(reverse("flows:detail", args=[flow.pk])).content.decode()
    assert page.count('id="step-join"') == 1
    assert "continues at" in page


def test_the_edit_buttons_are_shown_to_managers_only(
    manager_client: Client, viewer_client: Client
) -> None:
    flow = branching_flow()
    url = reverse("flows:step_edit", args=[flow.pk, "call"])
    assert url in manager_client.get(reverse("flows:detail", args=[flow.pk])).content.decode()
    assert url not in viewer_client.get(reverse("flows:detail", args=[flow.pk])).content.decode()


def test_the_log_and_the_account_panel_render_empty(csm_client: Client) -> None:
    flow = branching_flow()
    account = AccountFactory.create()
    assert csm_client.get(reverse("flows:log", args=[flow.pk])).status_code == 200
    assert csm_client.get(reverse("flows:account_panel", args=[account.pk])).status_code == 200
