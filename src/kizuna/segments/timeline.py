"""Segment entries and exits on the account timeline."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext_lazy as _

from kizuna.customers import timeline
from kizuna.customers.models import Account
from kizuna.segments import queries
from kizuna.segments.choices import MembershipSource
from kizuna.segments.models import SegmentMembership


@timeline.register("segments", _("Segments"))
def segment_changes(
    account: Account, before: datetime.datetime, limit: int
) -> list[timeline.TimelineEntry]:
    rows = SegmentMembership.objects.filter(account=account)
    entries = []
    for change in queries.recent_changes(rows, before, limit):
        stay = change.membership
        by_hand = stay.source != MembershipSource.RULE
        entries.append(
            timeline.TimelineEntry(
                at=change.at,
                source="segments",
                label=_("Entered segment") if change.entered else _("Left segment"),
                title=stay.segment.name,
                detail=str(stay.get_source_display()) if by_hand and change.entered else "",
                author=str(stay.added_by) if by_hand and stay.added_by and change.entered else "",
                url=stay.segment.get_absolute_url(),
            )
        )
    return entries
