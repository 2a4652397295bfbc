"""Stage changes on the account timeline: who or which rule moved the account, and why."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext_lazy as _

from kizuna.customers import timeline
from kizuna.customers.models import Account
from kizuna.lifecycle.models import StageChange


@timeline.register("lifecycle", _("Lifecycle stage"))
def stage_changes(
    account: Account, before: datetime.datetime, limit: int
) -> list[timeline.TimelineEntry]:
    rows = (
        StageChange.objects.filter(account=account, changed_at__lt=before)
        .select_related("actor")
        .order_by("-changed_at", "-id")[:limit]
    )
    return [
        timeline.TimelineEntry(
            at=row.changed_at,
            source="lifecycle",
            label=_("Stage changed"),
            title=str(row),
            detail=row.explanation,
            author=row.moved_by,
        )
        for row in rows
    ]
