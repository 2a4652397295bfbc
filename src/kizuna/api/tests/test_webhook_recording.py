"""Changes to customer data become webhook deliveries inside their own transaction: only for
active endpoints that subscribe to the event type, in a fixed number of queries per batch,
with the REST representation of the object as payload, and sending queued after commit."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from kizuna.api import webhooks
from kizuna.api.forms import WebhookEndpointForm
from kizuna.api.models import WebhookDelivery
from kizuna.api.tests.factories import WebhookEndpointFactory
from kizuna.core import events
from kizuna.customers.tests.factories import AccountFactory, ContactFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


def _updated(account) -> events.DomainEvent:
    return events.DomainEvent(
        type="account.updated", instance=account, object_id=account.pk, changes={"name": ["A", "B"]}
    )


def test_only_active_endpoints_subscribed_to_the_type_get_a_delivery(csm_client) -> None:
    wants = WebhookEndpointFactory.create(event_types=["account.created"])
    WebhookEndpointFactory.create(event_types=["contact.created"])
    WebhookEndpointFactory.create(event_types=["account.created"], is_active=False)

    csm_client.post(
        reverse("customers:account_new"),
        {"name": "株式会社ヒカリ", "industry": "other", "stage": "onboarding"},
    )

    [delivery] = WebhookDelivery.objects.all()
    assert delivery.endpoint == wants
    assert delivery.event_type == "account.created"
    assert delivery.status == "pending"


def test_each_endpoint_gets_the_same_event_id(csm_client) -> None:
    WebhookEndpointFactory.create_batch(2, event_types=["account.created"])

    csm_client.post(
        reverse("customers:account_new"),
        {"name": "株式会社ヒカリ", "industry": "other", "stage": "onboarding"},
    )

    first, second = WebhookDelivery.objects.all()
    assert first.endpoint_id != second.endpoint_id
    assert first.event_id == second.event_id


def test_a_batch_of_events_costs_a_fixed_number_of_queries(django_assert_num_queries) -> None:
    WebhookEndpointFactory.create_batch(3, event_types=["account.updated"])
    batch = [_updated(account) for account in AccountFactory.create_batch(40)]

    # One query finds the endpoints, one INSERT stores the 120 deliveries.
    with django_assert_num_queries(2):
        webhooks.record(batch)

    assert WebhookDelivery.objects.count() == 120


def test_touchpoints_load_their_contacts_in_one_query(django_assert_num_queries) -> None:
    WebhookEndpointFactory.create(event_types=["touchpoint.created"])
    batch = []
    for touchpoint in TouchpointFactory.create_batch(10):
        touchpoint.contacts.add(ContactFactory.create(account=touchpoint.account))
        batch.append(
            events.DomainEvent(
                type="touchpoint.created", instance=touchpoint, object_id=touchpoint.pk
            )
        )

    with django_assert_num_queries(3):
        webhooks.record(batch)

    payloads = [delivery.payload for delivery in WebhookDelivery.objects.order_by("id")]
    assert all(len(payload["data"]["object"]["contact_ids"]) == 1 for payload in payloads)


def test_without_a_subscribed_endpoint_nothing_is_serialized(django_assert_num_queries) -> None:
    WebhookEndpointFactory.create(event_types=["contact.created"])
    batch = [_updated(account) for account in AccountFactory.create_batch(5)]

    with django_assert_num_queries(1):
        assert webhooks.record(batch) == []


def test_a_rolled_back_change_leaves_no_delivery(csm) -> None:
    from kizuna.customers import services
    from kizuna.customers.forms import AccountForm

    WebhookEndpointFactory.create(event_types=["account.created"])
    form = AccountForm({"name": "株式会社ヒカリ", "industry": "other", "stage": "onboarding"})
    assert form.is_valid()

    with pytest.raises(RuntimeError), transaction.atomic():
        services.save_form(csm, form, None)
        raise RuntimeError("the import failed later")

    assert not WebhookDelivery.objects.exists()


def test_sending_is_queued_after_commit(csm_client, django_capture_on_commit_callbacks) -> None:
    WebhookEndpointFactory.create(event_types=["account.created"])

    with django_capture_on_commit_callbacks() as callbacks:
        csm_client.post(
            reverse("customers:account_new"),
            {"name": "株式会社ヒカリ", "industry": "other", "stage": "onboarding"},
        )
    tasks = DBTaskResult.objects.filter(task_path="kizuna.api.tasks.deliver_webhooks")
    assert not tasks.exists()

    for callback in callbacks:  # the commit
        callback()

    delivery = WebhookDelivery.objects.get()
    assert tasks.get().args_kwargs["args"] == [[delivery.pk]]


def test_an_update_carries_its_changes(csm_client) -> None:
    account = AccountFactory.create(name="株式会社ヒカリ", industry="other")
    WebhookEndpointFactory.create(event_types=["account.updated"])

    csm_client.post(
        reverse("customers:account_edit", args=[account.pk]),
        {"name": "株式会社ヒカリ", "industry": "software", "stage": "adoption"},
    )

    payload = WebhookDelivery.objects.get().payload
    assert payload["type"] == "account.updated"
    assert payload["data"]["changes"]["industry"] == ["other", "software"]
    assert payload["data"]["changes"]["stage"] == ["onboarding", "adoption"]
    assert payload["data"]["object"]["stage"] == "adoption"


def test_the_payload_object_is_the_rest_representation(api) -> None:
    WebhookEndpointFactory.create(event_types=["account.created"])

    created = api.post("/api/v1/accounts", {"name": "株式会社ヒカリ", "external_id": "CRM-9"})

    payload = WebhookDelivery.objects.get().payload
    assert payload["data"]["object"] == api.get(f"/api/v1/accounts/{created.json()['id']}").json()
    assert payload["data"]["changes"] == {}


def test_a_deleted_object_is_sent_with_its_id_and_last_state(manager_client) -> None:
    account = AccountFactory.create(name="株式会社ヒカリ")
    account_id = account.pk
    WebhookEndpointFactory.create(event_types=["account.deleted"])

    manager_client.post(reverse("customers:account_delete", args=[account_id]))

    payload = WebhookDelivery.objects.get().payload
    assert payload["type"] == "account.deleted"
    assert payload["data"]["object"]["id"] == account_id
    assert payload["data"]["object"]["name"] == "株式会社ヒカリ"


def test_events_without_a_registered_type_are_ignored(manager_client) -> None:
    WebhookEndpointFactory.create(event_types=sorted(webhooks.EVENT_TYPES))

    manager_client.post(
        reverse("customers:custom_field_new"),
        {"key": "plan", "label_ja": "プラン", "label_en": "Plan", "field_type": "text"},
    )

    assert not WebhookDelivery.objects.exists()


def test_a_registered_type_becomes_subscribable(monkeypatch) -> None:
    monkeypatch.setattr(webhooks, "EVENT_TYPES", dict(webhooks.EVENT_TYPES))
    webhooks.register_event_type(
        "survey.answered", "Survey answered", group="Surveys", serialize=lambda rows: []
    )

    form = WebhookEndpointForm(
        {"name": "Surveys", "url": "https://example.jp/hook", "event_types": ["survey.answered"]}
    )

    assert form.is_valid(), form.errors
    assert ("Surveys", [("survey.answered", "Survey answered")]) in webhooks.grouped_choices()


def test_due_retries_are_sent_by_a_job_every_minute() -> None:
    import datetime

    from kizuna.api import tasks
    from kizuna.core import scheduler

    job = scheduler.REGISTRY["api.send_due_webhooks"]

    assert job.task is tasks.send_due_webhooks
    assert job.every == datetime.timedelta(minutes=1)
