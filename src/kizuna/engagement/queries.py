"""What each segment prefers: click-through of emails and in-app messages by content type
(video, webinar invitation, article, …) per segment and per tier, so a manager can see, for
example, that tech-touch accounts click videos and high-touch ones webinar invitations
(seed 000: learn whether customers prefer a video or a webinar invitation).

Everything is one GROUP BY per table over the window, whatever the number of accounts.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.customers.choices import Tier
from kizuna.engagement.choices import ContentType, MessageStatus
from kizuna.engagement.models import EmailMessage, InAppState
from kizuna.segments.models import Segment

# Fewer deliveries than this in a cell: the rate is shown but not used to name a preference.
MIN_SAMPLE = 20


@dataclass(frozen=True)
class Cell:
    reached: int  # emails delivered / in-app messages shown
    responded: int  # clicked / clicked or completed

    @property
    def rate(self) -> float | None:
        return 100.0 * self.responded / self.reached if self.reached else None

    @property
    def enough(self) -> bool:
        return self.reached >= MIN_SAMPLE


@dataclass(frozen=True)
class Row:
    key: str  # "all", "tier:tech", "segment:12"
    label: str
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def preferred(self) -> str | None:
        """The content type with the best rate among those with enough data."""
        ranked = [(cell.rate or 0.0, kind) for kind, cell in self.cells.items() if cell.enough]
        if len(ranked) < 2:
            return None
        return max(ranked)[1]

    def cell(self, kind: str) -> Cell | None:
        return self.cells.get(kind)


@dataclass(frozen=True)
class Table:
    rows: list[Row]
    content_types: list[tuple[str, str]]  # those that occur, in the choices' order

    def __bool__(self) -> bool:
        return bool(self.rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)


@dataclass(frozen=True)
class Preferences:
    days: int
    email: Table
    inapp: Table


def _start(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def _rows(
    overall: Iterable[Mapping[str, Any]],
    by_tier: Iterable[Mapping[str, Any]],
    by_segment: Iterable[Mapping[str, Any]],
    reached: str,
    responded: str,
) -> list[Row]:
    rows: dict[str, Row] = {}
    names = dict(Segment.objects.values_list("pk", "name"))
    tiers = dict(Tier.choices)

    def add(key: str, label: str, kind: str, record: Mapping[str, Any]) -> None:
        row = rows.setdefault(key, Row(key, label))
        row.cells[kind] = Cell(record[reached], record[responded])

    for record in overall:
        add("all", _("All accounts"), record["content_type"], record)
    for record in by_tier:
        tier = record["account__tier"]
        add(f"tier:{tier}", str(tiers.get(tier, tier)), record["content_type"], record)
    for record in by_segment:
        segment = record["account__segment_memberships__segment"]
        add(f"segment:{segment}", names.get(segment, str(segment)), record["content_type"], record)
    order = {"all": 0}
    return sorted(
        rows.values(),
        key=lambda row: (order.get(row.key, 1 if row.key.startswith("tier:") else 2), row.label),
    )


def preferences(days: int = 90) -> Preferences:
    """Email click-through and in-app response by content type, for all accounts, per tier
    and per segment the account is in now, over the last `days` days."""
    since = _start(days)
    emails = EmailMessage.objects.filter(
        status=MessageStatus.SENT, sent_at__gte=since, transactional=False
    ).exclude(source="test")
    email_figures = {
        "delivered": Count("pk"),
        "clicked": Count("pk", filter=Q(clicked_at__isnull=False)),
    }
    # Current memberships only; accounts in no segment appear under "all" and their tier.
    in_segments = {
        "account__segment_memberships__exited_at__isnull": True,
        "account__segment_memberships__segment__isnull": False,
    }
    email = _rows(
        list(emails.values("content_type").annotate(**email_figures).order_by()),
        list(emails.values("account__tier", "content_type").annotate(**email_figures).order_by()),
        list(
            emails.filter(**in_segments)
            .values("account__segment_memberships__segment", "content_type")
            .annotate(**email_figures)
            .order_by()
        ),
        "delivered",
        "clicked",
    )
    shown = InAppState.objects.filter(first_shown_at__gte=since, account__isnull=False)
    inapp_figures = {
        "shown": Count("pk"),
        "responded": Count(
            "pk", filter=Q(clicked_at__isnull=False) | Q(completed_at__isnull=False)
        ),
    }
    kind = F("message__content_type")
    inapp = _rows(
        list(shown.values(content_type=kind).annotate(**inapp_figures).order_by()),
        list(shown.values("account__tier", content_type=kind).annotate(**inapp_figures).order_by()),
        list(
            shown.filter(**in_segments)
            .values("account__segment_memberships__segment", content_type=kind)
            .annotate(**inapp_figures)
            .order_by()
        ),
        "shown",
        "responded",
    )
    return Preferences(days=days, email=_table(email), inapp=_table(inapp))


def _table(rows: list[Row]) -> Table:
    seen = {kind for row in rows for kind in row.cells}
    return Table(
        rows, [(value, str(label)) for value, label in ContentType.choices if value in seen]
    )
