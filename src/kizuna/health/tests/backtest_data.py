"""A small portfolio with half a year of usage whose outcome is known, for the backtest
tests: one account stopped logging in months before it churned, three kept using the
product, and one stayed although nobody used it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kizuna.customers import services as customer_services
from kizuna.customers.choices import LifecycleStage, SubscriptionStatus
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from kizuna.health.tests.factories import definition, group, measure
from kizuna.usage.tests.helpers import at, store

# The leaver's contract ended 30 days ago; it stopped using the product 125 days ago.
CHURNED_DAYS_AGO = 30
USAGE_DAYS = 170
LOGIN_RATE = {"kind": "linear", "from": 10, "to": 60}


def login_rate_definition(**bands: float) -> dict[str, Any]:
    """One measure: the 30-day login rate, 10 % → 0 points, 60 % → 100."""
    return definition(
        group(
            "usage",
            measure("login_rate", "usage.login_rate", LOGIN_RATE, params={"days": 30}),
        ),
        **bands,
    )


@dataclass
class Portfolio:
    leaver: Account
    busy: list[Account]
    quiet: Account

    @property
    def churn_date(self) -> datetime.date:
        return timezone.localdate() - datetime.timedelta(days=CHURNED_DAYS_AGO)


def _customer(*, stage: str = LifecycleStage.VALUE, **contract: Any) -> Account:
    account = AccountFactory.create(stage=stage)
    today = timezone.localdate()
    SubscriptionFactory.create(
        account=account,
        seats=10,
        start_date=today - datetime.timedelta(days=400),
        **contract,
    )
    return account


def _users(account: Account, count: int) -> list[str]:
    ids = [f"a{account.pk}-u{n}" for n in range(count)]
    for user_id in ids:
        ContactFactory.create(account=account, product_user_id=user_id)
    return ids


def busy_customer(events: list[tuple[str, str, datetime.datetime]]) -> Account:
    """A customer whose 8 users (of 10 seats) each log in every 10 days: login rate 80 %."""
    account = _customer()
    for offset, user_id in enumerate(_users(account, 8)):
        for days_ago in range(1 + offset, USAGE_DAYS, 10):
            events.append((user_id, "Logged In", at(days_ago)))
    return account


def build(busy: int = 3) -> Portfolio:
    today = timezone.localdate()
    events: list[tuple[str, str, datetime.datetime]] = []
    leaver = _customer(
        stage=LifecycleStage.CHURNED,
        status=SubscriptionStatus.CHURNED,
        end_date=today - datetime.timedelta(days=CHURNED_DAYS_AGO),
    )
    for offset, user_id in enumerate(_users(leaver, 8)):
        for days_ago in range(126 + offset % 5, USAGE_DAYS, 5):
            events.append((user_id, "Logged In", at(days_ago)))
    steady = [busy_customer(events) for _n in range(busy)]
    quiet = _customer()
    _users(quiet, 2)
    store(events)
    customer_services.refresh_rollups()
    return Portfolio(leaver=leaver, busy=steady, quiet=quiet)


ARR = Decimal(1_800_000)


def editor_inputs(raw: dict[str, Any], **settings: str) -> dict[str, str]:
    """The scorecard editor's inputs for a definition of linear measures, and the settings
    (stage…), as the browser posts them with the backtest controls."""
    data: dict[str, Any] = {
        "d-red_below": raw["bands"]["red_below"],
        "d-green_from": raw["bands"]["green_from"],
        "d-groups": len(raw["groups"]),
        "name": "Draft",
        "priority": "100",
        "is_active": "on",
        "stage": "",
        "bt-source": "draft",
        "bt-horizon": "60",
    }
    for i, grp in enumerate(raw["groups"]):
        g = f"d-g{i}"
        data.update({f"{g}-{k}": grp[k] for k in ("key", "label_ja", "label_en", "weight")})
        data[f"{g}-measures"] = len(grp["measures"])
        for j, item in enumerate(grp["measures"]):
            m = f"{g}-m{j}"
            data.update({f"{m}-{k}": item[k] for k in ("key", "label_ja", "label_en", "weight")})
            data[f"{m}-metric"] = item["metric"]["metric"]
            for name, value in item["metric"].get("params", {}).items():
                data[f"{m}-p-{name}"] = value
            data[f"{m}-kind"] = item["mapping"]["kind"]
            data[f"{m}-from"] = item["mapping"]["from"]
            data[f"{m}-to"] = item["mapping"]["to"]
    data.update(settings)
    return {key: str(value) for key, value in data.items()}
