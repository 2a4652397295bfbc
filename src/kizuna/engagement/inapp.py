"""In-app guidance: which live messages a viewer of the customer's product may see now (asked
by kizuna.js on every page view and after tracked events), what the viewer did with them, the
success-flow action that shows a message to an account, previews and results.

`decide` is on the hot path of every page view of every customer's product, so it works from
a per-process cache of the live messages (re-read when a cheap version check says they
changed) and runs a fixed number of small queries, whatever the number of messages:
contact, account, segment memberships, flow assignments, frequency states, event counts —
each only when a candidate message needs it. Event counts come from the daily usage rollups
(plus the event kizuna.js has just tracked), never from the raw event table.
"""

from __future__ import annotations

import datetime
import fnmatch
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from kizuna.customers.models import Account, Contact
from kizuna.engagement.choices import (
    Frequency,
    InAppAudience,
    InAppEventKind,
    InAppKind,
    InAppStatus,
)
from kizuna.engagement.models import InAppAssignment, InAppEvent, InAppMessage, InAppState
from kizuna.segments.models import SegmentMembership
from kizuna.usage import segment, services
from kizuna.usage.choices import EventType
from kizuna.usage.models import AccountDailyUsage, ContactDailyUsage, Event, RollupState

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
# How long a process trusts its copy of the live messages before checking their version.
CACHE_SECONDS = 5.0
PREVIEW_SALT = "kizuna.engagement.inapp.preview"
PREVIEW_MAX_AGE = 7 * 24 * 3600
# The usage event each in-app event is also recorded as (segments, flows and health read them).
USAGE_EVENT_NAMES = {
    InAppEventKind.SHOWN: "In-App Message Shown",
    InAppEventKind.DISMISSED: "In-App Message Dismissed",
    InAppEventKind.CLICKED: "In-App Message Clicked",
    InAppEventKind.COMPLETED: "In-App Message Completed",
}
MAX_ID = 200


class UnknownWriteKey(Exception):
    """The write key is missing or belongs to no source."""


class SourceDisabled(Exception):
    """The write key's source is disabled."""


class BadRequest(ValueError):
    """A field of a public request is missing or malformed (the message names it)."""


# --- The live messages, cached per process ----------------------------------------------------


