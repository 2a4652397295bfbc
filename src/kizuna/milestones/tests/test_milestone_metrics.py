"""milestone.reached, milestone.overdue_count and milestone.progress are metrics: the query
over all accounts and the evaluation of one account agree."""

from __future__ import annotations

import pytest

from kizuna.core.conditions import ConditionError, Context, evaluate, matching, parse
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory
from kizuna.milestones import services
from kizuna.milestones.models import Milestone
from kizuna.milestones.tests.factories import days_ago, milestone

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio() -> dict[str, Account]:
    """Two onboarding milestones (big team: 100+ employees; known region), target 7 days."""
    milestone("big_team", target_days=7)
    milestone(
        "region_known",
        target_days=7,
        condition={"metric": "account.attribute", "params": {"field": "region"}, "op": "not_empty"},
    )
    accounts = {
        "both": AccountFactory.create(stage="onboarding", employees=500, region="kanto"),
        "one_late": AccountFactory.create(
            stage="onboarding", employees=500, stage_entered_on=days_ago(20)
        ),
        "none_late": AccountFactory.create(
            stage="onboarding", employees=5, stage_entered_on=days_ago(20)
        ),
        "elsewhere": AccountFactory.create(stage="renewal", employees=500),
    }
    services.recompute_milestones(None, Context.now())
    return accounts


def _match(tree: dict) -> set[int]:
    return set(matching(parse(tree), Account.objects.all()).values_list("pk", flat=True))


def _value(tree: dict, account: Account) -> object:
    return evaluate(parse(tree), account.pk).leaves[0].value


def test_reached_a_milestone(portfolio) -> None:
    goal = Milestone.objects.get(key="big_team")
    tree = {"metric": "milestone.reached", "params": {"milestone": goal.pk}, "op": "is_true"}

    assert _match(tree) == {portfolio["both"].pk, portfolio["one_late"].pk}
    assert evaluate(parse(tree), portfolio["both"].pk).matched
    assert not evaluate(parse(tree), portfolio["none_late"].pk).matched


def test_an_unknown_milestone_is_refused() -> None:
    with pytest.raises(ConditionError) as refused:
        parse({"metric": "milestone.reached", "params": {"milestone": 999}, "op": "is_true"})

    assert refused.value.path == "params"


def test_overdue_count(portfolio) -> None:
    tree = {"metric": "milestone.overdue_count", "op": "gte", "value": 1}

    assert _match(tree) == {portfolio["one_late"].pk, portfolio["none_late"].pk}
    assert _value(tree, portfolio["none_late"]) == 2
    assert _value(tree, portfolio["elsewhere"]) == 0


def test_progress_of_the_current_stage(portfolio) -> None:
    tree = {"metric": "milestone.progress", "op": "gte", "value": 50}

    assert _match(tree) == {portfolio["both"].pk, portfolio["one_late"].pk}
    assert _value(tree, portfolio["both"]) == 100.0
    assert _value(tree, portfolio["one_late"]) == 50.0
    assert _value(tree, portfolio["none_late"]) == 0.0


def test_a_stage_without_milestones_has_no_progress(portfolio) -> None:
    tree = {"metric": "milestone.progress", "op": "empty"}

    assert _match(tree) == {portfolio["elsewhere"].pk}
