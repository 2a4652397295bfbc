"""The read side of segments: members (now or on a past day), the history of entries and
exits, an account's segments, and a definition described in words."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, F, Q, QuerySet, When
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.core.conditions import Condition, ConditionError, Leaf, operator_labels, parse
from kizuna.core.conditions.tree import Group
from kizuna.segments.models import Segment, SegmentMembership

MEMBER_SORTS: dict[str, tuple[str, ...]] = {
    "-arr": ("-account__arr", "account_id"),
    "name": ("account__name_kana", "account__name", "account_id"),
    "-entered": ("-entered_at", "-id"),
}


def end_of(day: datetime.date) -> datetime.datetime:
    """The first moment after `day` in Kizuna's time zone."""
    return timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    )


def members(
    segment: Segment, *, as_of: datetime.date | None = None, sort: str = "-arr"
) -> QuerySet[SegmentMembership]:
    """The stays of the segment's members with their accounts: now, or at the end of a past
    day `as_of` (from the history)."""
    rows = SegmentMembership.objects.filter(segment=segment).select_related("account")
    if as_of is None:
        rows = rows.filter(exited_at__isnull=True)
    else:
        end = end_of(as_of)
        rows = rows.filter(entered_at__lt=end).filter(
            Q(exited_at__isnull=True) | Q(exited_at__gte=end)
        )
    return rows.order_by(*MEMBER_SORTS.get(sort, MEMBER_SORTS["-arr"]))


@dataclass(frozen=True)
class DayCount:
    day: datetime.date
    entered: int
    exited: int

    @property
    def net(self) -> int:
        return self.entered - self.exited


def history(segment: Segment, days: int = 30) -> list[DayCount]:
    """Entries and exits per day over the last `days` days, oldest first (two queries)."""
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    zone = timezone.get_current_timezone()
    rows = SegmentMembership.objects.filter(segment=segment).order_by()
    entered = dict(
        rows.filter(entered_at__gte=start)
        .annotate(day=TruncDate("entered_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    exited = dict(
        rows.filter(exited_at__gte=start)
        .annotate(day=TruncDate("exited_at", tzinfo=zone))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    return [
        DayCount(day, entered.get(day, 0), exited.get(day, 0))
        for day in (first + datetime.timedelta(days=offset) for offset in range(days))
    ]


@dataclass(frozen=True)
class Change:
    at: datetime.datetime
    entered: bool
    membership: SegmentMembership


def recent_changes(
    rows: QuerySet[SegmentMembership], before: datetime.datetime | None = None, limit: int = 20
) -> list[Change]:
    """The newest `limit` entries and exits among `rows` before `before`, newest first, in
    one query: the stays whose latest event (before `before`) is newest hold them all."""
    before = before or timezone.now() + datetime.timedelta(days=1)
    latest = Case(
        When(exited_at__lt=before, then=F("exited_at")),
        default=F("entered_at"),
    )
    stays = (
        rows.filter(entered_at__lt=before)
        .annotate(latest=latest)
        .select_related("account", "segment", "added_by")
        .order_by("-latest", "-id")[:limit]
    )
    changes: list[Change] = []
    for stay in stays:
        changes.append(Change(stay.entered_at, True, stay))
        if stay.exited_at is not None and stay.exited_at < before:
            changes.append(Change(stay.exited_at, False, stay))
    changes.sort(key=lambda change: (change.at, change.membership.pk), reverse=True)
    return changes[:limit]


@dataclass(frozen=True)
class AccountSegments:
    current: list[SegmentMembership]
    past: list[SegmentMembership]


def account_segments(account_id: int, past_limit: int = 20) -> AccountSegments:
    """The segments an account is in (with since when), and its latest past stays."""
    rows = SegmentMembership.objects.filter(account_id=account_id).select_related("segment")
    return AccountSegments(
        current=list(rows.filter(exited_at__isnull=True).order_by("segment__name", "id")),
        past=list(rows.filter(exited_at__isnull=False).order_by("-exited_at", "-id")[:past_limit]),
    )


# --- A definition in words ----------------------------------------------------------------


@dataclass(frozen=True)
class Described:
    """A node of a condition tree for people: a group ("all of", "any of", "not") with its
    children, or a condition as a sentence."""

    kind: str  # "and", "or", "not", "leaf"
    text: str = ""
    children: Sequence[Described] = field(default_factory=tuple)


def _number(value: Decimal) -> str:
    return format(value.normalize(), ",f") if value == value.to_integral() else f"{value:,}"


def _value_text(leaf: Leaf) -> str:
    labels = dict(leaf.metric.choices(leaf.params))

    def one(value: Any) -> str:
        if isinstance(value, Decimal):
            return _number(value)
        return str(labels.get(value, value))

    if leaf.value is None:
        return ""
    if leaf.op == "between":
        low, high = leaf.value
        text = _("%(low)s and %(high)s") % {"low": one(low), "high": one(high)}
    elif isinstance(leaf.value, tuple):
        text = ", ".join(one(value) for value in leaf.value)
    else:
        text = one(leaf.value)
    unit = str(leaf.metric.unit or "")
    return f"{text} {unit}" if unit else text


def describe(condition: Condition) -> Described:
    labels = operator_labels()

    def walk(node: Leaf | Group) -> Described:
        if isinstance(node, Leaf):
            parts = [node.describe(), labels.get(node.op, node.op), _value_text(node)]
            return Described("leaf", " ".join(part for part in parts if part))
        return Described(node.kind, children=tuple(walk(child) for child in node.children))

    return walk(condition.root)


def describe_tree(tree: Any) -> Described | None:
    """A stored tree in words, or None when it no longer parses (the error is shown)."""
    if not tree:
        return None
    try:
        return describe(parse(tree, check=False))
    except ConditionError:
        return None
