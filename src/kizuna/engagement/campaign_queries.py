"""The read side of campaigns: progress while sending, results, results by variant and by
segment, and the figures of the campaign list. Each is one aggregate query (GROUP BY), whatever
the size of the audience.

Definitions used everywhere: *delivered* = sent and not bounced; *open rate* = unique opens /
delivered; *click rate* = unique clicks / delivered; *click-to-open* = unique clicks /
unique opens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from kizuna.engagement.choices import HoldReason, MessageStatus
from kizuna.engagement.models import Campaign, CampaignRecipient, EmailMessage

DELIVERED = Q(status=MessageStatus.SENT, bounced_at__isnull=True)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Progress:
    """Where a campaign's emails are: `waiting` recipients have no email yet (still being
    queued, or the rest of an A/B test waiting for the winner)."""

    total: int
    waiting: int
    queued: int
    sending: int
    sent: int
    failed: int
    bounced: int
    held: int
    skipped: int

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.bounced + self.held + self.skipped

    @property
    def percent_done(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


def progress(campaign: Campaign) -> Progress:
    """Counts of the campaign's recipients by the status of their email (one query)."""
    rows = (
        CampaignRecipient.objects.filter(campaign=campaign)
        .values("message__status")
        .annotate(count=Count("id"))
        .order_by()
    )
    by_status: dict[str | None, int] = {row["message__status"]: row["count"] for row in rows}
    return Progress(
        total=sum(by_status.values()),
        waiting=by_status.get(None, 0),
        queued=by_status.get(MessageStatus.QUEUED, 0),
        sending=by_status.get(MessageStatus.SENDING, 0),
        sent=by_status.get(MessageStatus.SENT, 0),
        failed=by_status.get(MessageStatus.FAILED, 0),
        bounced=by_status.get(MessageStatus.BOUNCED, 0),
        held=by_status.get(MessageStatus.HELD, 0),
        skipped=by_status.get(MessageStatus.SKIPPED, 0),
    )


@dataclass(frozen=True)
class Results:
    audience: int
    delivered: int
    opens: int
    clicks: int
    unsubscribes: int
    bounces: int
    held: int
    held_by_cap: int
    skipped: int
    failed: int

    @property
    def open_rate(self) -> float | None:
        return _ratio(self.opens, self.delivered)

    @property
    def click_rate(self) -> float | None:
        return _ratio(self.clicks, self.delivered)

    @property
    def click_to_open(self) -> float | None:
        return _ratio(self.clicks, self.opens)


_FIGURES: dict[str, Any] = {
    "audience": Count("id"),
    "delivered": Count("id", filter=DELIVERED),
    "opens": Count("id", filter=DELIVERED & Q(opened_at__isnull=False)),
    # A click counts as an open too; clicks are counted among delivered emails.
    "clicks": Count("id", filter=DELIVERED & Q(clicked_at__isnull=False)),
    "unsubscribes": Count("id", filter=Q(unsubscribed_at__isnull=False)),
    "bounces": Count("id", filter=Q(status=MessageStatus.BOUNCED)),
    "held": Count("id", filter=Q(status=MessageStatus.HELD)),
    "held_by_cap": Count(
        "id", filter=Q(status=MessageStatus.HELD, reason=HoldReason.FREQUENCY_CAP)
    ),
    "skipped": Count("id", filter=Q(status=MessageStatus.SKIPPED)),
    "failed": Count("id", filter=Q(status=MessageStatus.FAILED)),
}


def _results(row: Mapping[str, Any]) -> Results:
    return Results(**{name: row.get(name) or 0 for name in _FIGURES})


def _messages(campaign: Campaign | int) -> Any:
    return EmailMessage.objects.filter(campaign=campaign, source="campaign")


def results(campaign: Campaign) -> Results:
    """The campaign's figures over all its emails (audience: the emails decided)."""
    return _results(_messages(campaign).aggregate(**_FIGURES))


def results_by_variant(campaign: Campaign, *, phase: str | None = None) -> dict[int, Results]:
    """Figures per variant (the winner's rest-phase emails count for the winner unless
    `phase` limits them, e.g. to the test group: "test")."""
    rows = _messages(campaign).filter(variant__isnull=False)
    if phase is not None:
        rows = rows.filter(source_key__startswith=f"campaign:{campaign.pk}:{phase}:")
    grouped = rows.values("variant_id").annotate(**_FIGURES).order_by()
    return {row["variant_id"]: _results(row) for row in grouped}


@dataclass(frozen=True)
class SegmentResults:
    segment_id: int
    segment_name: str
    figures: Results


def results_by_segment(campaign: Campaign) -> list[SegmentResults]:
    """The campaign's figures broken down by each segment its recipients' accounts are in
    now (an account in two segments counts in both). One GROUP BY query."""
    prefix = "account__segment_memberships__"
    rows = (
        _messages(campaign)
        .filter(**{f"{prefix}exited_at__isnull": True})
        .values(f"{prefix}segment_id", f"{prefix}segment__name")
        .annotate(**_FIGURES)
        .order_by(f"{prefix}segment__name", f"{prefix}segment_id")
    )
    return [
        SegmentResults(
            segment_id=row[f"{prefix}segment_id"],
            segment_name=row[f"{prefix}segment__name"],
            figures=_results(row),
        )
        for row in rows
    ]


def results_for_list(campaign_ids: Iterable[int]) -> dict[int, Results]:
    """Figures of many campaigns at once, for the list (one query)."""
    rows = (
        EmailMessage.objects.filter(campaign_id__in=list(campaign_ids), source="campaign")
        .values("campaign_id")
        .annotate(**_FIGURES)
        .order_by()
    )
    return {row["campaign_id"]: _results(row) for row in rows}
