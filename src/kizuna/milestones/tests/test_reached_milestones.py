"""The recompute step ticks a milestone off the first time an account in its stage meets
the condition, with the day and the values seen, and publishes milestone.reached once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kizuna.core import recompute
from kizuna.core.conditions import Context
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory
from kizuna.milestones import services
from kizuna.milestones.models import AccountMilestone
from kizuna.milestones.tests.factories import days_ago, milestone

pytestmark = pytest.mark.django_db


def test_a_matching_account_is_ticked_with_the_day_and_the_values_seen() -> None:
    goal = milestone(target_days=14)
    account = AccountFactory.create(stage="onboarding", employees=500, stage_entered_on=days_ago(3))

    services.recompute_milestones(None, Context.now())

    row = AccountMilestone.objects.get(account=account, milestone=goal)
    assert row.reached_on == timezone.localdate()
    assert row.due_on == days_ago(3 - 14)
    assert row.stage_entered_on == days_ago(3)
    [seen] = row.seen
    assert (seen.value, seen.expected, seen.matched) == (500, 100, True)
    assert "500" in seen.text()


def test_an_account_that_does_not_match_gets_a_row_due_but_not_reached() -> None:
    goal = milestone(target_days=14)
    account = AccountFactory.create(stage="onboarding", employees=5)

    services.recompute_milestones(None, Context.now())

    row = AccountMilestone.objects.get(account=account, milestone=goal)
    assert (row.reached_on, row.overdue_since, row.reached_values) == (None, None, [])


def test_accounts_in_other_stages_get_no_row() -> None:
    milestone(stage="onboarding")
    AccountFactory.create(stage="adoption", employees=500)

    services.recompute_milestones(None, Context.now())

    assert not AccountMilestone.objects.exists()


def test_reached_is_published_once_with_the_row_as_instance(published) -> None:
    goal = milestone()
    account = AccountFactory.create(stage="onboarding", employees=500)

    services.recompute_milestones(None, Context.now())
    services.recompute_milestones(None, Context.now())

    reached = [event for event in published if event.type == services.REACHED]
    assert len(reached) == 1
    instance = reached[0].instance
    assert isinstance(instance, AccountMilestone)
    assert (instance.account_id, instance.milestone_id) == (account.pk, goal.pk)
    assert reached[0].object_id == instance.pk


def test_a_reached_milestone_stays_reached_when_the_data_changes() -> None:
    goal = milestone()
    account = AccountFactory.create(stage="onboarding", employees=500)
    services.recompute_milestones(None, Context.now())

    Account.objects.filter(pk=account.pk).update(employees=1)
    services.recompute_milestones(None, Context.now())

    assert AccountMilestone.objects.get(milestone=goal).reached_on == timezone.localdate()


def test_only_the_given_accounts_are_recomputed() -> None:
    milestone()
    first = AccountFactory.create(stage="onboarding", employees=500)
    AccountFactory.create(stage="onboarding", employees=500)

    services.recompute_milestones([first.pk], Context.now())

    assert list(AccountMilestone.objects.values_list("account_id", flat=True)) == [first.pk]


def test_a_disabled_milestone_is_not_ticked() -> None:
    milestone(enabled=False)
    AccountFactory.create(stage="onboarding", employees=500)

    services.recompute_milestones(None, Context.now())

    assert not AccountMilestone.objects.exists()


def test_the_step_runs_after_stages_and_before_health() -> None:
    orders = {step.key: step.order for step in recompute.steps()}

    assert orders["stages"] < orders["milestones"] == 25 < orders["health"]


def test_a_full_recompute_ticks_and_reports_no_error() -> None:
    milestone()
    AccountFactory.create(stage="onboarding", employees=500)

    report = recompute.recompute()

    assert report.errors == {}
    assert AccountMilestone.objects.get().reached_on is not None
