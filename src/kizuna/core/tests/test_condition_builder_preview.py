"""The builder's live preview: how many accounts match out of all, the largest of them, or
where the tree is wrong — always a partial, never a server error."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.customers.models import CustomFieldDefinition
from kizuna.customers.tests.factories import AccountFactory
from kizuna.usage.models import UsageSettings

pytestmark = pytest.mark.django_db

HIGH_TOUCH = {"and": [{"metric": "account.tier", "op": "in", "value": ["high"]}]}


def _preview(client: Client, tree: Any, **extra: str) -> Any:
    raw = tree if isinstance(tree, str) else json.dumps(tree)
    return client.post(reverse("core:conditions_preview"), {"tree": raw, **extra})


def test_preview_counts_matching_accounts_and_lists_them_by_arr(csm_client: Client) -> None:
    AccountFactory.create(name="サクラ物流", tier="high", arr=Decimal(1_000_000))
    AccountFactory.create(name="ミドリ精機", tier="high", arr=Decimal(3_000_000))
    AccountFactory.create(name="アオゾラ商事", tier="low")

    response = _preview(csm_client, HIGH_TOUCH)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-matched="2" data-total="3"' in html
    assert "<strong>2</strong> of 3 accounts match" in html
    assert "アオゾラ商事" not in html
    assert html.index("ミドリ精機") < html.index("サクラ物流")


def test_preview_links_each_account_to_its_page(csm_client: Client) -> None:
    account = AccountFactory.create(tier="high")

    response = _preview(csm_client, HIGH_TOUCH)

    assert f'href="{account.get_absolute_url()}"' in response.content.decode()


def test_preview_shows_at_most_ten_accounts(csm_client: Client) -> None:
    AccountFactory.create_batch(12, tier="high")

    response = _preview(csm_client, HIGH_TOUCH)

    html = response.content.decode()
    assert html.count("<tr>") == 1 + 10  # the header and ten accounts
    assert "Showing the 10 accounts with the highest ARR." in html


def test_preview_counts_in_two_queries_whatever_the_number_of_accounts(
    csm_client: Client, django_assert_num_queries: Any
) -> None:
    AccountFactory.create_batch(15, tier="high")
    UsageSettings.current()
    tree = {
        "or": [
            HIGH_TOUCH,
            {"metric": "usage.logins", "params": {"days": 30}, "op": "gte", "value": 1},
        ]
    }

    # Session and user; which events are logins; then one aggregate for both counts and one
    # query for the list.
    with django_assert_num_queries(5):
        response = _preview(csm_client, tree)

    assert 'data-matched="15" data-total="15"' in response.content.decode()


def test_preview_of_a_choice_custom_field(csm_client: Client) -> None:
    CustomFieldDefinition.objects.create(
        key="plan", label_ja="プラン", label_en="Plan", field_type="choice", choices=["Pro", "Lite"]
    )
    AccountFactory.create(name="サクラ物流", custom_attributes={"plan": "Pro"})
    AccountFactory.create(name="アオゾラ商事", custom_attributes={"plan": "Lite"})
    AccountFactory.create(name="ミドリ精機", custom_attributes={})
    tree = {
        "metric": "account.custom_field",
        "params": {"field": "plan"},
        "op": "in",
        "value": ["Pro"],
    }

    response = _preview(csm_client, tree)

    html = response.content.decode()
    assert 'data-matched="1" data-total="3"' in html
    assert "サクラ物流" in html


def test_an_empty_tree_matches_every_account(csm_client: Client) -> None:
    AccountFactory.create_batch(2)

    response = _preview(csm_client, "")

    assert 'data-matched="2" data-total="2"' in response.content.decode()


def test_an_invalid_tree_is_shown_with_where_it_is_wrong(csm_client: Client) -> None:
    tree = {"and": [HIGH_TOUCH["and"][0], {"metric": "subscription.arr", "op": "gte"}]}

    response = _preview(csm_client, tree)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-error-path="and[1].value"' in html
    assert "At and[1].value: A value is required." in html


def test_text_that_is_not_json_is_refused_with_a_message(csm_client: Client) -> None:
    response = _preview(csm_client, '{"and": [')

    html = response.content.decode()
    assert response.status_code == 200
    assert "This is not valid JSON." in html
    assert "data-error-path" not in html


def test_validation_only_runs_no_count(csm_client: Client, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(2):  # session and user only
        response = _preview(csm_client, HIGH_TOUCH, count="0")

    assert "data-matched" not in response.content.decode()
    assert "data-error-path" not in response.content.decode()


def test_a_viewer_may_preview(viewer_client: Client) -> None:
    AccountFactory.create(tier="high")

    response = _preview(viewer_client, HIGH_TOUCH)

    assert 'data-matched="1"' in response.content.decode()


def test_preview_needs_a_signed_in_user(client: Client) -> None:
    response = _preview(client, HIGH_TOUCH)

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_preview_refuses_a_post_without_csrf_token(csm: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(csm)

    response = _preview(client, HIGH_TOUCH)

    assert response.status_code == 403
