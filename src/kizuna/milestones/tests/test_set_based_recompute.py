"""The milestones step costs the same number of queries for 10 accounts or 300."""

from __future__ import annotations

import pytest

from kizuna.core.conditions import Context
from kizuna.customers.models import Account
from kizuna.milestones import services
from kizuna.milestones.models import AccountMilestone
from kizuna.milestones.tests.factories import days_ago, milestone

pytestmark = pytest.mark.django_db

# The milestones; per milestone: a savepoint (2), the missing rows and their INSERT, the
# re-entered stays, the matching open rows, the values seen and the UPDATE ticking them,
# the overdue rows and their UPDATE; the webhooks' endpoints; success flows: the decisions
# waiting for these milestones and the live flows they trigger.
FIRST_RUN = 1 + 10 + 1 + 2
# Nothing to insert, tick or mark.
SECOND_RUN = 1 + 6


def _accounts(count: int) -> None:
    Account.objects.bulk_create(
        [
            Account(
                name=f"株式会社{index}",
                stage="onboarding",
                employees=500 if index % 2 else 5,
                stage_entered_on=days_ago(30),
            )
            for index in range(count)
        ]
    )


@pytest.mark.parametrize("accounts", [10, 300])
def test_a_first_run_costs_a_fixed_number_of_queries(
    accounts: int, django_assert_num_queries
) -> None:
    milestone(target_days=7)
    _accounts(accounts)

    with django_assert_num_queries(FIRST_RUN):
        totals = services.recompute_milestones(None, Context.now())

    assert totals == {
        "created": accounts,
        "moved": 0,
        "reached": accounts // 2,
        "overdue": accounts // 2,
    }
    assert AccountMilestone.objects.count() == accounts


@pytest.mark.parametrize("accounts", [10, 300])
def test_a_second_run_changes_nothing_in_fewer_queries(
    accounts: int, django_assert_num_queries
) -> None:
    milestone(target_days=7)
    _accounts(accounts)
    services.recompute_milestones(None, Context.now())

    with django_assert_num_queries(SECOND_RUN):
        totals = services.recompute_milestones(None, Context.now())

    assert totals == {"created": 0, "moved": 0, "reached": 0, "overdue": 0}
