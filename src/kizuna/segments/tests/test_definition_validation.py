"""An invalid definition is refused with where it is wrong, and nothing is saved: an
invalid tree, a circle of segments referring to each other, a taken name."""

from __future__ import annotations

import pytest

from kizuna.core.models import AuditEntry
from kizuna.segments import services
from kizuna.segments.models import Segment
from kizuna.segments.tests.factories import employees_at_least, member_of

pytestmark = pytest.mark.django_db


def test_an_invalid_tree_is_refused_with_its_path() -> None:
    tree = {"and": [employees_at_least(10), {**employees_at_least(10), "op": "in"}]}

    with pytest.raises(services.InvalidSegment) as refused:
        services.create_segment(None, name="大口", conditions=tree)

    assert refused.value.location == "conditions.and[1].op"
    assert "in" in refused.value.message
    assert not Segment.objects.exists()
    assert not AuditEntry.objects.exists()


def test_an_unknown_metric_is_refused() -> None:
    tree = {"or": [{"metric": "usage.nothing", "op": "is_true"}]}

    with pytest.raises(services.InvalidSegment) as refused:
        services.create_segment(None, name="大口", conditions=tree)

    assert refused.value.location == "conditions.or[0].metric"


def test_a_dynamic_segment_needs_conditions() -> None:
    with pytest.raises(services.InvalidSegment) as refused:
        services.create_segment(None, name="大口", conditions=None)

    assert refused.value.field == "conditions"


def test_a_static_segment_takes_no_conditions() -> None:
    with pytest.raises(services.InvalidSegment):
        services.create_segment(None, name="手動", kind="static", conditions=employees_at_least(10))


def test_an_invalid_update_leaves_the_segment_as_it_was() -> None:
    segment = services.create_segment(None, name="大口", conditions=employees_at_least(100))

    with pytest.raises(services.InvalidSegment) as refused:
        services.update_segment(
            None, segment, name="新しい名前", conditions={"not": {"metric": "x", "op": "eq"}}
        )

    assert refused.value.location == "conditions.not.metric"
    segment.refresh_from_db()
    assert segment.name == "大口"
    assert segment.conditions == employees_at_least(100)
    assert segment.version == 1


def test_a_segment_referring_to_itself_is_refused() -> None:
    segment = services.create_segment(None, name="大口", conditions=employees_at_least(100))

    with pytest.raises(services.InvalidSegment) as refused:
        services.update_segment(None, segment, conditions=member_of(segment))

    assert "«大口» → «大口»" in refused.value.message


def test_a_circle_through_other_segments_is_refused_and_named() -> None:
    first = services.create_segment(None, name="A", conditions=employees_at_least(100))
    second = services.create_segment(None, name="B", conditions=member_of(first))
    third = services.create_segment(None, name="C", conditions=member_of(second))

    with pytest.raises(services.InvalidSegment) as refused:
        services.update_segment(
            None, first, conditions={"and": [employees_at_least(1), member_of(third)]}
        )

    assert "«A» → «C» → «B» → «A»" in refused.value.message
    first.refresh_from_db()
    assert first.conditions == employees_at_least(100)


def test_referring_to_a_missing_segment_is_refused() -> None:
    tree = {"metric": "segment.member", "params": {"segment": 999}, "op": "is_true"}

    with pytest.raises(services.InvalidSegment) as refused:
        services.create_segment(None, name="A", conditions=tree)

    assert refused.value.location == "conditions.params"


def test_a_taken_name_is_refused() -> None:
    services.create_segment(None, name="大口", conditions=employees_at_least(100))

    with pytest.raises(services.InvalidSegment) as refused:
        services.create_segment(None, name=" 大口 ", kind="static")

    assert refused.value.code == "unique"
    assert Segment.objects.count() == 1


def test_new_conditions_raise_the_version_and_are_audited() -> None:
    segment = services.create_segment(None, name="大口", conditions=employees_at_least(100))

    services.update_segment(None, segment, conditions=employees_at_least(200))

    assert segment.version == 2
    assert AuditEntry.objects.filter(object_type="segments.segment", action="update").exists()


def test_a_segment_others_refer_to_cannot_be_deleted() -> None:
    base = services.create_segment(None, name="A", conditions=employees_at_least(100))
    services.create_segment(None, name="B", conditions=member_of(base))

    with pytest.raises(services.InvalidSegment) as refused:
        services.delete_segment(None, base)

    assert "«B»" in refused.value.message
    assert Segment.objects.filter(pk=base.pk).exists()
