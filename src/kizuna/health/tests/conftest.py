"""Fixtures of the health tests."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kizuna.customers import services as customer_services
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory, SubscriptionFactory


def account_with_arr(arr: int, **fields: object) -> Account:
    """An account with one live contract of this ARR (0: no contract)."""
    account = AccountFactory.create(**fields)
    if arr:
        SubscriptionFactory.create(account=account, arr=Decimal(arr), mrr=Decimal(arr // 12))
    customer_services.refresh_rollups()
    account.refresh_from_db()
    return account


@pytest.fixture
def with_arr():
    return account_with_arr
