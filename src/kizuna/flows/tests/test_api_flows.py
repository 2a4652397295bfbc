"""Success flows in the REST API: read, create, new versions (a bad definition names the
step), pause and resume, and the execution log."""

from __future__ import annotations

import pytest

from kizuna.api import services as api_services
from kizuna.api.tests.conftest import ApiClient
from kizuna.core.models import Role
from kizuna.customers.tests.factories import AccountFactory
from kizuna.flows import engine
from kizuna.flows.choices import FlowStatus
from kizuna.flows.tests.factories import cta_step, definition, make_flow

pytestmark = pytest.mark.django_db

LOGIN_TWICE = {"type": "event", "event": "$login", "occurrence": 2}


def _client(role: str) -> ApiClient:
    _key, token = api_services.create_api_key(None, name=f"Flows {role}", role=role)
    return ApiClient(token)


@pytest.fixture
def api(db) -> ApiClient:
    """An admin key's client."""
    return _client(Role.ADMIN)


def test_flows_are_listed_with_their_version(api: ApiClient) -> None:
    flow = make_flow(LOGIN_TWICE, [cta_step()], live=False, name="Second login")
    body = api.get("/api/v1/flows").json()
    assert body["count"] == 1
    assert body["results"][0] == body["results"][0] | {
        "id": flow.pk,
        "name": "Second login",
        "status": "draft",
        "version": 1,
    }


def test_a_flow_is_read_with_its_current_definition(api: ApiClient) -> None:
    flow = make_flow(LOGIN_TWICE, [cta_step("call")], live=False)
    body = api.get(f"/api/v1/flows/{flow.pk}").json()
    assert body["definition"]["start"] == "call"
    assert body["definition"]["trigger"]["occurrence"] == 2


def test_a_flow_is_created_from_a_definition(api: ApiClient) -> None:
    response = api.post(
        "/api/v1/flows",
        {"name": "Second login", "definition": definition(LOGIN_TWICE, [cta_step("call")])},
    )
    assert response.status_code == 201
    assert response.json()["status"] == "draft"
    assert response.json()["version"] == 1


def test_a_bad_definition_is_refused_naming_the_step(api: ApiClient) -> None:
    bad = cta_step("call")
    del bad["params"]["reason"]
    response = api.post(
        "/api/v1/flows", {"name": "Second login", "definition": definition(LOGIN_TWICE, [bad])}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_definition"
    assert error["fields"] == {"steps.call": ["reason: this parameter is required"]}


def test_a_new_version_is_saved(api: ApiClient) -> None:
    flow = make_flow(LOGIN_TWICE, [cta_step("call")], live=True)
    response = api.post(
        f"/api/v1/flows/{flow.pk}/versions",
        {"definition": definition(LOGIN_TWICE, [cta_step("call", reason="Changed")])},
    )
    assert response.status_code == 201
    assert response.json()["number"] == 2
    flow.refresh_from_db()
    assert flow.version is not None
    assert flow.version.definition["steps"][0]["params"]["reason"] == "Changed"


def test_a_flow_is_paused_and_resumed(api: ApiClient) -> None:
    flow = make_flow(LOGIN_TWICE, [cta_step("call")], live=True)
    paused = api.post(f"/api/v1/flows/{flow.pk}/pause", {}).json()
    assert paused["status"] == FlowStatus.PAUSED
    assert paused["paused_reason"]
    assert api.post(f"/api/v1/flows/{flow.pk}/resume", {}).json()["status"] == FlowStatus.LIVE


def test_a_flow_without_steps_cannot_be_resumed(api: ApiClient) -> None:
    flow = make_flow(LOGIN_TWICE, [], live=False)
    response = api.post(f"/api/v1/flows/{flow.pk}/resume", {})
    assert response.status_code == 409


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CSM])
def test_only_managers_write(db, role: str) -> None:
    client = _client(role)
    flow = make_flow(LOGIN_TWICE, [cta_step("call")], live=True)
    assert client.get(f"/api/v1/flows/{flow.pk}").status_code == 200
    assert client.post(f"/api/v1/flows/{flow.pk}/pause", {}).status_code == 403
    new = {"name": "x", "definition": definition(LOGIN_TWICE, [cta_step()])}
    assert client.post("/api/v1/flows", new).status_code == 403
    flow.refresh_from_db()
    assert flow.status == FlowStatus.LIVE


def test_the_account_log_has_each_step_and_what_it_saw(api: ApiClient) -> None:
    account = AccountFactory.create()
    flow = make_flow(LOGIN_TWICE, [cta_step("call", reason="Offer a tutorial")], live=True)
    engine.enrol(flow, [engine.Candidate(account.pk, None, {"type": "event", "event": "$login"})])
    engine.run_due()
    body = api.get(f"/api/v1/accounts/{account.pk}/flow-runs").json()
    assert body["count"] == 1
    enrolment = body["results"][0]
    assert enrolment["flow"]["id"] == flow.pk
    assert enrolment["version"] == 1
    assert enrolment["trigger"]["event"] == "$login"
    assert [run["step_id"] for run in enrolment["runs"]] == ["call"]
    assert enrolment["runs"][0]["outcome"] == "done"
    flow_log = api.get(f"/api/v1/flows/{flow.pk}/enrolments").json()
    assert flow_log["results"][0]["account"]["id"] == account.pk


def test_an_unknown_flow_is_404(api: ApiClient) -> None:
    assert api.get("/api/v1/flows/999999").status_code == 404
