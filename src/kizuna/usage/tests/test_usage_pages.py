"""Usage on the account 360, the contact page, the account list and the timeline."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.customers.tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from kizuna.usage.tests.helpers import at, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def used_account():
    account = AccountFactory.create(name="株式会社サクラ物流", external_id="SF-1")
    SubscriptionFactory.create(account=account, seats=8)
    for i in range(3):
        ContactFactory.create(account=account, product_user_id=f"u{i}")
    other = AccountFactory.create(external_id="SF-2")
    ContactFactory.create(account=other, product_user_id="x0")
    store(
        [
            ("u0", "Logged In", at(1)),
            ("u1", "Logged In", at(2)),
            ("u1", "Report Exported", at(2)),
            ("x0", "Workflow Created", at(5)),
        ]
        + [("u0", "Report Exported", at(0, hour=9))] * 3
    )
    return account


def test_account_page_loads_the_usage_panel_lazily(csm_client: Client, used_account):
    response = csm_client.get(reverse("customers:account", args=[used_account.pk]))

    assert f'hx-get="{reverse("usage:account_panel", args=[used_account.pk])}"' in response.text


def test_usage_panel_shows_active_users_against_seats(viewer_client: Client, used_account):
    response = viewer_client.get(reverse("usage:account_panel", args=[used_account.pk]))

    assert response.status_code == 200
    page = response.text
    assert 'id="usage-panel"' in page
    assert "Login rate 25% of licensed seats" in page  # 2 active users, 8 seats
    assert "<rect" in page and "Events per day" in page
    assert "Report Exported" in page  # top feature
    assert "Workflow Created" in page  # never used by this customer


def test_usage_panel_of_an_account_without_usage(csm_client: Client):
    account = AccountFactory.create()

    response = csm_client.get(reverse("usage:account_panel", args=[account.pk]))

    assert "No product usage yet" in response.text


def test_usage_panel_query_count(csm_client: Client, used_account, django_assert_num_queries):
    # session, user, account, daily series, activity, active users, seats, login events,
    # logins, feature users, top features, unused features
    with django_assert_num_queries(12):
        csm_client.get(reverse("usage:account_panel", args=[used_account.pk]))


def test_usage_panel_needs_sign_in(used_account):
    response = Client().get(reverse("usage:account_panel", args=[used_account.pk]))

    assert response.status_code == 302


def test_contact_panel_shows_recent_activity(csm_client: Client, used_account):
    contact = used_account.contacts.get(product_user_id="u0")

    response = csm_client.get(reverse("usage:contact_panel", args=[contact.pk]))

    assert response.status_code == 200
    assert response.text.count("Report Exported") >= 3
    assert 'id="contact-recent-events"' in response.text


def test_contact_page_loads_the_activity_lazily(csm_client: Client, used_account):
    contact = used_account.contacts.first()

    response = csm_client.get(reverse("customers:contact", args=[contact.pk]))

    assert reverse("usage:contact_panel", args=[contact.pk]) in response.text


def test_account_list_shows_logins_in_the_last_30_days(csm_client: Client, used_account):
    response = csm_client.get(reverse("customers:accounts"))

    assert "Logins (30 days)" in response.text
    row = next(r for r in response.text.split("<tr>") if "株式会社サクラ物流" in r)
    assert '<td class="num">2</td>' in row


def test_account_list_sorts_by_logins(csm_client: Client, used_account):
    AccountFactory.create(name="あああ株式会社", name_kana="アアア")

    response = csm_client.get(reverse("customers:accounts"), {"sort": "-logins"})

    names = [account.name for account in response.context["page"].object_list]
    assert names[0] == "株式会社サクラ物流"


def test_account_list_query_count_is_unchanged(
    csm_client: Client, used_account, django_assert_num_queries
):
    with django_assert_num_queries(6):
        csm_client.get(reverse("customers:accounts"), {"q": "サクラ", "sort": "-logins"})


def test_timeline_summarises_usage_per_day(csm_client: Client, used_account):
    response = csm_client.get(reverse("customers:account_timeline", args=[used_account.pk]))

    page = response.text
    assert "Product usage" in page
    assert "2 events by 1 user" in page
    assert "1 × Logged In" in page


def test_timeline_can_show_usage_alone(csm_client: Client, used_account):
    response = csm_client.get(
        reverse("customers:account_timeline", args=[used_account.pk]), {"source": "usage"}
    )

    sources = {entry.source for entry in response.context["timeline_entries"]}
    assert sources == {"usage"}
