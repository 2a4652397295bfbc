"""A segment that cannot be computed records why, and never stops the others."""

from __future__ import annotations

import pytest

from kizuna.core import recompute
from kizuna.customers.tests.factories import AccountFactory
from kizuna.segments import services
from kizuna.segments.models import Segment, SegmentMembership
from kizuna.segments.tests.factories import SegmentFactory, employees_at_least, member_of

pytestmark = pytest.mark.django_db

BROKEN = {"metric": "account.custom_field", "params": {"field": "gone"}, "op": "is_true"}


def test_the_error_is_recorded_on_the_segment_and_the_others_still_compute() -> None:
    account = AccountFactory.create(employees=500)
    broken = SegmentFactory.create(name="壊れた", conditions=BROKEN, is_calculating=True)
    working = SegmentFactory.create(name="動く", conditions=employees_at_least(100))

    report = recompute.recompute()

    assert report.errors == {}
    broken.refresh_from_db()
    assert "params" in broken.last_error
    assert "gone" in broken.last_error
    assert broken.is_calculating is False
    assert list(
        SegmentMembership.objects.filter(segment=working).values_list("account_id", flat=True)
    ) == [account.pk]


def test_a_database_error_is_rolled_back_and_recorded(monkeypatch) -> None:
    AccountFactory.create(employees=500)
    segment = SegmentFactory.create(conditions=employees_at_least(100))

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_finish", fail)

    result = services.recompute(segment)

    assert result.error == "RuntimeError: disk full"
    assert not SegmentMembership.objects.exists()
    assert Segment.objects.get().last_error == "RuntimeError: disk full"


def test_a_later_success_clears_the_error() -> None:
    segment = SegmentFactory.create(conditions=BROKEN)
    services.recompute(segment)

    Segment.objects.filter(pk=segment.pk).update(conditions=employees_at_least(1))
    segment.refresh_from_db()
    services.recompute(segment)

    segment.refresh_from_db()
    assert segment.last_error == ""


def test_segments_caught_in_a_circle_are_skipped_with_an_error() -> None:
    first = SegmentFactory.create(name="A")
    second = SegmentFactory.create(name="B", conditions=member_of(first))
    Segment.objects.filter(pk=first.pk).update(conditions=member_of(second))
    alone = SegmentFactory.create(name="C", conditions=employees_at_least(1))
    AccountFactory.create(employees=10)

    results = services.recompute_all()

    assert [result.segment_id for result in results] == [alone.pk]
    assert "circle" in Segment.objects.get(pk=first.pk).last_error