@dataclass(frozen=True)
class LiveMessage:
    """A live message as `decide` needs it: targeting compiled, content per language."""

    id: int
    key: str
    kind: str
    audience: str
    segment_id: int | None
    url_regex: re.Pattern[str] | None
    event_name: str
    event_count: int
    dwell_seconds: int
    frequency: str
    every_days: int
    priority: int
    starts_at: datetime.datetime | None
    ends_at: datetime.datetime | None
    content: Mapping[str, dict[str, Any]] = field(default_factory=dict)

    def active(self, now: datetime.datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and (
            self.ends_at is None or now < self.ends_at
        )

    def matches_path(self, path: str) -> bool:
        return self.url_regex is None or bool(self.url_regex.match(path))


def url_regex(pattern: str) -> re.Pattern[str] | None:
    """The compiled glob of a `url_pattern` (`/settings*`, `/reports/*/edit`); None for every
    page. Like fnmatch, but case-sensitive on every platform, as URL paths are."""
    pattern = pattern.strip()
    if not pattern:
        return None
    return re.compile(fnmatch.translate(pattern))


def content_for(message: InAppMessage, language: str) -> dict[str, Any]:
    """The message as kizuna.js renders it, in `language` (English falls back to Japanese
    field by field, so a half-translated message never shows empty)."""

    def pick(values: Mapping[str, Any], name: str) -> str:
        english = values.get(f"{name}_en") or ""
        return str(english if language == "en" and english else values.get(f"{name}_ja") or "")

    plain = {
        f"{name}_{lang}": getattr(message, f"{name}_{lang}")
        for name in ("title", "body", "button")
        for lang in LANGUAGES
    }
    steps = [
        {
            "selector": str(step.get("selector") or ""),
            "title": pick(step, "title"),
            "body": pick(step, "body"),
        }
        for step in (message.steps or [])
        if isinstance(step, dict)
    ]
    return {
        "id": message.pk,
        "key": message.key,
        "kind": message.kind,
        "language": language,
        "title": pick(plain, "title"),
        "body": pick(plain, "body"),
        "button": pick(plain, "button"),
        "buttonUrl": message.button_url,
        "steps": steps if message.kind == InAppKind.TOUR else [],
        "dwellSeconds": message.dwell_seconds,
        "priority": message.priority,
        "contentType": message.content_type,
    }


def _compile(message: InAppMessage) -> LiveMessage:
    return LiveMessage(
        id=message.pk,
        key=message.key,
        kind=message.kind,
        audience=message.audience,
        segment_id=message.segment_id,
        url_regex=url_regex(message.url_pattern),
        event_name=message.event_name.strip(),
        event_count=max(message.event_count, 1),
        dwell_seconds=message.dwell_seconds,
        frequency=message.frequency,
        every_days=max(message.every_days, 1),
        priority=message.priority,
        starts_at=message.starts_at,
        ends_at=message.ends_at,
        content={language: content_for(message, language) for language in LANGUAGES},
    )


class _LiveCache:
    """The live messages of this process. After CACHE_SECONDS one aggregate query (the count
    and latest `updated_at` of all messages) says whether they changed; only then are they
    read again. Every change made through this module also clears it at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[LiveMessage] = []
        self.version: tuple[Any, ...] | None = None
        self.checked = 0.0

    def get(self) -> list[LiveMessage]:
        now = time.monotonic()
        if self.version is not None and now - self.checked < CACHE_SECONDS:
            return self.messages
        with self.lock:
            if self.version is not None and time.monotonic() - self.checked < CACHE_SECONDS:
                return self.messages
            stamp = InAppMessage.objects.aggregate(n=Count("id"), latest=Max("updated_at"))
            version = (stamp["n"], stamp["latest"])
            if version != self.version:
                rows = InAppMessage.objects.filter(status=InAppStatus.LIVE).order_by(
                    "-priority", "id"
                )
                self.messages = [_compile(row) for row in rows]
                self.version = version
            self.checked = time.monotonic()
            return self.messages

    def clear(self) -> None:
        with self.lock:
            self.version = None
            self.messages = []


_LIVE = _LiveCache()


def live_messages() -> list[LiveMessage]:
    """The live messages, highest priority first (cached; see `_LiveCache`)."""
    return _LIVE.get()


def forget_cached_messages() -> None:
    _LIVE.clear()


# --- Who is looking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    visitor: str  # the product's user id, or "anon:<anonymousId>"
    contact_id: int | None
    account_id: int | None
    language: str  # the contact's own language ("" when unknown)


def _clean_id(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BadRequest(f"{name} must be a string.")
    text = str(value).strip()
    if len(text) > MAX_ID:
        raise BadRequest(f"{name} is longer than {MAX_ID} characters.")
    return text


def _viewer(user_id: str, anonymous_id: str, group_id: str) -> Viewer:
    contact_id = account_id = None
    language = ""
    if user_id:
        row = (
            Contact.objects.filter(product_user_id=user_id)
            .values_list("id", "account_id", "language")
            .first()
        )
        if row is not None:
            contact_id, account_id, language = row
    if group_id:
        # The group the page names wins over the contact's own account (people may use
        # several customers' workspaces).
        found = Account.objects.filter(external_id=group_id).values_list("id", flat=True).first()
        account_id = found or account_id
    visitor = user_id or f"anon:{anonymous_id}"
    return Viewer(visitor, contact_id, account_id, language or "")


def _language(viewer: Viewer, page_language: str) -> str:
    for candidate in (viewer.language, (page_language or "")[:2].lower()):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def page_path(url: str) -> str:
    """The path of a page URL (or the path itself)."""
    if not url:
        return "/"
    path = urlsplit(url).path if "://" in url or url.startswith("//") else url.split("?")[0]
    return (path or "/").split("#")[0]


# --- The decision --------------------------------------------------------------------------


def _event_counts(viewer: Viewer, names: set[str], passed_ids: set[str]) -> dict[str, int]:
    """How often the viewer did each event: the rollups, plus the few events stored since the
    rollup worker's watermark (not yet in the rollups), minus those kizuna.js passes itself."""
    if not names:
        return {}
    if viewer.contact_id is not None:
        who: dict[str, int] = {"contact_id": viewer.contact_id}
        rolled: QuerySet[Any] = ContactDailyUsage.objects.filter(
            type=EventType.TRACK, event__in=names, **who
        )
    elif viewer.account_id is not None:
        who = {"account_id": viewer.account_id}
        rolled = AccountDailyUsage.objects.filter(type=EventType.TRACK, event__in=names, **who)
    else:
        return {}
    counts: dict[str, int] = {}
    for row in rolled.values("event").annotate(total=Sum("count")).order_by():
        counts[row["event"]] = int(row["total"] or 0)
    watermark = RollupState.objects.values("last_event_id")[:1]
    tail = Event.objects.filter(
        type=EventType.TRACK, event__in=names, id__gt=Coalesce(Subquery(watermark), 0), **who
    ).exclude(message_id__in=passed_ids)
    for row in tail.values("event").annotate(total=Count("id")).order_by():
        counts[row["event"]] = counts.get(row["event"], 0) + int(row["total"])
    return counts


def _frequency_allows(
    message: LiveMessage, state: InAppState | None, now: datetime.datetime
) -> bool:
    if state is None:
        return True
    if message.frequency == Frequency.ONCE:
        return state.shown_count == 0
    if message.frequency == Frequency.UNTIL_DISMISSED:
        return state.dismissed_at is None and state.completed_at is None
    last = state.last_shown_at
    return last is None or now - last > datetime.timedelta(days=message.every_days)


def _just_tracked(event: Any) -> list[tuple[str, str]]:
    """(name, messageId) of the events kizuna.js has just tracked: names, or objects
    ``{"event": name, "messageId": id}`` (the id keeps an event already stored from counting
    twice)."""
    if event is None:
        return []
    items = [event] if isinstance(event, str | dict) else event
    if not isinstance(items, list):
        raise BadRequest("event must be an event name or a list of them.")
    cleaned = []
    for item in items[:50]:
        name, message_id = (
            (item.get("event"), item.get("messageId")) if isinstance(item, dict) else (item, "")
        )
        if not isinstance(name, str) or not isinstance(message_id, str | None):
            raise BadRequest("event must be an event name or a list of them.")
        if name.strip():
            cleaned.append((name.strip(), (message_id or "")[:128]))
    return cleaned


def decide(
    *,
    write_key: str,
    user_id: Any = None,
    anonymous_id: Any = None,
    group_id: Any = None,
    url: str = "",
    event: Any = None,
    language: str = "",
    preview: str = "",
    now: datetime.datetime | None = None,
) -> list[dict[str, Any]]:
    """The messages this viewer may see now on this page, highest priority first, each as
    kizuna.js renders it (content in the viewer's language, kind, steps, dwell seconds).

    `event` names the event(s) kizuna.js has just tracked, counted on top of the rollups so
    that "the Nth time" shows at once. A valid `preview` token returns that message whatever
    its status and targeting. Raises UnknownWriteKey, SourceDisabled or BadRequest.
    """
    source = services.source_for_key(write_key) if write_key else None
    if source is None:
        raise UnknownWriteKey
    if not source.enabled:
        raise SourceDisabled
    user_id = _clean_id(user_id, "userId")
    anonymous_id = _clean_id(anonymous_id, "anonymousId")
    group_id = _clean_id(group_id, "groupId")
    if not isinstance(url, str):
        raise BadRequest("url must be a string.")
    just_tracked = _just_tracked(event)
    now = now or timezone.now()
    if preview:
        return _preview(preview, user_id, language)
    if not user_id and not anonymous_id:
        raise BadRequest("Send userId or anonymousId.")

    path = page_path(url)
    candidates = [m for m in live_messages() if m.active(now) and m.matches_path(path)]
    if not candidates:
        return []
    viewer = _viewer(user_id, anonymous_id, group_id)

    segment_ids = {
        m.segment_id
        for m in candidates
        if m.audience == InAppAudience.SEGMENT and m.segment_id is not None
    }
    member_of: set[int] = set()
    if segment_ids and viewer.account_id is not None:
        member_of = set(
            SegmentMembership.objects.filter(
                account_id=viewer.account_id, segment_id__in=segment_ids, exited_at__isnull=True
            ).values_list("segment_id", flat=True)
        )
    flow_ids = [m.id for m in candidates if m.audience == InAppAudience.FLOW]
    assigned: set[int] = set()
    if flow_ids and viewer.account_id is not None:
        for_whom = Q(contact_id__isnull=True)
        if viewer.contact_id is not None:
            for_whom |= Q(contact_id=viewer.contact_id)
        assigned = set(
            InAppAssignment.objects.filter(
                for_whom,
                Q(expires_at__isnull=True) | Q(expires_at__gt=now),
                account_id=viewer.account_id,
                message_id__in=flow_ids,
            ).values_list("message_id", flat=True)
        )

    def audience_allows(message: LiveMessage) -> bool:
        if message.audience == InAppAudience.SEGMENT:
            return message.segment_id in member_of
        if message.audience == InAppAudience.FLOW:
            return message.id in assigned
        return True

    candidates = [m for m in candidates if audience_allows(m)]
    if not candidates:
        return []
    states = {
        state.message_id: state
        for state in InAppState.objects.filter(
            visitor=viewer.visitor, message_id__in=[m.id for m in candidates]
        ).only("message_id", "shown_count", "last_shown_at", "dismissed_at", "completed_at")
    }
    candidates = [m for m in candidates if _frequency_allows(m, states.get(m.id), now)]
    names = {m.event_name for m in candidates if m.event_name}
    counts = _event_counts(
        viewer, names, {message_id for _n, message_id in just_tracked if message_id}
    )
    for name, _message_id in just_tracked:
        if name in names:
            counts[name] = counts.get(name, 0) + 1
    chosen = [
        m for m in candidates if not m.event_name or counts.get(m.event_name, 0) >= m.event_count
    ]
    lang = _language(viewer, language)
    return [{**m.content[lang], "preview": False} for m in chosen]


# --- Preview ---------------------------------------------------------------------------------


def preview_token(message: InAppMessage) -> str:
    """A signed token that makes `decide` return this message to whoever opens the customer's
    page with `?kizuna_preview=<token>` (valid PREVIEW_MAX_AGE)."""
    return signing.dumps({"m": message.pk}, salt=PREVIEW_SALT, compress=True)


def message_for_preview(token: str) -> InAppMessage | None:
    try:
        data = signing.loads(token, salt=PREVIEW_SALT, max_age=PREVIEW_MAX_AGE)
    except (signing.BadSignature, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("m"), int):
        return None
    return InAppMessage.objects.filter(pk=data["m"]).first()


def _preview(token: str, user_id: str, language: str) -> list[dict[str, Any]]:
    message = message_for_preview(token)
    if message is None:
        raise BadRequest("The preview link is not valid (or has expired).")
    contact_language = ""
    if user_id:
        contact_language = (
            Contact.objects.filter(product_user_id=user_id)
            .values_list("language", flat=True)
            .first()
            or ""
        )
    lang = _language(Viewer("", None, None, contact_language), language)
    return [{**content_for(message, lang), "preview": True}]


# --- What the viewer did -----------------------------------------------------------------------


def record_event(
    *,
    write_key: str,
    message_key: Any,
    kind: Any,
    user_id: Any = None,
    anonymous_id: Any = None,
    group_id: Any = None,
    url: Any = "",
    step: Any = None,
    preview: str = "",
    message_id: Any = None,
    now: datetime.datetime | None = None,
) -> InAppEvent:
    """Record what kizuna.js reported (shown, dismissed, clicked, completed): an InAppEvent,
    the viewer's InAppState for the frequency rule, and the same as a usage event ("In-App
    Message Shown" with properties message, kind, step) through the normal ingestion, so
    segments, flows and health scores can use it. Preview events are only kept as events
    marked preview (no state, no usage event, not in the results)."""
    source = services.source_for_key(write_key) if write_key else None
    if source is None:
        raise UnknownWriteKey
    if not source.enabled:
        raise SourceDisabled
    if kind not in InAppEventKind.values:
        raise BadRequest(f"kind must be one of {', '.join(InAppEventKind.values)}.")
    if not isinstance(message_key, str) or not message_key:
        raise BadRequest("message must be the message's key.")
    if step is not None and (
        not isinstance(step, int) or isinstance(step, bool) or not 0 <= step < 1000
    ):
        raise BadRequest("step must be a step number from 0.")
    if not isinstance(url, str):
        raise BadRequest("url must be a string.")
    user_id = _clean_id(user_id, "userId")
    anonymous_id = _clean_id(anonymous_id, "anonymousId")
    group_id = _clean_id(group_id, "groupId")
    if not user_id and not anonymous_id:
        raise BadRequest("Send userId or anonymousId.")
    now = now or timezone.now()
    is_preview = False
    if preview:
        previewed = message_for_preview(preview)
        if previewed is None or previewed.key != message_key:
            raise BadRequest("The preview link is not valid (or has expired).")
        message = previewed
        is_preview = True
    else:
        found = InAppMessage.objects.filter(key=message_key).first()
        if found is None:
            raise BadRequest(f"There is no in-app message {message_key!r}.")
        message = found
    viewer = _viewer(user_id, anonymous_id, group_id)
    with transaction.atomic():
        recorded = InAppEvent.objects.create(
            message=message,
            kind=kind,
            visitor=viewer.visitor,
            contact_id=viewer.contact_id,
            account_id=viewer.account_id,
            at=now,
            url=url[:2000],
            step=step,
            preview=is_preview,
        )
        if not is_preview:
            _update_state(message, viewer, kind, now)
    if not is_preview:
        _ingest_usage(
            source.id, message, kind, step, user_id, anonymous_id, group_id, url, now, message_id
        )
    return recorded


def _update_state(message: InAppMessage, viewer: Viewer, kind: str, now: datetime.datetime) -> None:
    state = (
        InAppState.objects.select_for_update()
        .filter(visitor=viewer.visitor, message=message)
        .first()
    )
    if state is None:
        try:
            with transaction.atomic():
                state = InAppState.objects.create(
                    visitor=viewer.visitor,
                    message=message,
                    contact_id=viewer.contact_id,
                    account_id=viewer.account_id,
                )
        except IntegrityError:  # made meanwhile by a request of the same viewer
            state = InAppState.objects.select_for_update().get(
                visitor=viewer.visitor, message=message
            )
    if kind == InAppEventKind.SHOWN:
        state.shown_count += 1
        state.first_shown_at = state.first_shown_at or now
        state.last_shown_at = now
    elif kind == InAppEventKind.DISMISSED:
        state.dismissed_at = now
    elif kind == InAppEventKind.CLICKED:
        state.clicked_at = state.clicked_at or now
    elif kind == InAppEventKind.COMPLETED:
        state.completed_at = state.completed_at or now
    state.contact_id = viewer.contact_id or state.contact_id
    state.account_id = viewer.account_id or state.account_id
    state.save()


def _ingest_usage(
    source_id: int,
    message: InAppMessage,
    kind: str,
    step: int | None,
    user_id: str,
    anonymous_id: str,
    group_id: str,
    url: str,
    now: datetime.datetime,
    message_id: Any,
) -> None:
    item: dict[str, Any] = {
        "type": "track",
        "event": USAGE_EVENT_NAMES[InAppEventKind(kind)],
        "messageId": str(message_id)[:100]
        if isinstance(message_id, str) and message_id
        else f"inapp-{uuid.uuid4()}",
        "timestamp": now.isoformat(),
        "properties": {"message": message.key, "kind": message.kind, "step": step},
        "context": {"library": {"name": "kizuna-inapp"}},
    }
    if user_id:
        item["userId"] = user_id
    if anonymous_id:
        item["anonymousId"] = anonymous_id
    if group_id:
        item["context"]["groupId"] = group_id
    if url:
        item["context"]["page"] = {"url": url[:2000], "path": page_path(url)}
    messages, rejected = segment.normalise_all(
        [item], forced_type="track", batch_sent_at=None, received_at=now, measure=False
    )
    if messages:
        services.ingest(source_id, messages, received_at=now, rejected=rejected)


# --- Flows, status, results ------------------------------------------------------------------


def show_to(
    message: InAppMessage,
    account: Account,
    contact: Contact | None = None,
    *,
    source_key: str,
    flow_enrolment_id: int | None = None,
    flow_step: str = "",
    expires_at: datetime.datetime | None = None,
) -> InAppAssignment:
    """Have this account (or only this contact) see the message next time it matches: the
    success flow's "show in-app message" action. Idempotent on `source_key` (a retried
    step finds the assignment it made)."""
    assignment, _created = InAppAssignment.objects.get_or_create(
        source_key=source_key,
        defaults={
            "message": message,
            "account": account,
            "contact": contact,
            "flow_enrolment_id": flow_enrolment_id,
            "flow_step": flow_step,
            "expires_at": expires_at,
        },
    )
    return assignment


@dataclass(frozen=True)
class Results:
    """What viewers did with a message (preview events excluded). Rates are of `shown`."""

    shown: int
    dismissed: int
    clicked: int
    completed: int
    viewers: int

    def rate(self, value: int) -> float | None:
        return value / self.shown if self.shown else None

    @property
    def dismiss_rate(self) -> float | None:
        return self.rate(self.dismissed)

    @property
    def click_rate(self) -> float | None:
        return self.rate(self.clicked)

    @property
    def completion_rate(self) -> float | None:
        return self.rate(self.completed)


def results_for(message_ids: Iterable[int]) -> dict[int, Results]:
    """Results of several messages in one query. Counts are distinct viewers per event kind,
    so a banner shown on ten page views to one person counts once."""
    ids = list(message_ids)
    found: dict[int, Results] = {}
    if not ids:
        return found
    rows = (
        InAppEvent.objects.filter(message_id__in=ids, preview=False)
        .values("message_id")
        .annotate(
            shown=Count("visitor", filter=Q(kind=InAppEventKind.SHOWN), distinct=True),
            dismissed=Count("visitor", filter=Q(kind=InAppEventKind.DISMISSED), distinct=True),
            clicked=Count("visitor", filter=Q(kind=InAppEventKind.CLICKED), distinct=True),
            completed=Count("visitor", filter=Q(kind=InAppEventKind.COMPLETED), distinct=True),
            viewers=Count("visitor", distinct=True),
        )
        .order_by()
    )
    for row in rows:
        found[row["message_id"]] = Results(
            row["shown"], row["dismissed"], row["clicked"], row["completed"], row["viewers"]
        )
    empty = Results(0, 0, 0, 0, 0)
    return {pk: found.get(pk, empty) for pk in ids}
