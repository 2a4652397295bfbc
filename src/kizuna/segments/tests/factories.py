from __future__ import annotations

from typing import Any

import factory
from factory.django import DjangoModelFactory

from kizuna.segments.choices import SegmentKind
from kizuna.segments.models import Segment


class SegmentFactory(DjangoModelFactory[Segment]):
    """A segment written directly (no validation, no recompute): tests that are about the
    services go through services.create_segment."""

    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"セグメント{n}")
    kind = SegmentKind.DYNAMIC
    conditions = factory.LazyFunction(lambda: {"and": []})


def employees_at_least(count: int) -> dict[str, Any]:
    """A tree: accounts with at least `count` employees."""
    return {
        "metric": "account.attribute",
        "params": {"field": "employees"},
        "op": "gte",
        "value": count,
    }


def member_of(segment: Segment, *, member: bool = True) -> dict[str, Any]:
    return {
        "metric": "segment.member",
        "params": {"segment": segment.pk},
        "op": "is_true" if member else "is_false",
    }
