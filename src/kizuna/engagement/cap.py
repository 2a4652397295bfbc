"""The one frequency cap and the de-duplication rule, checked for many contacts at once.

Both rules look at the messages a contact already has, whichever team, template, campaign
or flow made them: the cap counts non-transactional messages queued, being sent or sent
within `cap_days`; the de-duplication rule looks for the same content (`content_hash`) within
`dedupe_days`. Test sends never count. The caller serialises queueing (see `serialise`), so
two campaigns queueing at the same moment cannot both pass the cap for one contact.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kizuna.engagement.choices import HoldReason, MessageStatus
from kizuna.engagement.models import EmailMessage, EngagementSettings

# Messages that count: on their way or delivered. Held, skipped, failed and bounced ones
# never reached the contact's inbox.
COUNTED_STATUSES = (MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT)
TEST_SOURCE = "test"
# Any constant: every process queueing email takes this one advisory lock on PostgreSQL.
_ADVISORY_LOCK_KEY = 0x4B5A_454D  # "KZEM"
# How many earlier messages a reason_detail names before "…".
_EVIDENCE_SHOWN = 3


@dataclass(frozen=True)
class Hold:
    """Why one message is held back: the rule's reason and the evidence, in words."""

    reason: HoldReason
    detail: str


@dataclass(frozen=True)
class _Earlier:
    contact_id: int
    content_hash: str
    at: datetime.datetime
    template_name: str
    team: str


def serialise() -> None:
    """Take the queueing lock for the rest of the current transaction.

    On PostgreSQL a transaction-level advisory lock; SQLite serialises writers itself (our
    connections begin IMMEDIATE transactions), and the write below makes sure the lock is held
    before anything is read even where a transaction was begun deferred."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
    else:
        EngagementSettings.objects.filter(pk=1).update(cap_days=F("cap_days"))


def check(
    wanted: Mapping[int, str],
    *,
    rules: EngagementSettings,
    now: datetime.datetime,
) -> dict[int, Hold]:
    """Which of these non-transactional messages the rules hold back.

    `wanted` maps each contact id to the content hash of the message it would get. One query
    whatever the number of contacts; returns contact id -> Hold for those held."""
    if not wanted:
        return {}
    cap_since = now - datetime.timedelta(days=rules.cap_days)
    dedupe_since = now - datetime.timedelta(days=rules.dedupe_days)
    since = min(cap_since, dedupe_since)
    # When a message counts from: its sending time, or its queueing time until it is sent.
    recent = Q(sent_at__gte=since) | Q(sent_at__isnull=True, queued_at__gte=since)
    rows = (
        EmailMessage.objects.filter(
            recent,
            contact_id__in=list(wanted),
            transactional=False,
            status__in=COUNTED_STATUSES,
        )
        .exclude(source=TEST_SOURCE)
        .values_list("contact_id", "content_hash", "sent_at", "queued_at", "template__name", "team")
    )
    earlier: dict[int, list[_Earlier]] = defaultdict(list)
    for contact_id, content_hash, sent_at, queued_at, template_name, team in rows:
        earlier[contact_id].append(
            _Earlier(contact_id, content_hash, sent_at or queued_at, template_name, team)
        )
    held: dict[int, Hold] = {}
    for contact_id, content_hash in wanted.items():
        mine = sorted(earlier.get(contact_id, ()), key=lambda e: e.at)
        same = [e for e in mine if e.content_hash == content_hash and e.at >= dedupe_since]
        if same:
            held[contact_id] = Hold(HoldReason.DUPLICATE, _duplicate_detail(rules, same))
            continue
        counted = [e for e in mine if e.at >= cap_since]
        if len(counted) >= rules.cap_messages:
            held[contact_id] = Hold(HoldReason.FREQUENCY_CAP, _cap_detail(rules, counted))
    return held


def rule_text(rules: EngagementSettings) -> str:
    """The cap in words: "2 per 7 days"."""
    return ngettext(
        "%(messages)d per %(days)d day", "%(messages)d per %(days)d days", rules.cap_days
    ) % {"messages": rules.cap_messages, "days": rules.cap_days}


def dedupe_text(rules: EngagementSettings) -> str:
    return ngettext(
        "same content within %(days)d day", "same content within %(days)d days", rules.dedupe_days
    ) % {"days": rules.dedupe_days}


def _describe(earlier: Iterable[_Earlier]) -> str:
    items = list(earlier)
    parts = []
    for item in items[:_EVIDENCE_SHOWN]:
        when = formats.date_format(timezone.localtime(item.at), "SHORT_DATE_FORMAT")
        if item.team:
            parts.append(
                _("%(template)s by %(team)s on %(date)s")
                % {"template": item.template_name, "team": item.team, "date": when}
            )
        else:
            parts.append(
                _("%(template)s on %(date)s") % {"template": item.template_name, "date": when}
            )
    if len(items) > _EVIDENCE_SHOWN:
        parts.append("…")
    return ", ".join(parts)


def _cap_detail(rules: EngagementSettings, counted: list[_Earlier]) -> str:
    first = timezone.localtime(counted[0].at).date().isoformat()
    text = _("%(rule)s: already %(count)d since %(date)s (%(evidence)s)") % {
        "rule": rule_text(rules),
        "count": len(counted),
        "date": first,
        "evidence": _describe(counted),
    }
    return text[:500]


def _duplicate_detail(rules: EngagementSettings, same: list[_Earlier]) -> str:
    text = _("%(rule)s: the same content went out already (%(evidence)s)") % {
        "rule": dedupe_text(rules),
        "evidence": _describe(same),
    }
    return text[:500]
