"""Events and usage, read-only through the REST API, on top of the usage app: events as
received with a cursor, an account's and a contact's usage as the 360 page shows them, and
every account's 30-day activity."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from django.utils import timezone

from kizuna.customers.tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from kizuna.usage import rollups, services

pytestmark = pytest.mark.django_db


def _send(messages: list[dict]) -> None:
    """Through Segment's tracking API, as a customer's product sends them."""
    # The usage app caches who a user id is; earlier tests' (rolled back) people must go.
    services.forget_cached_people()
    write_key = services.create_source(None, "Product").write_key
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    response = Client().post(
        "/v1/batch",
        json.dumps({"batch": messages}),
        content_type="application/json",
        headers={"Authorization": f"Basic {auth}"},
    )
    assert response.status_code == 200, response.content
    rollups.rollup_new_events()
    rollups.refresh_windows(only_active=False)


def _track(contact, event: str, number: int) -> dict:
    return {
        "type": "track",
        "event": event,
        "userId": contact.product_user_id,
        "messageId": f"{contact.pk}-{event}-{number}",
        "timestamp": timezone.now().isoformat(),
        "properties": {"plan": "business"},
    }


@pytest.fixture
def usage_data():
    account = AccountFactory.create()
    SubscriptionFactory.create(account=account, seats=4)
    users = [ContactFactory.create(account=account, product_user_id=f"u-{n}") for n in range(2)]
    quiet = AccountFactory.create()
    messages = [_track(users[0], "Logged In", n) for n in range(3)]
    messages += [_track(users[1], "Logged In", 9), _track(users[1], "Report Exported", 1)]
    _send(messages)
    return account, users, quiet


def test_events_are_listed_with_a_cursor(api, usage_data) -> None:
    account, _users, _quiet = usage_data

    first = api.get("/api/v1/events", account_id=account.pk, limit=3).json()
    second = api.get(
        "/api/v1/events", account_id=account.pk, limit=3, after_id=first["next_after_id"]
    ).json()

    assert len(first["results"]) == 3
    assert len(second["results"]) == 2
    assert second["next_after_id"] is None
    ids = [event["id"] for event in first["results"] + second["results"]]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert first["results"][0]["properties"] == {"plan": "business"}


def test_events_are_filtered_by_name(api, usage_data) -> None:
    response = api.get("/api/v1/events", event="Report Exported")

    [event] = response.json()["results"]
    assert event["type"] == "track"
    assert api.get(f"/api/v1/events/{event['id']}").json() == event


def test_an_accounts_usage_is_the_360_panels(api, usage_data) -> None:
    account, _users, _quiet = usage_data

    body = api.get(f"/api/v1/accounts/{account.pk}/usage", days=30, trend_days=7).json()

    assert body["active_users"] == 2
    assert body["seats"] == 4
    assert body["login_rate"] == 0.5
    assert body["logins"] == 4
    assert len(body["daily"]) == 7
    assert body["daily"][-1]["events"] == 5
    assert [feature["name"] for feature in body["top_features"]] == ["Report Exported"]


def test_a_contacts_activity(api, usage_data) -> None:
    _account, users, _quiet = usage_data

    body = api.get(f"/api/v1/contacts/{users[1].pk}/usage").json()

    assert body["events"] == 2
    assert body["active_days"] == 1
    assert [event["name"] for event in body["recent"]] == ["Report Exported", "Logged In"]


def test_every_accounts_activity_least_active_first(api, usage_data) -> None:
    account, _users, quiet = usage_data

    body = api.get("/api/v1/usage/accounts", ordering="logins_30d").json()

    assert body["count"] == 2
    assert [row["account_id"] for row in body["results"]] == [quiet.pk, account.pk]
    assert body["results"][1]["logins_30d"] == 4
    assert body["results"][1]["active_users_30d"] == 2
    assert body["results"][0]["last_seen_at"] is None


def test_usage_of_an_unknown_account_is_a_404(api) -> None:
    assert api.get("/api/v1/accounts/424242/usage").status_code == 404
    assert api.get("/api/v1/contacts/424242/usage").status_code == 404
    assert api.get("/api/v1/events/424242").status_code == 404


def test_a_viewer_key_reads_usage(viewer_api, usage_data) -> None:
    account, _users, _quiet = usage_data

    assert viewer_api.get(f"/api/v1/accounts/{account.pk}/usage").status_code == 200
    assert viewer_api.get("/api/v1/events").status_code == 200
