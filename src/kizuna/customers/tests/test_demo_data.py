"""The demo-data generator and the `seed` command."""

from __future__ import annotations

import datetime
import random
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
from django.utils import timezone

from kizuna.core.models import Role, User
from kizuna.customers import demo
from kizuna.customers.choices import LIVE_SUBSCRIPTION_STATUSES, Industry, LifecycleStage
from kizuna.customers.models import (
    Account,
    Contact,
    Opportunity,
    Subscription,
    TierPolicy,
    Touchpoint,
)

N = 60
KATAKANA = re.compile(r"^[ァ-ヶー]+$")


@pytest.fixture
def portfolio() -> demo.SeedResult:
    return demo.generate(N, seed=7, touchpoints_per_account=4)


def snapshot() -> list[tuple[str | None, str, str, Decimal, datetime.date | None]]:
    return list(
        Account.objects.order_by("external_id").values_list(
            "external_id", "name", "name_kana", "arr", "next_renewal_date"
        )
    )


@pytest.mark.django_db
def test_same_seed_gives_same_accounts() -> None:
    demo.generate(N, seed=7, touchpoints_per_account=2)
    first = snapshot()
    Account.objects.all().delete()

    demo.generate(N, seed=7, touchpoints_per_account=2)

    assert snapshot() == first


@pytest.mark.django_db
def test_another_seed_gives_other_accounts() -> None:
    demo.generate(N, seed=7, touchpoints_per_account=0)
    first = snapshot()
    Account.objects.all().delete()

    demo.generate(N, seed=8, touchpoints_per_account=0)

    assert snapshot() != first


@pytest.mark.django_db
def test_result_counts_what_was_created(portfolio: demo.SeedResult) -> None:
    assert (
        portfolio.accounts,
        portfolio.contacts,
        portfolio.subscriptions,
        portfolio.opportunities,
        portfolio.touchpoints,
    ) == (
        Account.objects.count(),
        Contact.objects.count(),
        Subscription.objects.count(),
        Opportunity.objects.count(),
        Touchpoint.objects.count(),
    )


@pytest.mark.django_db
def test_seven_percent_of_accounts_churned(portfolio: demo.SeedResult) -> None:
    churned = Account.objects.filter(stage=LifecycleStage.CHURNED).count()

    assert churned == round(N * 0.07)


@pytest.mark.django_db
def test_churned_subscriptions_ended_in_the_last_year(portfolio: demo.SeedResult) -> None:
    today = timezone.localdate()
    ends = Subscription.objects.filter(account__stage=LifecycleStage.CHURNED).values_list(
        "end_date", flat=True
    )

    assert ends
    assert all(
        end is not None and today - datetime.timedelta(days=366) <= end < today for end in ends
    )


@pytest.mark.django_db
def test_live_accounts_renew_within_eighteen_months(portfolio: demo.SeedResult) -> None:
    today = timezone.localdate()
    renewals = Account.objects.exclude(stage=LifecycleStage.CHURNED).values_list(
        "next_renewal_date", flat=True
    )

    assert all(
        renewal is not None and today <= renewal <= demo.add_months(today, 18)
        for renewal in renewals
    )


@pytest.mark.django_db
def test_onboarding_accounts_started_within_three_months(portfolio: demo.SeedResult) -> None:
    three_months_ago = demo.add_months(timezone.localdate(), -3)
    starts = Subscription.objects.filter(
        account__stage=LifecycleStage.ONBOARDING, product=demo.PRODUCT
    ).values_list("start_date", flat=True)

    assert all(start > three_months_ago for start in starts)


@pytest.mark.django_db
def test_every_account_has_two_contacts_and_a_subscription(portfolio: demo.SeedResult) -> None:
    accounts = Account.objects.annotate(
        contact_count=Count("contacts", distinct=True),
        subscription_count=Count("subscriptions", distinct=True),
    )

    assert all(a.contact_count >= 2 and a.subscription_count >= 1 for a in accounts)


@pytest.mark.django_db
def test_account_names_are_unique(portfolio: demo.SeedResult) -> None:
    names = list(Account.objects.values_list("name", flat=True))

    assert len(set(names)) == len(names) == N


@pytest.mark.django_db
def test_account_kana_readings_are_katakana(portfolio: demo.SeedResult) -> None:
    readings = Account.objects.values_list("name_kana", flat=True)

    assert all(KATAKANA.match(reading) for reading in readings)


