"""Domain events: what happened to customer data, for whoever listens (webhooks today,
success flows later).

`publish` is called by services inside the transaction of the change, and calls every
subscriber there and then, so a subscriber that records work (an outbox row, a delivery) is
committed together with the change or not at all. Subscribers must be quick and must not
call out to the network: they record, and a background task does the slow part after commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models


@dataclass(frozen=True)
class DomainEvent:
    """`type` is e.g. "account.created"; `changes` maps field → [old, new]. `object_id` is
    the row's primary key (a deleted instance no longer carries it)."""

    type: str
    instance: models.Model
    object_id: Any
    changes: dict[str, list[str]] = field(default_factory=dict)
    actor_id: int | None = None


# A subscriber receives the events of one change, or of a whole import, at once, so that it
# can record its work with one bulk insert instead of a query per row.
Subscriber = Callable[[Sequence[DomainEvent]], None]
_SUBSCRIBERS: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> Subscriber:
    if subscriber not in _SUBSCRIBERS:
        _SUBSCRIBERS.append(subscriber)
    return subscriber


def publish(event: DomainEvent) -> None:
    publish_many([event])


def publish_many(batch: Sequence[DomainEvent]) -> None:
    if not batch:
        return
    for subscriber in list(_SUBSCRIBERS):
        subscriber(batch)


def event_name(instance: models.Model, action: str) -> str:
    """ "account.created" for an Account that was created, and so on."""
    return f"{instance._meta.model_name}.{action}"
