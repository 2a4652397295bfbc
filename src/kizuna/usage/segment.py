"""Segment's tracking spec, as the official libraries really send it: reading a request body
and turning each message into a `Message` Kizuna can store, or a `Rejection` with its reason.

No database access here. What the libraries send, and what is accepted:

- Bodies: JSON, optionally gzip-compressed (`Content-Encoding: gzip`, the default of the
  RudderStack libraries and an option of Segment's), with any content type (analytics.js sends
  `text/plain` so that browsers skip the CORS preflight; axios-based clients may send
  form-encoded). A batch is ``{"batch": [...], "sentAt": ..., "writeKey": ...}``; a single
  call is the message itself.
- Ids: `userId`, `anonymousId`, `groupId`, `previousId` and `messageId` as strings or numbers
  (numbers are kept as their JSON text); null fields are the same as missing ones.
- Traits: top level (identify and group), or `context.traits` (RudderStack copies identify
  traits there; analytics.js sends the user's traits there on every call) — for identify both
  are merged, the top level winning. A group call's own traits are only the top-level ones.
- Time: `timestamp` (Segment libraries) or `originalTimestamp` (RudderStack), ISO 8601 with
  or without zone (without: UTC), and `sentAt` per message or per batch. When the sender's
  clock is off by more than a minute (`sentAt` far from our clock), the event time is
  corrected as Segment does: received − (sentAt − timestamp).
- Extra fields (`integrations`, `_metadata`, `channel`, `rudderId`, …) are ignored.
"""

from __future__ import annotations

import datetime
import gzip
import json
import math
import re
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from kizuna.usage.choices import EventType
from kizuna.usage.models import MAX_EVENT_NAME, MAX_ID, MAX_MESSAGE_ID

# Segment's limits: 32 KB per message, 500 KB per batch request.
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
# The sender's clock is trusted unless it is off by more than this.
CLOCK_SKEW_TOLERANCE = datetime.timedelta(seconds=60)

# The endpoint of each call type, long and short (analytics.js posts to /v1/t, /v1/p, …).
PATH_TYPES: dict[str, str | None] = {
    "identify": EventType.IDENTIFY,
    "i": EventType.IDENTIFY,
    "track": EventType.TRACK,
    "t": EventType.TRACK,
    "page": EventType.PAGE,
    "p": EventType.PAGE,
    "screen": EventType.SCREEN,
    "s": EventType.SCREEN,
    "group": EventType.GROUP,
    "g": EventType.GROUP,
    "alias": EventType.ALIAS,
    "a": EventType.ALIAS,
    "batch": None,
    "b": None,
    "import": None,
}

# Context keys kept on stored events; the rest (traits, which live on the contact, and
# anything a library adds) is dropped so the event table stays lean.
CONTEXT_KEYS = frozenset(
    {
        "active",
        "app",
        "campaign",
        "channel",
        "device",
        "groupId",
        "ip",
        "library",
        "locale",
        "location",
        "network",
        "os",
        "page",
        "referrer",
        "screen",
        "timezone",
        "userAgent",
    }
)
MAX_CONTEXT_VALUE = 1000
TYPES = frozenset(EventType.values)
# Built once: json.dumps with options would build an encoder per call.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def to_json(value: Any) -> str:
    """Compact JSON text, non-ASCII kept as is (what is stored and what is measured)."""
    return _COMPACT(value)


class BodyError(Exception):
    """The request as a whole cannot be read: answered with `status` and nothing is stored."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Rejection:
    index: int
    message_id: str
    code: str
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "messageId": self.message_id,
            "code": self.code,
            "reason": self.reason,
        }


@dataclass(slots=True)
class Message:
    """One valid tracking call, normalised. `traits` holds identify/group traits;
    `properties` a track/page/screen call's properties."""

    index: int
    type: str
    message_id: str
    user_id: str
    anonymous_id: str
    timestamp: datetime.datetime
    day: datetime.date
    event: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    group_id: str = ""
    previous_id: str = ""
    page_url: str = ""
    page_path: str = ""
    page_title: str = ""


