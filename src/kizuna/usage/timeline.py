"""Product usage on the account timeline: one entry per day, e.g. "48 events by 4 users —
12 page views, 3 × Report Exported", never one row per page view."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from kizuna.core.templatetags.kizuna import join_names
from kizuna.customers import timeline
from kizuna.customers.models import Account
from kizuna.usage import queries
from kizuna.usage.choices import EventType

PARTS_SHOWN = 4


def _end_of(day: datetime.date, now: datetime.datetime) -> datetime.datetime:
    # A day's summary sits at the end of that day (or now, for today), after what the CSM
    # logged that day.
    end = timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59)))
    return min(end, now)


def describe(type_: str, event: str, count: int) -> str:
    if type_ == EventType.PAGE:
        if event:
            return ngettext("%(count)d view of %(page)s", "%(count)d views of %(page)s", count) % {
                "count": count,
                "page": event,
            }
        return ngettext("%(count)d page view", "%(count)d page views", count) % {"count": count}
    if type_ == EventType.SCREEN:
        if event:
            return ngettext("%(count)d view of %(page)s", "%(count)d views of %(page)s", count) % {
                "count": count,
                "page": event,
            }
        return ngettext("%(count)d screen view", "%(count)d screen views", count) % {"count": count}
    return f"{count:,} × {event}"


@timeline.register("usage", _("Product usage"))
def usage_days(
    account: Account, before: datetime.datetime, limit: int
) -> list[timeline.TimelineEntry]:
    now = timezone.now()
    summaries = queries.day_summaries(account.pk, timezone.localtime(before).date(), limit)
    entries = []
    for summary in summaries:
        at = _end_of(summary.day, now)
        if at >= before:
            continue
        parts = [describe(*part) for part in summary.parts[:PARTS_SHOWN]]
        hidden = len(summary.parts) - PARTS_SHOWN
        if hidden > 0:
            parts.append(
                ngettext("%(count)d more kind", "%(count)d more kinds", hidden) % {"count": hidden}
            )
        if summary.users:
            title = ngettext(
                "%(events)s events by %(users)d user",
                "%(events)s events by %(users)d users",
                summary.users,
            ) % {"events": f"{summary.events:,}", "users": summary.users}
        else:
            title = gettext("%(events)s events") % {"events": f"{summary.events:,}"}
        entries.append(
            timeline.TimelineEntry(
                at=at,
                source="usage",
                label=_("Product usage"),
                title=title,
                detail=join_names(parts),
            )
        )
    return entries
