"""stage.changed and tier.changed can be subscribed to by webhooks (group "Lifecycle"),
with the stage or tier change as the payload's object."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from kizuna.api import webhooks
from kizuna.api.models import WebhookDelivery
from kizuna.api.tests.factories import WebhookEndpointFactory
from kizuna.customers import services
from kizuna.customers.tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_both_event_types_are_listed_under_lifecycle():
    groups = dict(webhooks.grouped_choices())

    assert {name for name, _label in groups["Lifecycle"]} == {"stage.changed", "tier.changed"}


def test_a_manual_move_is_delivered_with_the_change(csm_client):
    WebhookEndpointFactory.create(event_types=["stage.changed"])
    account = AccountFactory.create(stage="value")

    csm_client.post(
        reverse("lifecycle:account_stage", args=[account.pk]),
        {"stage": "renewal", "reason": "早期更新の打診"},
    )

    [delivery] = WebhookDelivery.objects.all()
    change = delivery.payload["data"]["object"]
    assert (delivery.event_type, change["account_id"], change["to_stage"], change["reason"]) == (
        "stage.changed",
        account.pk,
        "renewal",
        "早期更新の打診",
    )


def test_a_tier_change_is_delivered_with_its_reason():
    WebhookEndpointFactory.create(event_types=["tier.changed"])
    account = AccountFactory.create()
    SubscriptionFactory.create(account=account, arr=Decimal(6_000_000))

    services.refresh_rollups([account.pk])

    [delivery] = WebhookDelivery.objects.all()
    change = delivery.payload["data"]["object"]
    assert (change["account_id"], change["from_tier"], change["to_tier"]) == (
        account.pk,
        "tech",
        "high",
    )
    assert change["reason"] == "ARR ¥6,000,000 ≥ ¥6,000,000 (high-touch threshold)"