class Invalid(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# --- Reading the body ------------------------------------------------------------------------


def decode_body(raw: bytes, content_encoding: str, limit: int) -> Any:
    """Decompress (gzip) and parse a request body of at most `limit` bytes once inflated."""
    encoding = content_encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        raw = _gunzip(raw, limit)
    elif encoding not in ("", "identity"):
        raise BodyError(
            415,
            "unsupported_encoding",
            f"Content-Encoding {content_encoding!r} is not supported: send identity or gzip.",
        )
    if len(raw) > limit:
        raise BodyError(
            413, "request_too_large", f"The request body is larger than {limit // 1024} KB."
        )
    if not raw.strip():
        raise BodyError(400, "empty_body", "The request body is empty.")
    try:
        body = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
        if needs_cleaning(raw):
            body = clean_strings(body)
        return body
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError and undecodable bytes (UnicodeDecodeError);
        # RecursionError a body nested deeper than anything a library sends.
        raise BodyError(400, "invalid_json", "The request body is not valid JSON.") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    # 1e999 parses as infinity, which no database's JSON can store.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _gunzip(raw: bytes, limit: int) -> bytes:
    # Inflate at most limit + 1 bytes: a small bomb cannot make us allocate gigabytes.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(raw, limit + 1)
        if len(data) <= limit and not inflater.eof:
            data += inflater.flush()
    except zlib.error:
        raise BodyError(
            400, "invalid_gzip", "The body is marked gzip but is not valid gzip data."
        ) from None
    if len(data) > limit:
        raise BodyError(
            413, "request_too_large", f"The request body is larger than {limit // 1024} KB."
        )
    if not inflater.eof:
        raise BodyError(400, "invalid_gzip", "The gzip data is truncated.")
    return data


def gzip_bytes(data: bytes) -> bytes:
    """gzip-compress (for tests and benchmarks that act as a library would)."""
    return gzip.compress(data)


# --- Messages ---------------------------------------------------------------------------------

_SURROGATE_OR_NUL = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def needs_cleaning(raw: bytes) -> bool:
    """Whether a body has NUL characters or lone surrogates escaped in it, which neither
    PostgreSQL text nor UTF-8 can hold (the fast path skips the clean-up otherwise)."""
    return _SURROGATE_OR_NUL.search(raw) is not None


def clean_strings(value: Any) -> Any:
    """Replace NUL characters and lone surrogates in every string of a parsed JSON value."""
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, list):
        return [clean_strings(item) for item in value]
    if isinstance(value, dict):
        return {_clean_text(key): clean_strings(item) for key, item in value.items()}
    return value


def _clean_text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def batch_items(body: Any) -> tuple[list[Any], Any]:
    """The messages of a batch body and its batch-level `sentAt`."""
    if not isinstance(body, dict):
        raise BodyError(400, "invalid_batch", "A batch is a JSON object with a “batch” list.")
    items = body.get("batch")
    if not isinstance(items, list):
        raise BodyError(400, "invalid_batch", "A batch needs a “batch” list of messages.")
    return items, body.get("sentAt")


def write_key_in_body(body: Any) -> str:
    if isinstance(body, dict):
        key = body.get("writeKey")
        if isinstance(key, str):
            return key
    return ""


def normalise_all(
    items: list[Any],
    *,
    forced_type: str | None,
    batch_sent_at: Any,
    received_at: datetime.datetime,
    measure: bool,
) -> tuple[list[Message], list[Rejection]]:
    """Validate each message on its own; `measure` checks each one's size (only needed when
    the whole body is larger than one message may be)."""
    messages: list[Message] = []
    rejections: list[Rejection] = []
    zone = ZoneInfo(settings.TIME_ZONE)
    try:
        sent = parse_time(batch_sent_at)
    except Invalid:
        sent = None  # a malformed sentAt only disables the clock-skew correction
    for index, item in enumerate(items):
        try:
            if measure and _size(item) > MAX_MESSAGE_BYTES:
                raise Invalid(
                    "message_too_large",
                    f"The message is larger than {MAX_MESSAGE_BYTES // 1024} KB.",
                )
            messages.append(normalise(index, item, forced_type, sent, received_at, zone))
        except Invalid as exc:
            message_id = item.get("messageId") if isinstance(item, dict) else None
            rejections.append(
                Rejection(
                    index=index,
                    message_id=str(message_id)[:MAX_MESSAGE_ID]
                    if isinstance(message_id, str | int)
                    else "",
                    code=exc.code,
                    reason=exc.reason,
                )
            )
    return messages, rejections


def _size(item: Any) -> int:
    return len(_COMPACT(item).encode())


