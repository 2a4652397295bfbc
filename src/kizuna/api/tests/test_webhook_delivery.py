"""Sending webhook deliveries to a real HTTP server on 127.0.0.1: signed payloads, retries
with exponential backoff, giving up, atomic claims, and manual redelivery. Time is moved by
passing `now`, never by sleeping."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import socket

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kizuna.api import services, tasks, webhooks
from kizuna.api.models import DeliveryStatus, WebhookDelivery
from kizuna.api.tests.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def _account_created(client: Client, name: str = "株式会社ヒカリ") -> WebhookDelivery:
    response = client.post(
        reverse("customers:account_new"),
        {"name": name, "industry": "software", "stage": "onboarding"},
    )
    assert response.status_code == 302
    return WebhookDelivery.objects.latest("id")


def _verify(secret: str, header: str, body: bytes, now: float) -> bool:
    """What a receiver does, written independently of webhooks.verify_signature."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return abs(now - timestamp) <= 300 and hmac.compare_digest(expected, parts["v1"])


def test_delivery_is_posted_with_a_verifiable_signature(csm_client, receiver) -> None:
    endpoint = WebhookEndpointFactory.create(url=receiver.url, event_types=["account.created"])
    delivery = _account_created(csm_client)
    now = timezone.now()

    webhooks.deliver(delivery.pk, now=now)

    [request] = receiver.requests
    assert request.path == "/hooks/kizuna"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["Kizuna-Event-Id"] == str(delivery.event_id)
    assert request.headers["Kizuna-Event-Type"] == "account.created"
    assert _verify(
        endpoint.secret, request.headers["Kizuna-Signature"], request.body, now.timestamp()
    )
    assert not _verify(
        "whsec_wrong", request.headers["Kizuna-Signature"], request.body, now.timestamp()
    )
    payload = json.loads(request.body)
    assert payload["id"] == str(delivery.event_id)
    assert payload["type"] == "account.created"
    assert payload["data"]["object"]["name"] == "株式会社ヒカリ"


def test_a_2xx_answer_marks_the_delivery_succeeded(csm_client, receiver) -> None:
    WebhookEndpointFactory.create(url=receiver.url, event_types=["account.created"])
    delivery = _account_created(csm_client)
    receiver.answer(204)
    now = timezone.now()

    webhooks.deliver(delivery.pk, now=now)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1
    assert delivery.last_response_code == 204
    assert delivery.delivered_at == now
    assert delivery.next_attempt_at is None


