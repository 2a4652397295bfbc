"""A dynamic segment's members are the accounts matching its conditions, computed
set-based; each stay is a row with when it began and ended."""

from __future__ import annotations

import pytest

from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory
from kizuna.segments import services
from kizuna.segments.models import SegmentMembership
from kizuna.segments.tests.factories import SegmentFactory, employees_at_least

pytestmark = pytest.mark.django_db


def _members(segment) -> set[int]:
    return set(
        SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).values_list(
            "account_id", flat=True
        )
    )


def test_members_are_the_accounts_that_match() -> None:
    big = AccountFactory.create(employees=500)
    AccountFactory.create(employees=20)
    AccountFactory.create(employees=None)
    segment = SegmentFactory.create(conditions=employees_at_least(100))

    result = services.recompute(segment)

    assert _members(segment) == {big.pk}
    assert (result.entered, result.exited, result.members) == (1, 0, 1)
    segment.refresh_from_db()
    assert segment.member_count == 1
    assert segment.last_calculated_at is not None
    assert segment.last_error == ""


def test_an_account_that_stops_matching_leaves_and_its_stay_is_kept() -> None:
    account = AccountFactory.create(employees=500)
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    services.recompute(segment)

    Account.objects.filter(pk=account.pk).update(employees=10)
    result = services.recompute(segment)

    assert result.exited == 1
    [stay] = SegmentMembership.objects.filter(segment=segment)
    assert stay.exited_at is not None
    assert stay.entered_at < stay.exited_at


def test_coming_back_opens_a_new_stay() -> None:
    account = AccountFactory.create(employees=500)
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    services.recompute(segment)
    Account.objects.filter(pk=account.pk).update(employees=10)
    services.recompute(segment)

    Account.objects.filter(pk=account.pk).update(employees=300)
    services.recompute(segment)

    stays = SegmentMembership.objects.filter(segment=segment).order_by("entered_at")
    assert [stay.exited_at is None for stay in stays] == [False, True]


def test_a_second_run_changes_nothing() -> None:
    AccountFactory.create_batch(3, employees=500)
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    services.recompute(segment)
    before = list(SegmentMembership.objects.values_list("id", "entered_at", "exited_at"))

    result = services.recompute(segment)

    assert (result.entered, result.exited) == (0, 0)
    assert list(SegmentMembership.objects.values_list("id", "entered_at", "exited_at")) == before


def test_recomputing_some_accounts_only_touches_them() -> None:
    first, second, third = AccountFactory.create_batch(3, employees=500)
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    services.recompute(segment)
    Account.objects.update(employees=10)

    result = services.recompute(segment, account_ids=[first.pk])

    assert result.exited == 1
    assert _members(segment) == {second.pk, third.pk}


def test_recomputing_some_accounts_lets_new_ones_in_and_keeps_the_others() -> None:
    outside = AccountFactory.create(employees=10)
    untouched = AccountFactory.create(employees=10)
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    services.recompute(segment)
    Account.objects.update(employees=500)

    services.recompute(segment, account_ids=[outside.pk])

    assert _members(segment) == {outside.pk}
    assert untouched.pk not in _members(segment)


def test_a_static_segment_is_only_recounted() -> None:
    account = AccountFactory.create()
    segment = SegmentFactory.create(kind="static", conditions={})
    services.add_members(None, segment, [account.pk])

    result = services.recompute(segment)

    assert (result.entered, result.exited, result.members) == (0, 0, 1)
