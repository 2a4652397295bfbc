"""The settings pages: API keys (admins only; a new key is shown once) and webhooks with
their delivery log (managers and admins)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from kizuna.api.models import ApiKey, WebhookDelivery, WebhookEndpoint
from kizuna.api.tests.factories import WebhookEndpointFactory
from kizuna.core.models import AuditEntry
from kizuna.core.navigation import for_user

pytestmark = pytest.mark.django_db

EVENT_ID = uuid.UUID("7a1d3f51-3b7e-4f0e-9a53-2b8d8a0d9c11")


def test_api_keys_are_managed_by_admins_only(manager_client, admin_client_user) -> None:
    admin_client, _admin = admin_client_user

    assert manager_client.get(reverse("api:keys")).status_code == 403
    assert admin_client.get(reverse("api:keys")).status_code == 200


def test_the_sidebar_offers_each_page_to_the_right_roles(admin_client_user, csm) -> None:
    _client, admin = admin_client_user

    admin_items = {item.url_name for item in for_user(admin, "settings")}
    csm_items = {item.url_name for item in for_user(csm, "settings")}

    assert {"api:keys", "api:webhooks"} <= admin_items
    assert not {"api:keys", "api:webhooks"} & csm_items


def test_creating_a_key_shows_it_once(admin_client_user) -> None:
    client, _admin = admin_client_user

    created = client.post(
        reverse("api:keys"),
        {"name": "Salesforce sync", "role": "csm", "rate_limit_per_minute": 600},
        follow=True,
    )
    again = client.get(reverse("api:keys"))

    key = ApiKey.objects.get()
    token = created.context["created_key"]
    assert token.startswith(f"kz_{key.prefix}_")
    assert token in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    assert token not in again.content.decode()
    assert "Salesforce sync" in again.content.decode()
    assert token not in str(dict(client.session))


def test_an_invalid_key_form_creates_nothing(admin_client_user) -> None:
    client, _admin = admin_client_user

    response = client.post(reverse("api:keys"), {"name": "", "role": "root"})

    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"name", "role", "rate_limit_per_minute"}
    assert not ApiKey.objects.exists()


def test_revoking_a_key_from_the_page(admin_client_user) -> None:
    client, _admin = admin_client_user
    client.post(reverse("api:keys"), {"name": "CRM", "role": "viewer", "rate_limit_per_minute": 0})
    key = ApiKey.objects.get()

    confirm = client.get(reverse("api:key_revoke", args=[key.pk]))
    client.post(reverse("api:key_revoke", args=[key.pk]))

    assert confirm.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_webhooks_are_for_managers_and_admins(csm_client, manager_client) -> None:
    assert csm_client.get(reverse("api:webhooks")).status_code == 403
    assert manager_client.get(reverse("api:webhooks")).status_code == 200


def test_a_new_webhook_gets_a_secret_and_is_audited_without_it(manager_client) -> None:
    response = manager_client.post(
        reverse("api:webhook_new"),
        {
            "name": "CRM",
            "url": "https://crm.example.jp/kizuna",
            "event_types": ["account.created", "touchpoint.created"],
            "is_active": "on",
        },
    )

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.event_types == ["account.created", "touchpoint.created"]
    entry = AuditEntry.objects.get(object_type="api.webhookendpoint")
    assert endpoint.secret not in str(entry.changes)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "ftp://example.jp/x", "event_types": ["account.created"]}, "url"),
        ({"url": "https://example.jp/x", "event_types": []}, "event_types"),
        ({"url": "https://example.jp/x", "event_types": ["account.exploded"]}, "event_types"),
    ],
)
def test_an_invalid_webhook_is_refused(manager_client, data: dict, field: str) -> None:
    response = manager_client.post(reverse("api:webhook_new"), {"name": "CRM", **data})

    assert field in response.context["form"].errors
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_shows_response_codes(manager_client) -> None:
    endpoint = WebhookEndpointFactory.create()
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=EVENT_ID,
        event_type="account.created",
        payload={},
        status="retrying",
        attempts=2,
        last_response_code=503,
    )

    response = manager_client.get(reverse("api:webhook", args=[endpoint.pk]))

    html = response.content.decode()
    assert "account.created" in html
    assert "503" in html
    assert "Retrying" in html


def test_redeliver_button_queues_a_new_delivery(manager_client) -> None:
    endpoint = WebhookEndpointFactory.create()
    original = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=EVENT_ID,
        event_type="account.created",
        payload={"id": "7a1d3f51-3b7e-4f0e-9a53-2b8d8a0d9c11"},
        status="failed",
        attempts=6,
    )

    response = manager_client.post(reverse("api:delivery_redeliver", args=[original.pk]))

    copy = WebhookDelivery.objects.exclude(pk=original.pk).get()
    assert response.status_code == 302
    assert (copy.event_id, copy.status, copy.redelivery_of) == (
        original.event_id,
        "pending",
        original,
    )


def test_send_test_event_queues_a_test_delivery(manager_client) -> None:
    endpoint = WebhookEndpointFactory.create()

    manager_client.post(reverse("api:webhook_test", args=[endpoint.pk]))

    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "webhook.test"
    assert delivery.payload["data"]["object"]["endpoint"]["id"] == endpoint.pk


def test_disabling_stops_recording_new_events(manager_client, csm_client) -> None:
    endpoint = WebhookEndpointFactory.create(event_types=["account.created"])

    manager_client.post(reverse("api:webhook_toggle", args=[endpoint.pk]))
    csm_client.post(
        reverse("customers:account_new"),
        {"name": "株式会社ヒカリ", "industry": "other", "stage": "onboarding"},
    )

    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert not WebhookDelivery.objects.exists()


def test_rotating_the_secret_is_audited_by_fingerprint(manager_client) -> None:
    endpoint = WebhookEndpointFactory.create()
    old = endpoint.secret

    manager_client.post(reverse("api:webhook_rotate", args=[endpoint.pk]))

    endpoint.refresh_from_db()
    assert endpoint.secret != old
    entry = AuditEntry.objects.get(object_type="api.webhookendpoint")
    assert old not in str(entry.changes) and endpoint.secret not in str(entry.changes)
    assert list(entry.changes) == ["secret"]


def test_deleting_a_webhook_deletes_its_log(manager_client) -> None:
    endpoint = WebhookEndpointFactory.create()
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=EVENT_ID,
        event_type="account.created",
        payload={},
    )

    manager_client.post(reverse("api:webhook_delete", args=[endpoint.pk]))

    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_the_header_hints_show_their_placeholders(admin_client_user) -> None:
    client, _admin = admin_client_user
    endpoint = WebhookEndpointFactory.create()
    client.post(reverse("api:keys"), {"name": "CRM", "role": "viewer", "rate_limit_per_minute": 1})

    keys = client.get(reverse("api:keys")).content.decode()
    webhook = client.get(reverse("api:webhook", args=[endpoint.pk])).content.decode()

    assert "Bearer &lt;key&gt;" in keys
    assert "t=&lt;time&gt;,v1=&lt;HMAC-SHA256&gt;" in webhook


def test_a_single_label_host_of_a_closed_network_is_accepted(manager_client) -> None:
    manager_client.post(
        reverse("api:webhook_new"),
        {"name": "CRM", "url": "http://crm:8080/hooks/kizuna", "event_types": ["account.created"]},
    )

    assert WebhookEndpoint.objects.get().url == "http://crm:8080/hooks/kizuna"
