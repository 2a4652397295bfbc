"""Reached milestones on the account timeline."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.customers import timeline
from kizuna.customers.models import Account
from kizuna.milestones.models import AccountMilestone


def _morning(day: datetime.date) -> datetime.datetime:
    # A day without a time: shown at the start of the working day, like contract dates.
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0)))


@timeline.register("milestones", _("Milestones"))
def reached_milestones(
    account: Account, before: datetime.datetime, limit: int
) -> list[timeline.TimelineEntry]:
    rows = (
        AccountMilestone.objects.filter(
            account=account,
            reached_on__isnull=False,
            reached_on__lte=timezone.localdate(before),
        )
        .select_related("milestone")
        .order_by("-reached_on", "-id")[:limit]
    )
    entries = []
    for row in rows:
        assert row.reached_on is not None
        at = _morning(row.reached_on)
        if at >= before:
            continue
        entries.append(
            timeline.TimelineEntry(
                at=at,
                source="milestones",
                label=_("Milestone reached"),
                title=row.milestone.name,
                detail="; ".join(seen.text() for seen in row.seen),
            )
        )
    return entries
