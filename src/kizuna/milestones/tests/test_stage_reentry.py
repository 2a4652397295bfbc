"""Leaving and re-entering a stage: a milestone once reached stays reached; one not reached
follows the new stay (due from the new day, no longer overdue, overdue again later)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kizuna.core.conditions import Context
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory
from kizuna.milestones import services
from kizuna.milestones.models import AccountMilestone
from kizuna.milestones.tests.factories import days_ago, milestone

pytestmark = pytest.mark.django_db


def _leave_and_return(account: Account, days: int) -> None:
    Account.objects.filter(pk=account.pk).update(stage="adoption")
    services.recompute_milestones(None, Context.now())
    Account.objects.filter(pk=account.pk).update(
        stage="onboarding", stage_entered_on=days_ago(days)
    )


def test_a_reached_milestone_stays_reached_after_re_entering() -> None:
    milestone()
    account = AccountFactory.create(
        stage="onboarding", employees=500, stage_entered_on=days_ago(40)
    )
    services.recompute_milestones(None, Context.now())

    _leave_and_return(account, 0)
    services.recompute_milestones(None, Context.now())

    row = AccountMilestone.objects.get()
    assert row.reached_on == timezone.localdate()
    assert row.stage_entered_on == days_ago(40)


def test_an_open_milestone_is_due_from_the_new_stay(published) -> None:
    milestone(target_days=7)
    account = AccountFactory.create(stage="onboarding", employees=5, stage_entered_on=days_ago(30))
    services.recompute_milestones(None, Context.now())
    assert AccountMilestone.objects.get().overdue_since is not None

    _leave_and_return(account, 2)
    services.recompute_milestones(None, Context.now())

    row = AccountMilestone.objects.get()
    assert (row.stage_entered_on, row.due_on, row.overdue_since) == (
        days_ago(2),
        days_ago(-5),
        None,
    )
    assert [event.type for event in published] == [services.OVERDUE]


def test_it_becomes_overdue_again_in_the_new_stay(published) -> None:
    milestone(target_days=7)
    account = AccountFactory.create(stage="onboarding", employees=5, stage_entered_on=days_ago(30))
    services.recompute_milestones(None, Context.now())

    _leave_and_return(account, 9)
    services.recompute_milestones(None, Context.now())

    assert AccountMilestone.objects.get().overdue_since == timezone.localdate()
    assert [event.type for event in published] == [services.OVERDUE, services.OVERDUE]
