"""ARR, MRR, renewal date and tier follow the contracts and the thresholds."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kizuna.customers import services
from kizuna.customers.choices import Tier
from kizuna.customers.models import Account, TierPolicy
from kizuna.customers.tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_arr_is_the_sum_of_live_contracts() -> None:
    account = AccountFactory.create()
    SubscriptionFactory.create(account=account, arr=Decimal(1_200_000), mrr=Decimal(100_000))
    SubscriptionFactory.create(account=account, arr=Decimal(600_000), mrr=Decimal(50_000))
    SubscriptionFactory.create(account=account, arr=Decimal(9_000_000), status="churned")
    services.refresh_rollups([account.pk])
    account.refresh_from_db()
    assert (account.arr, account.mrr) == (Decimal(1_800_000), Decimal(150_000))


def test_next_renewal_is_the_earliest_future_end_date() -> None:
    account = AccountFactory.create()
    today = timezone.localdate()
    SubscriptionFactory.create(account=account, end_date=today + datetime.timedelta(days=40))
    SubscriptionFactory.create(account=account, end_date=today + datetime.timedelta(days=10))
    SubscriptionFactory.create(account=account, end_date=today - datetime.timedelta(days=5))
    services.refresh_rollups([account.pk])
    account.refresh_from_db()
    assert account.next_renewal_date == today + datetime.timedelta(days=10)


def test_tier_follows_arr_thresholds() -> None:
    policy = TierPolicy.current()
    big, mid, small = AccountFactory.create(), AccountFactory.create(), AccountFactory.create()
    SubscriptionFactory.create(account=big, arr=policy.high_touch_min_arr)
    SubscriptionFactory.create(account=mid, arr=policy.low_touch_min_arr)
    SubscriptionFactory.create(account=small, arr=policy.low_touch_min_arr - 1)
    services.refresh_rollups()
    tiers = dict(Account.objects.values_list("pk", "tier"))
    assert [tiers[big.pk], tiers[mid.pk], tiers[small.pk]] == [
        Tier.HIGH_TOUCH,
        Tier.LOW_TOUCH,
        Tier.TECH_TOUCH,
    ]


def test_saving_a_contract_in_the_ui_updates_the_account(csm_client: Client) -> None:
    account = AccountFactory.create()
    csm_client.post(
        reverse("customers:subscription_new", args=[account.pk]),
        {
            "product": "Kizuna Cloud",
            "seats": "100",
            "mrr": "700000",
            "currency": "JPY",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "status": "active",
            "auto_renew": "on",
        },
    )
    account.refresh_from_db()
    assert account.arr == Decimal(8_400_000)
    assert account.tier == Tier.HIGH_TOUCH


def test_changing_thresholds_re_tiers_every_account(manager_client: Client) -> None:
    account = AccountFactory.create()
    SubscriptionFactory.create(account=account, arr=Decimal(2_000_000))
    services.refresh_rollups()
    manager_client.post(
        reverse("customers:tiers"),
        {"high_touch_min_arr": "1500000", "low_touch_min_arr": "500000"},
    )
    account.refresh_from_db()
    assert account.tier == Tier.HIGH_TOUCH


def test_inverted_thresholds_are_refused_and_nothing_changes(manager_client: Client) -> None:
    response = manager_client.post(
        reverse("customers:tiers"),
        {"high_touch_min_arr": "100", "low_touch_min_arr": "500"},
    )
    assert "must be above" in response.content.decode()
    assert TierPolicy.current().high_touch_min_arr == Decimal(6_000_000)


def test_mrr_is_derived_from_arr() -> None:
    from kizuna.customers.forms import SubscriptionForm

    form = SubscriptionForm(
        {
            "product": "Kizuna Cloud",
            "seats": "10",
            "arr": "1200000",
            "currency": "JPY",
            "start_date": "2026-01-01",
            "status": "active",
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["mrr"] == Decimal(100_000)


def test_contract_ending_before_it_starts_is_refused(csm_client: Client) -> None:
    account = AccountFactory.create()
    response = csm_client.post(
        reverse("customers:subscription_new", args=[account.pk]),
        {
            "product": "Kizuna Cloud",
            "seats": "10",
            "mrr": "1000",
            "currency": "JPY",
            "start_date": "2026-05-01",
            "end_date": "2026-04-01",
            "status": "active",
        },
    )
    assert "cannot be before the start date" in response.content.decode()
    assert account.subscriptions.count() == 0


def test_portfolio_figures_leave_churned_accounts_out_of_tiers() -> None:
    from kizuna.customers import queries

    live = AccountFactory.create(stage="adoption")
    SubscriptionFactory.create(account=live, arr=Decimal(2_000_000))
    AccountFactory.create(stage="churned", tier=Tier.HIGH_TOUCH)
    services.refresh_rollups()
    figures = queries.portfolio(Account.objects.all())
    tiers = {bucket.key: bucket.accounts for bucket in figures.by_tier}
    stages = {bucket.key: bucket.accounts for bucket in figures.by_stage}
    assert figures.accounts == 1
    assert figures.arr == Decimal(2_000_000)
    assert figures.renewals_90d == 0
    assert sum(tiers.values()) == 1
    assert stages["churned"] == 1
