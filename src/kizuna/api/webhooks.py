"""Outbound webhooks: the registry of event types, recording deliveries from domain events,
signing, and sending with retries.

Recording happens inside the transaction of the change (a domain-event subscriber), so a
delivery exists if and only if the change was committed. Sending happens afterwards, in a
background task and in a periodic job that picks up retries; nothing here calls the network
inside a request or a transaction.

Other apps add their own event types in their AppConfig.ready::

    from kizuna.api.webhooks import register_event_type

    register_event_type("health.band_changed", _("Health band changed"),
                        group=_("Health"), serialize=serialize_scores)
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.functional import Promise

from kizuna import __version__
from kizuna.api.models import (
    OPEN_DELIVERY_STATUSES,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from kizuna.core.events import DomainEvent

logger = logging.getLogger(__name__)

# A batch serializer: the API representation of each instance, in order, with the related
# rows it needs loaded in a fixed number of queries whatever the batch size.
Serializer = Callable[[Sequence[models.Model]], list[dict[str, Any]]]


@dataclass(frozen=True)
class EventType:
    name: str  # "account.created"
    label: str | Promise
    group: str | Promise  # heading the type is listed under in the endpoint form
    serialize: Serializer


EVENT_TYPES: dict[str, EventType] = {}

# Sent by the "send test event" button; not subscribable.
TEST_EVENT = "webhook.test"

TIMEOUT_SECONDS = 5.0
# Waits after the 1st, 2nd, … failed attempt; when they are used up the delivery fails.
BACKOFF = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=2),
    datetime.timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# How long a claimed delivery is reserved for the worker sending it; longer than any send.
LEASE = datetime.timedelta(minutes=2)
RESPONSE_EXCERPT = 1000
SIGNATURE_HEADER = "Kizuna-Signature"


def register_event_type(
    name: str, label: str | Promise, *, group: str | Promise, serialize: Serializer
) -> None:
    """Make `name` subscribable. Safe to call again (AppConfig.ready may run twice)."""
    EVENT_TYPES[name] = EventType(name=name, label=label, group=group, serialize=serialize)


def grouped_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """(group, [(name, label), …]) in registration order, for forms."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for event_type in EVENT_TYPES.values():
        groups.setdefault(str(event_type.group), []).append(
            (event_type.name, str(event_type.label))
        )
    return list(groups.items())


# --- Recording deliveries (inside the caller's transaction) -----------------------------


def record_deliveries(batch: Sequence[DomainEvent]) -> None:
    """The domain-event subscriber (see record)."""
    record(batch)


def record(batch: Sequence[DomainEvent]) -> list[int]:
    """The domain-event subscriber: one delivery per (event, endpoint that wants it).

    One query finds the active endpoints for the whole batch, the objects are serialized
    per type in batches, and the deliveries are inserted with one bulk INSERT. Sending is
    queued for after the commit. Returns the ids of the deliveries created.
    """
    wanted = [event for event in batch if event.type in EVENT_TYPES]
    if not wanted:
        return []
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True).only("id", "event_types"))
    targets = {
        event_type: [endpoint.pk for endpoint in endpoints if event_type in endpoint.event_types]
        for event_type in {event.type for event in wanted}
    }
    wanted = [event for event in wanted if targets[event.type]]
    if not wanted:
        return []
    objects = _serialize(wanted)
    now = timezone.now()
    rows: list[WebhookDelivery] = []
    for event, obj in zip(wanted, objects, strict=True):
        event_id = uuid.uuid4()
        payload = build_payload(event_id, event.type, now, obj, _changes(event))
        rows.extend(
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event_id=event_id,
                event_type=event.type,
                payload=payload,
                next_attempt_at=now,
            )
            for endpoint_id in targets[event.type]
        )
    created = WebhookDelivery.objects.bulk_create(rows)
    ids = [delivery.pk for delivery in created]
    enqueue_on_commit(ids)
    return ids


def _serialize(events: list[DomainEvent]) -> list[dict[str, Any]]:
    """Each event's object in its API representation, serialized per type in one batch."""
    by_type: dict[str, list[int]] = defaultdict(list)
    for index, event in enumerate(events):
        by_type[event.type].append(index)
    objects: list[dict[str, Any]] = [{} for _event in events]
    for event_type, indexes in by_type.items():
        instances = [_with_pk(events[i]) for i in indexes]
        serialized = EVENT_TYPES[event_type].serialize(instances)
        for index, obj in zip(indexes, serialized, strict=True):
            objects[index] = obj
    return objects


def _with_pk(event: DomainEvent) -> models.Model:
    """The event's instance; a deleted one (which Django leaves without a primary key) as a
    copy carrying its former id, so its last state serializes like any other."""
    instance = event.instance
    if instance.pk is None and event.object_id is not None:
        instance = copy.copy(instance)
        instance.pk = event.object_id
    return instance


def _changes(event: DomainEvent) -> dict[str, list[str]]:
    # Only an update has "changes": a created or deleted object is all in `data.object`.
    return dict(event.changes) if event.type.endswith(".updated") else {}


def build_payload(
    event_id: uuid.UUID,
    event_type: str,
    created_at: datetime.datetime,
    obj: dict[str, Any],
    changes: dict[str, list[str]],
) -> dict[str, Any]:
    return {
        "id": str(event_id),
        "type": event_type,
        "created_at": created_at.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "data": {"object": obj, "changes": changes},
    }


