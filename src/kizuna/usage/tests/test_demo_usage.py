"""The demo's product usage: deterministic, realistic shapes, rolled up."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from kizuna.customers import demo as portfolio
from kizuna.customers.choices import LifecycleStage
from kizuna.customers.models import Account, Contact
from kizuna.usage import demo
from kizuna.usage.models import AccountActivity, AccountDailyUsage, Event, RollupState

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated() -> demo.UsageResult:
    portfolio.generate(24, seed=3, touchpoints_per_account=0)
    return demo.generate(seed=5, days=30)


def test_usage_is_inserted_and_rolled_up(generated):
    assert generated.events == Event.objects.count() > 1000
    assert RollupState.objects.get().last_event_id == Event.objects.latest("id").pk
    total = AccountDailyUsage.objects.filter(type="", event="").aggregate(n=Sum("count"))["n"]
    assert total == generated.events


def test_same_seed_gives_the_same_usage(generated):
    first = list(Event.objects.order_by("message_id").values_list("message_id", "event", "day"))
    Event.objects.all().delete()
    Contact.objects.filter(product_user_id__startswith="demo-user-").delete()

    demo.generate(seed=5, days=30)

    assert (
        list(Event.objects.order_by("message_id").values_list("message_id", "event", "day"))
        == first
    )


def test_accounts_use_the_product_differently(generated):
    logins = sorted(AccountActivity.objects.values_list("logins_30d", flat=True))

    # The 30-day window ends now, so the figures move with the time of day; the spread is
    # about 3x, and at least 2x at any hour.
    assert logins[0] * 2 < logins[-1]


def test_churned_accounts_are_quiet_at_the_end(generated):
    churned = Account.objects.filter(stage=LifecycleStage.CHURNED)

    assert churned.exists()
    assert not AccountActivity.objects.filter(account__in=churned, active_users_30d__gt=0).exists()


def test_refuses_to_run_twice(generated):
    with pytest.raises(ValueError, match="already loaded"):
        demo.generate(seed=5, days=30)