def normalise(
    index: int,
    item: Any,
    forced_type: str | None,
    batch_sent_at: datetime.datetime | None,
    received_at: datetime.datetime,
    zone: ZoneInfo,
) -> Message:
    if not isinstance(item, dict):
        raise Invalid("invalid_message", "A message must be a JSON object.")
    kind = forced_type or item.get("type")
    if not isinstance(kind, str) or kind not in TYPES:
        raise Invalid(
            "unknown_type",
            f"Unknown message type {kind!r}: use identify, track, page, screen, group or alias."
            if kind is not None
            else "The message has no type.",
        )
    message_id = _identifier(item.get("messageId"), "messageId", MAX_MESSAGE_ID)
    if not message_id:
        # Every official library sets one; without it a retry cannot be recognised.
        message_id = f"kizuna-{uuid.uuid4()}"
    user_id = _identifier(item.get("userId"), "userId", MAX_ID)
    anonymous_id = _identifier(item.get("anonymousId"), "anonymousId", MAX_ID)
    context = _object(item.get("context"), "context")

    message = Message(
        index=index,
        type=kind,
        message_id=message_id,
        user_id=user_id,
        anonymous_id=anonymous_id,
        timestamp=received_at,
        day=received_at.date(),
        context=_trim_context(context),
    )
    message.timestamp = _event_time(item, batch_sent_at, received_at)
    message.day = message.timestamp.astimezone(zone).date()

    if kind == EventType.ALIAS:
        message.previous_id = _identifier(item.get("previousId"), "previousId", MAX_ID)
        if not message.previous_id or not user_id:
            raise Invalid("missing_id", "An alias call needs both previousId and userId.")
        return message
    if not user_id and not anonymous_id:
        raise Invalid("missing_id", "The message needs a userId or an anonymousId.")
    group_id = _identifier(context.get("groupId"), "context.groupId", MAX_ID)
    if kind == EventType.GROUP:
        message.group_id = _identifier(item.get("groupId"), "groupId", MAX_ID)
        if not message.group_id:
            raise Invalid("missing_group_id", "A group call needs a groupId.")
        message.traits = _object(item.get("traits"), "traits")
        return message
    message.group_id = group_id
    if kind == EventType.IDENTIFY:
        traits = _object(context.get("traits"), "context.traits")
        message.traits = {**traits, **_object(item.get("traits"), "traits")}
        return message
    message.properties = _object(item.get("properties"), "properties")
    if kind == EventType.TRACK:
        name = item.get("event")
        if not isinstance(name, str) or not name.strip():
            raise Invalid("missing_event", "A track call needs an event name.")
        if len(name) > MAX_EVENT_NAME:
            raise Invalid(
                "invalid_event", f"The event name is longer than {MAX_EVENT_NAME} characters."
            )
        message.event = name.strip()
        return message
    # page and screen: the name is optional; page details come from properties or context.
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        raise Invalid("invalid_name", "The page or screen name must be a string.")
    message.event = (name or "").strip()[:MAX_EVENT_NAME]
    if kind == EventType.PAGE:
        raw_page = context.get("page")
        page: dict[str, Any] = raw_page if isinstance(raw_page, dict) else {}
        props = message.properties
        message.page_url = _text(props.get("url") or page.get("url"), 2000)
        message.page_path = _text(props.get("path") or page.get("path"), 1000)
        message.page_title = _text(props.get("title") or page.get("title"), 500)
    return message


def _identifier(value: Any, name: str, limit: int) -> str:
    if value is None:
        return ""
    if type(value) is str and len(value) <= limit:
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid("invalid_id", f"{name} must be a string or a number.")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Invalid("invalid_id", f"{name} must be a string or a number.")
        text = str(int(value)) if value.is_integer() else repr(value)
    else:
        text = str(value).strip()
    if len(text) > limit:
        raise Invalid("invalid_id", f"{name} is longer than {limit} characters.")
    return text


def _object(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid("invalid_field", f"{name} must be a JSON object.")
    return value


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _trim_context(context: dict[str, Any]) -> dict[str, Any]:
    trimmed: dict[str, Any] = {}
    for key, value in context.items():
        if key not in CONTEXT_KEYS:
            continue
        if isinstance(value, str) and len(value) > MAX_CONTEXT_VALUE:
            value = value[:MAX_CONTEXT_VALUE]
        trimmed[key] = value
    return trimmed


def parse_time(value: Any) -> datetime.datetime | None:
    """An ISO 8601 time as a library sends it; None when absent. Naive times are UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise Invalid("invalid_timestamp", "Timestamps must be ISO 8601 strings.")
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(
            "invalid_timestamp", f"{value!r} is not an ISO 8601 time such as 2025-01-31T09:00:00Z."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def _event_time(
    item: dict[str, Any], batch_sent_at: datetime.datetime | None, received_at: datetime.datetime
) -> datetime.datetime:
    happened = parse_time(item.get("timestamp")) or parse_time(item.get("originalTimestamp"))
    if happened is None:
        return received_at
    try:
        sent = parse_time(item.get("sentAt")) or batch_sent_at
    except Invalid:
        sent = batch_sent_at  # a malformed sentAt only disables the clock-skew correction
    if sent is not None and abs(received_at - sent) > CLOCK_SKEW_TOLERANCE:
        return received_at - (sent - happened)
    return happened