def enqueue_on_commit(delivery_ids: list[int]) -> None:
    if delivery_ids:
        transaction.on_commit(partial(_enqueue, list(delivery_ids)))


def _enqueue(delivery_ids: list[int]) -> None:
    from kizuna.api import tasks

    try:
        tasks.deliver_webhooks.enqueue(delivery_ids)
    except Exception:
        # The rows are committed and due now: the periodic job sends them within a minute.
        logger.exception("Could not enqueue webhook deliveries %s", delivery_ids)


# --- Signing ----------------------------------------------------------------------------


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed) for a payload."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` with the endpoint's secret."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """What a receiver does (docs/webhooks.md has the same in a standalone snippet)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), sign(secret, timestamp, body))


# --- Sending ----------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer, not a success: the endpoint's URL should be fixed instead.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class HttpResult:
    status: int | None
    body: str
    error: str
    duration_ms: int


def post(url: str, body: bytes, headers: dict[str, str]) -> HttpResult:
    """POST `body` to `url`, with the timeout, returning the status and a body excerpt."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    started = time.monotonic()
    status: int | None = None
    excerpt = ""
    error = ""
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
            excerpt = response.read(RESPONSE_EXCERPT).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            excerpt = exc.read(RESPONSE_EXCERPT).decode("utf-8", "replace")
        except OSError:
            excerpt = ""
        finally:
            exc.close()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        error = f"{type(exc).__name__}: {reason}"[:1000]
    duration = int((time.monotonic() - started) * 1000)
    return HttpResult(status=status, body=excerpt, error=error, duration_ms=duration)


def claim(delivery_id: int, now: datetime.datetime) -> bool:
    """Reserve a due delivery for this worker; False when another worker has it or it is
    not due. The conditional UPDATE succeeds for exactly one caller."""
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status__in=OPEN_DELIVERY_STATUSES, next_attempt_at__lte=now
        ).update(
            attempts=F("attempts") + 1,
            next_attempt_at=now + LEASE,
            last_attempt_at=now,
        )
    )


def deliver(
    delivery_id: int,
    *,
    now: datetime.datetime | None = None,
    send: Callable[[str, bytes, dict[str, str]], HttpResult] = post,
) -> WebhookDelivery | None:
    """Send one due delivery if this worker can claim it, and record the outcome.

    A 2xx answer is a success. Anything else (another status, a timeout, a refused
    connection) schedules the next attempt after the backoff, or fails the delivery once
    MAX_ATTEMPTS are used. Returns the updated delivery, or None when it was not claimed.
    """
    now = now or timezone.now()
    if not claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return None  # its endpoint was deleted in the meantime
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        from django.utils.translation import gettext

        _finish(delivery, DeliveryStatus.FAILED, None, error=gettext("The endpoint is disabled."))
        return delivery
    body = body_bytes(delivery.payload)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"Kizuna-Webhooks/{__version__}",
        "Kizuna-Event-Id": str(delivery.event_id),
        "Kizuna-Event-Type": delivery.event_type,
        "Kizuna-Delivery-Id": str(delivery.pk),
        SIGNATURE_HEADER: signature_header(endpoint.secret, timestamp, body),
    }
    result = send(endpoint.url, body, headers)
    succeeded = result.status is not None and 200 <= result.status < 300
    if succeeded:
        _finish(delivery, DeliveryStatus.SUCCEEDED, None, result=result, delivered_at=now)
    elif delivery.attempts >= MAX_ATTEMPTS:
        _finish(delivery, DeliveryStatus.FAILED, None, result=result)
    else:
        retry_at = now + BACKOFF[delivery.attempts - 1]
        _finish(delivery, DeliveryStatus.RETRYING, retry_at, result=result)
    return delivery


def _finish(
    delivery: WebhookDelivery,
    status: str,
    next_attempt_at: datetime.datetime | None,
    *,
    result: HttpResult | None = None,
    error: str = "",
    delivered_at: datetime.datetime | None = None,
) -> None:
    delivery.status = status
    delivery.next_attempt_at = next_attempt_at
    delivery.last_response_code = result.status if result else None
    delivery.last_response_body = result.body if result else ""
    delivery.last_error = result.error if result else error
    delivery.last_duration_ms = result.duration_ms if result else None
    if delivered_at is not None:
        delivery.delivered_at = delivered_at
    delivery.save(
        update_fields=[
            "status",
            "next_attempt_at",
            "last_response_code",
            "last_response_body",
            "last_error",
            "last_duration_ms",
            "delivered_at",
        ]
    )


def due_delivery_ids(now: datetime.datetime, limit: int) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(status__in=OPEN_DELIVERY_STATUSES, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def send_due(now: datetime.datetime | None = None, limit: int = 500) -> int:
    """Send every delivery whose (re)try is due — the periodic job. Returns how many were
    sent by this worker (others may have claimed some)."""
    sent = 0
    for delivery_id in due_delivery_ids(now or timezone.now(), limit):
        # Each send is claimed and signed at its own moment unless a test fixes the clock.
        if deliver(delivery_id, now=now) is not None:
            sent += 1
    return sent
