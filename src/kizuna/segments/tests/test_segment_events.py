"""Entries and exits are published as segment.entered / segment.exited domain events, and
become webhook deliveries for the endpoints that subscribe to them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from kizuna.api.models import WebhookDelivery
from kizuna.api.tests.factories import WebhookEndpointFactory
from kizuna.core import events
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory
from kizuna.segments import services
from kizuna.segments.tests.factories import SegmentFactory, employees_at_least

pytestmark = pytest.mark.django_db


@pytest.fixture
def published() -> Iterator[list[Sequence[events.DomainEvent]]]:
    batches: list[Sequence[events.DomainEvent]] = []

    def listen(batch: Sequence[events.DomainEvent]) -> None:
        batches.append(batch)

    events.subscribe(listen)
    yield batches
    events._SUBSCRIBERS.remove(listen)


def test_one_batch_of_entered_events_per_recompute(published) -> None:
    accounts = AccountFactory.create_batch(3, employees=500)
    segment = SegmentFactory.create(conditions=employees_at_least(100))

    services.recompute(segment)

    [batch] = published
    assert [event.type for event in batch] == ["segment.entered"] * 3
    assert {event.instance.account_id for event in batch} == {a.pk for a in accounts}


def test_leaving_publishes_exited_events(published) -> None:
    account = AccountFactory.create(employees=500)
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    services.recompute(segment)
    Account.objects.update(employees=1)

    services.recompute(segment)

    [event] = published[-1]
    assert event.type == "segment.exited"
    assert event.instance.account_id == account.pk
    assert event.instance.exited_at is not None


def test_nothing_changed_publishes_nothing(published) -> None:
    AccountFactory.create(employees=500)
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    services.recompute(segment)

    services.recompute(segment)

    assert len(published) == 1


def test_subscribed_endpoints_get_a_delivery_with_segment_and_account() -> None:
    WebhookEndpointFactory.create(event_types=["segment.entered"])
    WebhookEndpointFactory.create(event_types=["account.created"])
    account = AccountFactory.create(employees=500, external_id="SF-1", name="株式会社ヒカリ")
    segment = SegmentFactory.create(name="大口顧客", conditions=employees_at_least(100))

    services.recompute(segment)

    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event_type == "segment.entered"
    obj = delivery.payload["data"]["object"]
    assert obj["segment"] == {"id": segment.pk, "name": "大口顧客"}
    assert obj["account"] == {"id": account.pk, "name": "株式会社ヒカリ", "external_id": "SF-1"}
    assert obj["entered_at"].endswith("Z")
    assert obj["exited_at"] is None
    assert obj["source"] == "rule"


def test_exits_are_delivered_with_their_exit_time() -> None:
    WebhookEndpointFactory.create(event_types=["segment.exited"])
    AccountFactory.create(employees=500)
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    services.recompute(segment)
    Account.objects.update(employees=1)

    services.recompute(segment)

    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event_type == "segment.exited"
    assert delivery.payload["data"]["object"]["exited_at"] is not None


def test_hand_picked_members_publish_events_too(published) -> None:
    account = AccountFactory.create()
    segment = SegmentFactory.create(kind="static", conditions={})

    services.add_members(None, segment, [account.pk])
    services.remove_members(None, segment, [account.pk])

    assert [[event.type for event in batch] for batch in published] == [
        ["segment.entered"],
        ["segment.exited"],
    ]
