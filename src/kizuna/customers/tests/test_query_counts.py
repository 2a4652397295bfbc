"""The hot pages cost a fixed number of queries, whatever the size of the portfolio."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.core.models import User
from kizuna.customers.tests.factories import (
    AccountFactory,
    ContactFactory,
    OpportunityFactory,
    SubscriptionFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(csm: User) -> list[int]:
    ids = []
    for index in range(60):
        account = AccountFactory.create(owner=csm if index % 2 else None)
        SubscriptionFactory.create(account=account)
        ids.append(account.pk)
    return ids


def test_account_list_query_count(
    csm_client: Client, portfolio: list[int], django_assert_num_queries
) -> None:
    # session, user, custom fields, owners for the filter, count, page of accounts
    with django_assert_num_queries(6):
        response = csm_client.get(reverse("customers:accounts"), {"q": "テスト", "sort": "-arr"})
    assert response.status_code == 200


def test_account_360_query_count(csm_client: Client, django_assert_num_queries) -> None:
    account = AccountFactory.create()
    for _ in range(5):
        SubscriptionFactory.create(account=account)
        ContactFactory.create(account=account)
        OpportunityFactory.create(account=account)
        TouchpointFactory.create(account=account).contacts.add(
            ContactFactory.create(account=account)
        )
    # session, user, account+owner, custom fields, contracts, contacts, opportunities,
    # audit, timeline (touchpoints + their contacts, contracts, opportunities, product
    # usage per day from the rollups, stage changes, segment entries and exits, health
    # band changes, milestones reached, emails)
    with django_assert_num_queries(18):
        response = csm_client.get(reverse("customers:account", args=[account.pk]))
    assert response.status_code == 200


def test_home_query_count(
    csm_client: Client, portfolio: list[int], django_assert_num_queries
) -> None:
    # session, user, the portfolio figures, largest accounts, renewals, touchpoints
    with django_assert_num_queries(6):
        response = csm_client.get(reverse("customers:home"))
    assert response.status_code == 200
