"""A new installation starts with sensible stage rules, created once."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.core.conditions import parse
from kizuna.customers.services import refresh_rollups
from kizuna.customers.tests.factories import AccountFactory, SubscriptionFactory
from kizuna.lifecycle import services
from kizuna.lifecycle.models import StageRule

pytestmark = pytest.mark.django_db


def test_the_migrations_create_the_default_rules():
    assert list(StageRule.objects.values_list("to_stage", flat=True)) == [
        "churned",
        "renewal",
        "value",
        "adoption",
    ]


def test_every_default_rule_is_valid():
    for rule in StageRule.objects.all():
        rule.full_clean()
        parse(rule.conditions)


def test_ensuring_them_again_creates_nothing():
    assert services.ensure_default_rules() == 0
    assert StageRule.objects.count() == 4


def test_they_move_an_account_to_renewal_90_days_before_it(no_rules):
    services.ensure_default_rules()
    account = AccountFactory.create(stage="value")
    SubscriptionFactory.create(
        account=account, end_date=timezone.localdate() + datetime.timedelta(days=60)
    )
    refresh_rollups([account.pk])

    services.apply_stage_rules()

    account.refresh_from_db()
    assert account.stage == "renewal"


def test_they_move_an_account_whose_contract_churned(no_rules):
    services.ensure_default_rules()
    account = AccountFactory.create(stage="adoption")
    SubscriptionFactory.create(account=account, status="churned")

    services.apply_stage_rules()

    account.refresh_from_db()
    assert account.stage == "churned"
