"""Tiers and stages are recompute steps 10 and 20: run with the others, idempotent, and a
few queries whatever the number of accounts."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kizuna.core import recompute
from kizuna.customers.models import Account, TierChange
from kizuna.customers.tests.factories import AccountFactory
from kizuna.lifecycle.models import StageChange
from kizuna.lifecycle.tests.factories import StageRuleFactory

pytestmark = pytest.mark.django_db

SOON = timezone.localdate() + datetime.timedelta(days=30)


def test_tiers_then_stages_are_registered_in_order():
    keys = [step.key for step in recompute.steps()]
    assert keys.index("tiers") < keys.index("stages")
    assert {step.key: step.order for step in recompute.steps()}.items() >= {
        "tiers": 10,
        "stages": 20,
    }.items()


def test_a_recompute_sets_tiers_and_stages_and_a_second_changes_nothing(no_rules):
    StageRuleFactory.create()
    account = AccountFactory.create(
        stage="adoption", arr=Decimal(8_000_000), next_renewal_date=SOON
    )

    first = recompute.recompute([account.pk])
    second = recompute.recompute([account.pk])

    assert first.errors == second.errors == {}
    account.refresh_from_db()
    assert (account.tier, account.stage) == ("high", "renewal")
    assert (TierChange.objects.count(), StageChange.objects.count()) == (1, 1)


def test_the_stage_step_is_a_few_queries_for_many_accounts(no_rules, django_assert_max_num_queries):
    StageRuleFactory.create()
    Account.objects.bulk_create(
        [
            Account(name=f"株式会社{index}", stage="adoption", next_renewal_date=SOON)
            for index in range(300)
        ]
    )
    from kizuna.lifecycle import services

    # The rules, the matching accounts (in a savepoint: two more), their values, the INSERT,
    # the UPDATE, the webhooks.
    with django_assert_max_num_queries(9):
        changes = services.apply_stage_rules()
    assert len(changes) == 300
