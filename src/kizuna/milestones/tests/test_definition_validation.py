"""Defining milestones: a bad condition is refused naming where, a taken key is refused,
nothing is saved; the stage is fixed; reorder and a new target."""

from __future__ import annotations

import pytest

from kizuna.core.conditions import Context
from kizuna.customers.tests.factories import AccountFactory
from kizuna.milestones import services
from kizuna.milestones.models import AccountMilestone, Milestone
from kizuna.milestones.tests.factories import days_ago, employees_at_least, milestone

pytestmark = pytest.mark.django_db


def test_a_bad_condition_names_where_and_saves_nothing() -> None:
    tree = {"and": [employees_at_least(1), {**employees_at_least(1), "op": "contains"}]}

    with pytest.raises(services.InvalidMilestone) as refused:
        milestone(condition=tree)

    assert refused.value.location == "condition.and[1].op"
    assert not Milestone.objects.exists()


def test_a_condition_without_comparisons_is_refused() -> None:
    with pytest.raises(services.InvalidMilestone) as refused:
        services.create_milestone(
            None, stage="onboarding", key="all", name="All", condition={"and": []}
        )

    assert refused.value.field == "condition"


def test_a_taken_key_is_refused() -> None:
    milestone("first_login")

    with pytest.raises(services.InvalidMilestone) as refused:
        milestone("first_login", stage="adoption")

    assert (refused.value.field, refused.value.code) == ("key", "unique")
    assert Milestone.objects.count() == 1


@pytest.mark.parametrize("key", ["", "First Login", "-x", "a" * 61])
def test_a_malformed_key_is_refused(key: str) -> None:
    with pytest.raises(services.InvalidMilestone) as refused:
        milestone(key, name="Malformed")

    assert refused.value.field == "key"


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(services.InvalidMilestone) as refused:
        milestone(stage="trial")

    assert refused.value.field == "stage"


def test_the_stage_cannot_change() -> None:
    goal = milestone()

    with pytest.raises(services.InvalidMilestone):
        services.update_milestone(None, goal, stage="adoption")

    assert Milestone.objects.get().stage == "onboarding"


def test_a_bad_update_leaves_the_milestone_as_it_was() -> None:
    goal = milestone(name="Before")

    with pytest.raises(services.InvalidMilestone):
        services.update_milestone(None, goal, name="After", target_days=-1)

    assert (goal.name, Milestone.objects.get().name) == ("Before", "Before")


def test_new_milestones_go_last_in_their_stage_and_reorder() -> None:
    first, second, third = milestone("a"), milestone("b"), milestone("c")
    assert [first.order, second.order, third.order] == [10, 20, 30]

    services.reorder(None, "onboarding", [third.pk, first.pk, second.pk])

    assert list(Milestone.objects.order_by("order").values_list("key", flat=True)) == [
        "c",
        "a",
        "b",
    ]


def test_reorder_needs_every_milestone_of_the_stage() -> None:
    first, _second = milestone("a"), milestone("b")

    with pytest.raises(services.InvalidMilestone):
        services.reorder(None, "onboarding", [first.pk])


def test_a_new_target_moves_the_due_day_of_open_rows() -> None:
    goal = milestone(target_days=7)
    AccountFactory.create(stage="onboarding", employees=5, stage_entered_on=days_ago(10))
    services.recompute_milestones(None, Context.now())
    assert AccountMilestone.objects.get().overdue_since is not None

    services.update_milestone(None, goal, target_days=30)

    row = AccountMilestone.objects.get()
    assert (row.due_on, row.overdue_since) == (days_ago(-20), None)
