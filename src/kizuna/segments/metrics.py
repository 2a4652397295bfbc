"""Segment membership as a metric, so that segments (and later flows and campaigns) can use
"is a member of segment X" in their conditions (see kizuna.core.conditions.metrics)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import pydantic
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kizuna.core.conditions.metrics import Context, Metric, Params, ValueType, register
from kizuna.segments.models import Segment, SegmentMembership


class SegmentParams(Params):
    segment: int = pydantic.Field(ge=1, le=2**63 - 1)


def _end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    )


@register
class SegmentMember(Metric):
    """Whether the account is in the segment. On a past day (a backtest), whether it was
    at the end of that day, from the membership history."""

    key = "segment.member"
    label = _("Member of a segment")
    category = _("Segments")
    Params = SegmentParams
    historical = True
    depends_on = frozenset({"segment"})

    def value_type(self, params: Any) -> ValueType:
        return ValueType.BOOLEAN

    def expression(self, params: SegmentParams, ctx: Context) -> Any:
        rows = SegmentMembership.objects.filter(segment_id=params.segment, account=OuterRef("pk"))
        if ctx.is_today:
            return Exists(rows.filter(exited_at__isnull=True))
        end = _end_of(ctx.today)
        stayed = Q(exited_at__isnull=True) | Q(exited_at__gte=end)
        return Exists(rows.filter(entered_at__lt=end).filter(stayed))

    def check(self, params: SegmentParams) -> None:
        if not Segment.objects.filter(pk=params.segment).exists():
            raise ValueError(gettext("There is no segment with id %d.") % params.segment)

    def param_choices(self, name: str) -> Sequence[tuple[str, str]] | None:
        if name != "segment":
            return None
        return [(str(pk), label) for pk, label in Segment.objects.values_list("pk", "name")]

    def references(self, params: SegmentParams) -> set[tuple[str, int]]:
        return {("segment", params.segment)}

    def describe(self, params: SegmentParams) -> str:
        name = Segment.objects.filter(pk=params.segment).values_list("name", flat=True).first()
        return gettext("Member of «%s»") % (name or f"#{params.segment}")
