"""The public in-app endpoints kizuna.js calls: decide and events, CORS, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement import inapp
from kizuna.engagement.models import InAppEvent, InAppState
from kizuna.engagement.tests.factories import InAppMessageFactory
from kizuna.usage.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact():
    account = AccountFactory.create(external_id="SF-1")
    return ContactFactory.create(account=account, product_user_id="u-1")


def post(client: Client, path: str, body: object) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(
        path, raw, content_type="text/plain", headers={"Origin": "https://app.example.jp"}
    )


def test_decide_answers_a_simple_cross_origin_request(client, write_key, contact) -> None:
    InAppMessageFactory.create(key="hello")

    response = post(
        client, "/v1/inapp/decide", {"writeKey": write_key, "userId": "u-1", "url": "/"}
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert [m["key"] for m in response.json()["messages"]] == ["hello"]


def test_preflight_is_allowed(client) -> None:
    response = client.options("/v1/inapp/decide", headers={"Origin": "https://app.example.jp"})

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_unknown_write_key_is_401(client, contact) -> None:
    response = post(client, "/v1/inapp/decide", {"writeKey": "kzw_unknown", "userId": "u-1"})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_write_key"
    assert response["Access-Control-Allow-Origin"] == "*"


def test_malformed_json_is_400(client) -> None:
    response = post(client, "/v1/inapp/decide", "{not json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_get_is_405(client) -> None:
    assert client.get("/v1/inapp/decide").status_code == 405


def test_event_of_an_unknown_kind_is_400_and_records_nothing(client, write_key, contact) -> None:
    InAppMessageFactory.create(key="hello")

    response = post(
        client,
        "/v1/inapp/events",
        {"writeKey": write_key, "userId": "u-1", "message": "hello", "kind": "liked"},
    )

    assert response.status_code == 400
    assert "kind" in response.json()["message"]
    assert not InAppEvent.objects.exists()


def test_shown_event_updates_the_state(client, write_key, contact) -> None:
    message = InAppMessageFactory.create(key="hello")

    response = post(
        client,
        "/v1/inapp/events",
        {
            "writeKey": write_key,
            "userId": "u-1",
            "groupId": "SF-1",
            "message": "hello",
            "kind": "shown",
            "url": "https://app.example.jp/",
        },
    )

    assert response.status_code == 200
    state = InAppState.objects.get(message=message, visitor="u-1")
    assert state.shown_count == 1
    assert state.contact_id == contact.pk
    assert state.account_id == contact.account_id


def test_completed_event_records_the_tour_step(client, write_key, contact) -> None:
    message = InAppMessageFactory.create(
        key="tour", kind="tour", steps=[{"selector": "#a", "title_ja": "a"}]
    )

    post(
        client,
        "/v1/inapp/events",
        {"writeKey": write_key, "userId": "u-1", "message": "tour", "kind": "completed", "step": 2},
    )

    event = InAppEvent.objects.get(message=message)
    assert (event.kind, event.step, event.preview) == ("completed", 2, False)
    assert InAppState.objects.get(message=message).completed_at is not None


def test_event_is_ingested_as_a_usage_event(client, write_key, contact) -> None:
    InAppMessageFactory.create(key="hello")

    post(
        client,
        "/v1/inapp/events",
        {"writeKey": write_key, "userId": "u-1", "message": "hello", "kind": "clicked"},
    )

    usage = Event.objects.get(event="In-App Message Clicked")
    assert usage.contact_id == contact.pk
    assert usage.properties == {"message": "hello", "kind": "banner", "step": None}


def test_preview_events_are_marked_and_change_no_state(client, write_key, contact) -> None:
    message = InAppMessageFactory.create(key="hello")
    token = inapp.preview_token(message)

    post(
        client,
        "/v1/inapp/events",
        {
            "writeKey": write_key,
            "userId": "u-1",
            "message": "hello",
            "kind": "shown",
            "preview": token,
        },
    )

    assert InAppEvent.objects.get().preview is True
    assert not InAppState.objects.exists()
    assert not Event.objects.filter(event="In-App Message Shown").exists()
    assert inapp.results_for([message.pk])[message.pk].shown == 0


def test_guidance_script_is_served_to_anyone(client) -> None:
    response = client.get("/kizuna-inapp.js")

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert b"kizunaGuidance" in response.content