@pytest.mark.django_db
def test_contact_kana_readings_are_katakana(portfolio: demo.SeedResult) -> None:
    readings = Contact.objects.values_list("name_kana", flat=True)

    assert all(all(KATAKANA.match(part) for part in r.split(" ")) for r in readings)


def test_names_stay_unique_when_an_industry_runs_out_of_combinations() -> None:
    namer = demo._Namer(random.Random(1))
    # More names than the public sector's word lists can combine: suffixes must kick in.
    names = [namer.company(Industry.PUBLIC) for _ in range(4_000)]

    assert len({name for name, *_rest in names}) == len(names)
    assert all(KATAKANA.match(kana) for _name, kana, *_rest in names)


@pytest.mark.django_db
def test_search_text_is_filled(portfolio: demo.SeedResult) -> None:
    assert not Account.objects.filter(search_text="").exists()


@pytest.mark.django_db
def test_account_arr_is_the_sum_of_live_subscriptions(portfolio: demo.SeedResult) -> None:
    live = {
        row["account"]: row["total"]
        for row in Subscription.objects.filter(status__in=LIVE_SUBSCRIPTION_STATUSES)
        .values("account")
        .annotate(total=Sum("arr"))
    }

    assert all(account.arr == live.get(account.pk, Decimal(0)) for account in Account.objects.all())


@pytest.mark.django_db
def test_tiers_follow_the_tier_policy(portfolio: demo.SeedResult) -> None:
    policy = TierPolicy.current()

    assert all(account.tier == policy.tier_for(account.arr) for account in Account.objects.all())


@pytest.mark.django_db
def test_touchpoints_are_from_the_last_six_months(portfolio: demo.SeedResult) -> None:
    now = timezone.now()
    times = Touchpoint.objects.values_list("occurred_at", flat=True)

    assert times
    assert all(now - datetime.timedelta(days=183) <= t < now for t in times)


@pytest.mark.django_db
def test_some_touchpoints_name_contacts(portfolio: demo.SeedResult) -> None:
    assert Touchpoint.contacts.through.objects.exists()


@pytest.mark.django_db
def test_demo_users_have_roles(portfolio: demo.SeedResult) -> None:
    roles = dict(User.objects.values_list("username", "role"))

    assert roles == {username: role for username, _f, _g, role in demo.DEMO_USERS}


@pytest.mark.django_db
def test_second_generate_does_not_duplicate_users() -> None:
    demo.generate(5, touchpoints_per_account=0)
    Account.objects.all().delete()

    demo.generate(5, touchpoints_per_account=0)

    assert User.objects.count() == len(demo.DEMO_USERS)


@pytest.mark.django_db
def test_users_cannot_sign_in_without_a_password(portfolio: demo.SeedResult) -> None:
    assert not any(user.has_usable_password() for user in User.objects.all())


@pytest.mark.django_db
def test_password_is_set_on_every_demo_user() -> None:
    demo.generate(5, password="demo-pass-123", touchpoints_per_account=0)

    assert all(user.check_password("demo-pass-123") for user in User.objects.all())


@pytest.mark.django_db
def test_generate_keeps_the_role_of_an_existing_user() -> None:
    User.objects.create(username="manager", role=Role.ADMIN)

    demo.generate(5, touchpoints_per_account=0)

    assert User.objects.get(username="manager").role == Role.ADMIN


@pytest.mark.django_db
def test_seed_command_fills_an_empty_database() -> None:
    out = StringIO()

    call_command("seed", "--accounts", "12", "--touchpoints-per-account", "1", stdout=out)

    assert Account.objects.count() == 12
    assert "Created 12 accounts" in out.getvalue()


@pytest.mark.django_db
def test_seed_command_refuses_a_database_with_accounts() -> None:
    Account.objects.create(name="株式会社既存")

    with pytest.raises(CommandError, match="already has 1 accounts"):
        call_command("seed", "--accounts", "5", stdout=StringIO())

    assert (Account.objects.count(), User.objects.count()) == (1, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("accounts", ["0", "1000001"])
def test_seed_command_rejects_an_account_count_out_of_range(accounts: str) -> None:
    with pytest.raises(CommandError, match="between 1 and 1,000,000"):
        call_command("seed", "--accounts", accounts, stdout=StringIO())
