"""The lifecycle board: per stage the accounts, their ARR, the average and median days in
the stage, and the biggest accounts — in a fixed number of queries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory
from kizuna.lifecycle import queries

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _account(stage: str, arr: int, days: int, **fields) -> Account:
    return AccountFactory.create(
        stage=stage,
        arr=Decimal(arr),
        stage_entered_on=TODAY - datetime.timedelta(days=days),
        **fields,
    )


@pytest.fixture
def portfolio() -> None:
    _account("adoption", 1_000_000, 10)
    _account("adoption", 2_000_000, 20)
    _account("adoption", 3_000_000, 60)
    _account("renewal", 5_000_000, 5)
    _account("renewal", 1_000_000, 15)


def test_each_stage_has_its_count_arr_and_days(portfolio):
    columns = {column.stage: column for column in queries.board(Account.objects.all(), TODAY)}

    adoption, renewal = columns["adoption"], columns["renewal"]
    assert (adoption.accounts, adoption.arr, adoption.average_days, adoption.median_days) == (
        3,
        Decimal(6_000_000),
        30.0,
        20.0,
    )
    assert (renewal.accounts, renewal.arr, renewal.median_days) == (2, Decimal(6_000_000), 10.0)
    assert columns["value"].accounts == 0
    assert list(columns) == ["onboarding", "adoption", "value", "renewal", "churned"]


def test_a_column_lists_its_biggest_accounts_up_to_the_limit(portfolio):
    columns = {column.stage: column for column in queries.board(Account.objects.all(), TODAY, 2)}

    adoption = columns["adoption"]
    assert [row.arr for row in adoption.rows] == [Decimal(3_000_000), Decimal(2_000_000)]
    assert [row.days_in_stage for row in adoption.rows] == [60, 20]
    assert adoption.more == 1


def test_the_board_page_takes_a_fixed_number_of_queries(
    manager_client, portfolio, django_assert_num_queries
):
    manager_client.get(reverse("lifecycle:board"))  # warm the session
    for _index in range(5):
        _account("value", 900_000, 3)

    # Session, user, figures, medians, listed accounts, owners for the filter.
    with django_assert_num_queries(6):
        response = manager_client.get(reverse("lifecycle:board"))
    assert response.status_code == 200


def test_show_all_opens_the_account_list_filtered_by_stage(manager_client, portfolio):
    html = manager_client.get(reverse("lifecycle:board")).content.decode()

    assert f'href="{reverse("customers:accounts")}?stage=adoption"' in html


def test_a_csm_sees_their_own_book_unless_asking_for_everyone(csm, csm_client):
    _account("adoption", 1_000_000, 3, owner=csm)
    _account("adoption", 1_000_000, 3)

    mine = csm_client.get(reverse("lifecycle:board")).context["columns"]
    everyone = csm_client.get(reverse("lifecycle:board") + "?owner=all").context["columns"]

    assert [column.accounts for column in mine if column.stage == "adoption"] == [1]
    assert [column.accounts for column in everyone if column.stage == "adoption"] == [2]


def test_the_tier_filter_narrows_the_board(manager_client):
    _account("adoption", 1_000_000, 3, tier="high")
    _account("adoption", 1_000_000, 3, tier="tech")

    columns = manager_client.get(reverse("lifecycle:board") + "?tier=high").context["columns"]

    assert sum(column.accounts for column in columns) == 1
