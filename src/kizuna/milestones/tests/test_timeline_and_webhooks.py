"""Reached milestones are on the account timeline; milestone.reached and milestone.overdue
can be subscribed to by webhooks, with the account's milestone as the payload's object."""

from __future__ import annotations

import pytest

from kizuna.api import webhooks
from kizuna.api.models import WebhookDelivery
from kizuna.api.tests.factories import WebhookEndpointFactory
from kizuna.core.conditions import Context
from kizuna.customers import timeline
from kizuna.customers.tests.factories import AccountFactory
from kizuna.milestones import services
from kizuna.milestones.tests.factories import days_ago, milestone

pytestmark = pytest.mark.django_db


def test_a_reached_milestone_is_on_the_timeline() -> None:
    milestone("big_team", name="大きなチーム")
    account = AccountFactory.create(stage="onboarding", employees=500)
    services.recompute_milestones(None, Context.now())

    [entry] = timeline.timeline(account, sources=["milestones"])

    assert (entry.title, entry.source) == ("大きなチーム", "milestones")
    assert "500" in entry.detail


def test_both_event_types_are_listed_under_milestones() -> None:
    groups = dict(webhooks.grouped_choices())

    assert {name for name, _label in groups["Milestones"]} == {
        "milestone.reached",
        "milestone.overdue",
    }


def test_reached_and_overdue_are_delivered() -> None:
    WebhookEndpointFactory.create(event_types=["milestone.reached", "milestone.overdue"])
    goal = milestone("big_team", target_days=7)
    reached = AccountFactory.create(stage="onboarding", employees=500)
    late = AccountFactory.create(stage="onboarding", employees=5, stage_entered_on=days_ago(9))

    services.recompute_milestones(None, Context.now())

    payloads = {
        delivery.event_type: delivery.payload["data"]["object"]
        for delivery in WebhookDelivery.objects.all()
    }
    assert payloads["milestone.reached"]["account"]["id"] == reached.pk
    assert payloads["milestone.overdue"]["account"]["id"] == late.pk
    assert payloads["milestone.overdue"]["milestone"]["id"] == goal.pk
    assert payloads["milestone.overdue"]["status"] == "overdue"
