"""One timeline per account: everything that happened to it, newest first.

Each kind of thing that can happen is a *source* registered under a key. A source returns its
newest entries before a moment; `timeline()` merges the sources in time order. Later apps
(usage events, emails, surveys) register their own sources here.
"""

from __future__ import annotations

import datetime
import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kizuna.customers.choices import OpportunityStage, SubscriptionStatus
from kizuna.customers.models import Account, Opportunity, Subscription, Touchpoint


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    source: str
    label: str | Promise
    title: str
    detail: str = ""
    rating: str = ""
    rating_label: str | Promise = ""
    author: str = ""
    people: tuple[str, ...] = field(default_factory=tuple)
    url: str = ""


SourceFn = Callable[[Account, datetime.datetime, int], Iterable[TimelineEntry]]


@dataclass(frozen=True)
class Source:
    key: str
    label: str | Promise
    fetch: SourceFn


SOURCES: dict[str, Source] = {}


def register(key: str, label: str | Promise) -> Callable[[SourceFn], SourceFn]:
    def decorator(fetch: SourceFn) -> SourceFn:
        SOURCES[key] = Source(key=key, label=label, fetch=fetch)
        return fetch

    return decorator


def timeline(
    account: Account,
    *,
    sources: Iterable[str] | None = None,
    before: datetime.datetime | None = None,
    limit: int = 30,
) -> list[TimelineEntry]:
    """The newest `limit` entries before `before` (now when None) from the chosen sources."""
    before = before or timezone.now() + datetime.timedelta(days=1)
    keys = [key for key in (sources or SOURCES.keys()) if key in SOURCES]
    streams = [SOURCES[key].fetch(account, before, limit) for key in keys]
    merged = heapq.merge(*streams, key=lambda entry: entry.at, reverse=True)
    return list(islice(merged, limit))


def _start_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0)))


@register("touchpoint", _("Touchpoints"))
def _touchpoints(account: Account, before: datetime.datetime, limit: int) -> list[TimelineEntry]:
    rows = (
        Touchpoint.objects.filter(account=account, occurred_at__lt=before)
        .select_related("author")
        .prefetch_related("contacts")
        .order_by("-occurred_at", "-id")[:limit]
    )
    return [
        TimelineEntry(
            at=row.occurred_at,
            source="touchpoint",
            label=row.get_kind_display(),
            title=row.subject,
            detail=row.body,
            rating=row.rating,
            rating_label=row.get_rating_display() if row.rating else "",
            author=str(row.author) if row.author else "",
            people=tuple(contact.name for contact in row.contacts.all()),
        )
        for row in rows
    ]


@register("contract", _("Contracts"))
def _contracts(account: Account, before: datetime.datetime, limit: int) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for sub in Subscription.objects.filter(account=account).order_by("-start_date")[: limit * 2]:
        started = _start_of_day(sub.start_date)
        if started < before:
            entries.append(
                TimelineEntry(
                    at=started,
                    source="contract",
                    label=_("Contract started"),
                    title=str(sub),
                    detail=gettext("%(seats)s seats · ARR %(arr)s %(currency)s")
                    % {"seats": sub.seats, "arr": f"{sub.arr:,.0f}", "currency": sub.currency},
                )
            )
        ended = sub.status in (SubscriptionStatus.CHURNED, SubscriptionStatus.CANCELLED)
        if ended and sub.end_date and _start_of_day(sub.end_date) < before:
            entries.append(
                TimelineEntry(
                    at=_start_of_day(sub.end_date),
                    source="contract",
                    label=sub.get_status_display(),
                    title=str(sub),
                )
            )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


@register("opportunity", _("Opportunities"))
def _opportunities(account: Account, before: datetime.datetime, limit: int) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for opp in Opportunity.objects.filter(account=account).order_by("-created_at")[: limit * 2]:
        if opp.created_at < before:
            entries.append(
                TimelineEntry(
                    at=opp.created_at,
                    source="opportunity",
                    label=_("Opportunity opened"),
                    title=opp.name,
                    detail=f"{opp.get_kind_display()} · {opp.amount:,.0f} {opp.currency}",
                )
            )
        closed = opp.stage in (OpportunityStage.WON, OpportunityStage.LOST)
        if closed and _start_of_day(opp.close_date) < before:
            entries.append(
                TimelineEntry(
                    at=_start_of_day(opp.close_date),
                    source="opportunity",
                    label=opp.get_stage_display(),
                    title=opp.name,
                )
            )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]
