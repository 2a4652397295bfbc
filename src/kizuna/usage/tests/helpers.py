"""Helpers for the usage tests: tracking calls as the libraries send them."""

from __future__ import annotations

import base64
import datetime
import gzip
import json
import uuid
from typing import Any

from django.test import Client
from django.utils import timezone

from kizuna.usage import rollups, services
from kizuna.usage.models import Source
from kizuna.usage.segment import Message


def basic(write_key: str) -> str:
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


def post(
    client: Client,
    path: str,
    payload: Any,
    *,
    key: str | None = None,
    compress: bool = False,
    content_type: str = "application/json",
    raw: bytes | None = None,
    **headers: Any,
) -> Any:
    """POST a tracking call; `key` goes in the Basic auth header."""
    body = raw if raw is not None else json.dumps(payload).encode()
    if compress:
        body = gzip.compress(body)
        headers["HTTP_CONTENT_ENCODING"] = "gzip"
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = basic(key)
    return client.generic("POST", path, body, content_type=content_type, **headers)


def track(user_id: str, event: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": user_id,
        "event": event,
        "messageId": fields.pop("messageId", str(uuid.uuid4())),
        **fields,
    }


def at(days_ago: int = 0, hour: int = 12) -> datetime.datetime:
    """A moment `days_ago` days before today, at `hour` local time."""
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def store(
    events: list[tuple[str, str, datetime.datetime]] | None = None,
    *,
    source: Source | None = None,
    messages: list[dict[str, Any]] | None = None,
    roll_up: bool = True,
) -> services.IngestResult:
    """Ingest messages (or (userId, event, when) triples as track calls) as an HTTP call
    would, then run the rollup worker."""
    from kizuna.usage import segment

    source = source or Source.objects.first() or services.create_source(None, "Tests").source
    items = list(messages or [])
    for user_id, event, when in events or []:
        items.append(track(user_id, event, timestamp=when.isoformat()))
    normalised: list[Message]
    normalised, rejected = segment.normalise_all(
        items, forced_type=None, batch_sent_at=None, received_at=timezone.now(), measure=True
    )
    result = services.ingest(source.pk, normalised, received_at=timezone.now(), rejected=rejected)
    if roll_up:
        rollups.rollup_new_events()
    return result
