"""Health band changes on the account timeline, read from the daily snapshots: each day
whose band differs from the day before (one query per page of the timeline)."""

from __future__ import annotations

import datetime

from django.db.models import F, Q, Window
from django.db.models.functions import Lag
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kizuna.customers import timeline
from kizuna.customers.models import Account
from kizuna.health.choices import Band
from kizuna.health.models import HealthSnapshot


def _moment(day: datetime.date) -> datetime.datetime:
    # The band is the one at the end of that day; today's change happened by now.
    end = timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59)))
    return min(end, timezone.now())


@timeline.register("health", _("Health"))
def band_changes(
    account: Account, before: datetime.datetime, limit: int
) -> list[timeline.TimelineEntry]:
    rows = (
        HealthSnapshot.objects.filter(account=account, day__lte=timezone.localdate(before))
        .annotate(previous=Window(Lag("band"), order_by=F("day").asc()))
        .filter(previous__isnull=False)
        .filter(~Q(previous=F("band")))
        .order_by("-day")[:limit]
    )
    labels = dict(Band.choices)
    entries = []
    for row in rows:
        at = _moment(row.day)
        if at >= before:
            continue
        entries.append(
            timeline.TimelineEntry(
                at=at,
                source="health",
                label=_("Health band changed"),
                title=gettext("Health: %(old)s → %(new)s")
                % {
                    "old": labels.get(row.previous, row.previous),
                    "new": labels.get(row.band, row.band),
                },
                detail=gettext("Score %s") % (f"{row.score:g}" if row.score is not None else "—"),
            )
        )
    return entries
