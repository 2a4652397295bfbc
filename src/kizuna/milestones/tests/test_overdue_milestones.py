"""A milestone not reached by its due day is marked overdue once, with milestone.overdue
published once; an account that left the stage is not marked."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.core.conditions import Context
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory
from kizuna.milestones import services
from kizuna.milestones.models import AccountMilestone
from kizuna.milestones.tests.factories import days_ago, milestone

pytestmark = pytest.mark.django_db


def test_past_its_due_day_a_milestone_is_overdue(published) -> None:
    goal = milestone(target_days=7)
    account = AccountFactory.create(stage="onboarding", employees=5, stage_entered_on=days_ago(10))

    services.recompute_milestones(None, Context.now())
    services.recompute_milestones(None, Context.now())

    row = AccountMilestone.objects.get()
    assert row.overdue_since == timezone.localdate()
    overdue = [event for event in published if event.type == services.OVERDUE]
    assert len(overdue) == 1
    assert (overdue[0].instance.account_id, overdue[0].instance.milestone_id) == (
        account.pk,
        goal.pk,
    )


def test_on_its_due_day_it_is_not_overdue_yet() -> None:
    milestone(target_days=7)
    AccountFactory.create(stage="onboarding", employees=5, stage_entered_on=days_ago(7))

    services.recompute_milestones(None, Context.now())

    assert AccountMilestone.objects.get().overdue_since is None


def test_reached_late_keeps_the_day_it_became_overdue(published) -> None:
    milestone(target_days=7)
    account = AccountFactory.create(stage="onboarding", employees=5, stage_entered_on=days_ago(10))
    services.recompute_milestones(None, Context.now())

    Account.objects.filter(pk=account.pk).update(employees=500)
    services.recompute_milestones(None, Context.now())

    row = AccountMilestone.objects.get()
    assert (row.reached_on, row.overdue_since) == (timezone.localdate(), timezone.localdate())
    assert [event.type for event in published] == [services.OVERDUE, services.REACHED]


def test_an_account_that_left_the_stage_is_not_marked(published) -> None:
    milestone(target_days=7)
    account = AccountFactory.create(stage="onboarding", employees=5, stage_entered_on=days_ago(3))
    services.recompute_milestones(None, Context.now())

    Account.objects.filter(pk=account.pk).update(stage="adoption", stage_entered_on=days_ago(0))
    later = Context(today=timezone.localdate() + datetime.timedelta(days=30))
    services.recompute_milestones(None, later)

    assert AccountMilestone.objects.get().overdue_since is None
    assert published == []