def test_a_500_is_retried_after_the_first_backoff(csm_client, receiver) -> None:
    WebhookEndpointFactory.create(url=receiver.url, event_types=["account.created"])
    delivery = _account_created(csm_client)
    receiver.answer(500)
    receiver.response_body = b"database is down"
    start = timezone.now()

    webhooks.deliver(delivery.pk, now=start)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_response_code == 500
    assert delivery.last_response_body == "database is down"
    assert delivery.next_attempt_at == start + datetime.timedelta(minutes=1)
    # Not due yet: the periodic job leaves it alone.
    assert webhooks.send_due(now=start + datetime.timedelta(seconds=59)) == 0
    assert len(receiver.requests) == 1
    # Due: sent again, and this time it succeeds.
    assert webhooks.send_due(now=start + datetime.timedelta(minutes=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 2
    assert len(receiver.requests) == 2


def test_backoff_grows_until_the_delivery_fails(csm_client, receiver) -> None:
    WebhookEndpointFactory.create(url=receiver.url, event_types=["account.created"])
    delivery = _account_created(csm_client)
    receiver.default_status = 503
    moment = timezone.now()
    waits = []

    for _attempt in range(webhooks.MAX_ATTEMPTS):
        assert webhooks.send_due(now=moment) == 1
        delivery.refresh_from_db()
        if delivery.next_attempt_at is not None:
            waits.append(delivery.next_attempt_at - moment)
            moment = delivery.next_attempt_at

    assert waits == [
        datetime.timedelta(minutes=1),
        datetime.timedelta(minutes=5),
        datetime.timedelta(minutes=30),
        datetime.timedelta(hours=2),
        datetime.timedelta(hours=12),
    ]
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == webhooks.MAX_ATTEMPTS
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS
    assert webhooks.send_due(now=moment + datetime.timedelta(days=1)) == 0


def test_only_one_worker_can_claim_a_delivery(csm_client, receiver) -> None:
    WebhookEndpointFactory.create(url=receiver.url, event_types=["account.created"])
    delivery = _account_created(csm_client)
    now = timezone.now()

    assert webhooks.claim(delivery.pk, now) is True
    assert webhooks.claim(delivery.pk, now) is False
    # A second worker running the periodic job at the same moment sends nothing.
    assert webhooks.send_due(now=now) == 0
    assert receiver.requests == []


def test_a_delivery_left_by_a_crashed_worker_is_sent_after_its_lease(csm_client, receiver) -> None:
    WebhookEndpointFactory.create(url=receiver.url, event_types=["account.created"])
    delivery = _account_created(csm_client)
    now = timezone.now()
    webhooks.claim(delivery.pk, now)  # … and the worker dies before sending

    assert webhooks.send_due(now=now + webhooks.LEASE) == 1

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert len(receiver.requests) == 1


def test_a_refused_connection_is_recorded_and_retried(csm_client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    WebhookEndpointFactory.create(
        url=f"http://127.0.0.1:{port}/hook", event_types=["account.created"]
    )
    delivery = _account_created(csm_client)

    webhooks.deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_response_code is None
    assert "refused" in delivery.last_error.lower()


def test_an_endpoint_that_does_not_answer_times_out(csm_client, monkeypatch) -> None:
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.2)
    with socket.socket() as silent:
        # Listening but never answering: the connection is accepted by the kernel and the
        # request then waits for a response that never comes.
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        WebhookEndpointFactory.create(
            url=f"http://127.0.0.1:{port}/hook", event_types=["account.created"]
        )
        delivery = _account_created(csm_client)

        webhooks.deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert "timed out" in delivery.last_error.lower()


def test_a_redirect_is_not_followed(csm_client, receiver) -> None:
    WebhookEndpointFactory.create(url=receiver.url, event_types=["account.created"])
    delivery = _account_created(csm_client)
    receiver.answer(302)

    webhooks.deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_response_code == 302
    assert len(receiver.requests) == 1


def test_a_disabled_endpoint_is_not_called(csm_client, receiver) -> None:
    endpoint = WebhookEndpointFactory.create(url=receiver.url, event_types=["account.created"])
    delivery = _account_created(csm_client)
    endpoint.is_active = False
    endpoint.save()

    webhooks.deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "The endpoint is disabled."
    assert receiver.requests == []


def test_redelivery_sends_the_same_event_again(csm_client, receiver) -> None:
    WebhookEndpointFactory.create(url=receiver.url, event_types=["account.created"])
    delivery = _account_created(csm_client)
    webhooks.deliver(delivery.pk)

    copy = services.redeliver(None, delivery)
    webhooks.deliver(copy.pk)

    assert copy.pk != delivery.pk
    assert copy.redelivery_of == delivery
    first, second = receiver.requests
    assert first.headers["Kizuna-Event-Id"] == second.headers["Kizuna-Event-Id"]
    assert json.loads(first.body) == json.loads(second.body)
    copy.refresh_from_db()
    assert copy.status == DeliveryStatus.SUCCEEDED


def test_the_delivery_task_sends_the_deliveries_it_is_given(csm_client, receiver) -> None:
    WebhookEndpointFactory.create(url=receiver.url, event_types=["account.created"])
    first = _account_created(csm_client, "株式会社A")
    second = _account_created(csm_client, "株式会社B")

    sent = tasks.deliver_webhooks.call([first.pk, second.pk])

    assert sent == 2
    assert [json.loads(r.body)["data"]["object"]["name"] for r in receiver.requests] == [
        "株式会社A",
        "株式会社B",
    ]


def test_finished_deliveries_are_pruned_after_thirty_days(csm_client) -> None:
    WebhookEndpointFactory.create(event_types=["account.created"])
    old = _account_created(csm_client, "株式会社A")
    recent = _account_created(csm_client, "株式会社B")
    WebhookDelivery.objects.filter(pk__in=[old.pk, recent.pk]).update(
        status=DeliveryStatus.SUCCEEDED
    )
    WebhookDelivery.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=31)
    )

    assert tasks.prune_webhook_deliveries.call() == 1
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [recent.pk]
