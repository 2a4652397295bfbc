"""A segment can use membership of another; it is computed after the one it refers to, and
a change to a definition recomputes the segments that depend on it."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.core import recompute
from kizuna.core.conditions import Context, catalogue, evaluate, metrics, parse
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory
from kizuna.segments import services
from kizuna.segments.models import SegmentMembership
from kizuna.segments.tests.factories import SegmentFactory, employees_at_least, member_of

pytestmark = pytest.mark.django_db


def _members(segment) -> set[int]:
    return set(
        SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).values_list(
            "account_id", flat=True
        )
    )


def test_a_segment_sees_the_members_of_the_one_it_refers_to_in_the_same_run() -> None:
    big = AccountFactory.create(employees=500)
    AccountFactory.create(employees=5)
    # Created in the "wrong" order: the dependent segment has the smaller id and name.
    dependent = SegmentFactory.create(name="A 依存")
    base = SegmentFactory.create(name="B 基本", conditions=employees_at_least(100))
    dependent.conditions = member_of(base)
    dependent.save()

    recompute.recompute()

    assert _members(base) == {big.pk}
    assert _members(dependent) == {big.pk}


def test_dependency_order_puts_referred_segments_first() -> None:
    base = SegmentFactory.create(name="Z", conditions=employees_at_least(1))
    middle = SegmentFactory.create(name="Y", conditions=member_of(base))
    top = SegmentFactory.create(name="X", conditions=member_of(middle, member=False))

    ordered = services.dependency_order([top, middle, base])

    assert ordered == [base, middle, top]


def test_saving_a_definition_recomputes_it_and_its_dependents(
    django_capture_on_commit_callbacks,
) -> None:
    account = AccountFactory.create(employees=50)
    with django_capture_on_commit_callbacks(execute=True):
        base = services.create_segment(None, name="基本", conditions=employees_at_least(100))
        dependent = services.create_segment(None, name="依存", conditions=member_of(base))
    assert _members(base) == _members(dependent) == set()

    with django_capture_on_commit_callbacks(execute=True):
        services.update_segment(None, base, conditions=employees_at_least(10))

    assert _members(base) == {account.pk}
    assert _members(dependent) == {account.pk}
    base.refresh_from_db()
    assert base.is_calculating is False


def test_membership_on_a_past_day_comes_from_the_history() -> None:
    account = AccountFactory.create(employees=500)
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    services.recompute(segment)
    stay = SegmentMembership.objects.get()
    stay.entered_at = timezone.now() - datetime.timedelta(days=10)
    stay.exited_at = timezone.now() - datetime.timedelta(days=5)
    stay.save()
    condition = parse(member_of(segment))
    today = timezone.localdate()

    was_member = evaluate(condition, account.pk, Context(today - datetime.timedelta(days=7)))
    is_member = evaluate(condition, account.pk, Context(today))

    assert was_member.matched is True
    assert is_member.matched is False


def test_the_membership_condition_reads_in_words() -> None:
    segment = SegmentFactory.create(name="大口顧客")

    [leaf] = parse(member_of(segment)).leaves()

    assert leaf.describe() == "Member of «大口顧客»"


def test_the_recompute_step_updates_segments_for_changed_accounts_only() -> None:
    changed, unchanged = AccountFactory.create_batch(2, employees=5)
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    Account.objects.update(employees=500)

    recompute.recompute([changed.pk])

    assert _members(segment) == {changed.pk}
    assert unchanged.pk not in _members(segment)


def test_the_builder_offers_the_segments_by_name() -> None:
    segment = SegmentFactory.create(name="大口顧客")
    metric = metrics.get("segment.member")
    assert metric is not None

    [param] = catalogue.param_inputs(metric)

    assert param.input == "select"
    assert param.type == "integer"
    assert param.options == [(str(segment.pk), "大口顧客")]
