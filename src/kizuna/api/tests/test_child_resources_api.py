"""Contacts, subscriptions, opportunities and touchpoints through the REST API: created on
an account, validated by the UI's forms, rollups follow, and a record never moves between
accounts."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kizuna.core.models import Role
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.models import Account, Contact, Opportunity, Subscription, Touchpoint
from kizuna.customers.tests.factories import (
    AccountFactory,
    ContactFactory,
    OpportunityFactory,
    SubscriptionFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db


def test_a_contact_is_created_on_its_account(api) -> None:
    account = AccountFactory.create()

    response = api.post(
        "/api/v1/contacts",
        {
            "account_id": account.pk,
            "name": "山田 花子",
            "email": "hanako@example.jp",
            "is_champion": True,
            "product_user_id": "u-1",
        },
    )

    assert response.status_code == 201
    contact = Contact.objects.get()
    assert (contact.account, contact.is_champion, contact.product_user_id) == (account, True, "u-1")


def test_a_child_of_an_unknown_account_is_a_422(api) -> None:
    response = api.post("/api/v1/contacts", {"account_id": 999999, "name": "山田 花子"})

    assert response.status_code == 422
    assert "account_id" in response.json()["error"]["fields"]


def test_a_bad_email_is_a_422_from_the_form(api) -> None:
    account = AccountFactory.create()

    response = api.post(
        "/api/v1/contacts", {"account_id": account.pk, "name": "山田 花子", "email": "not-an-email"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"email": ["Enter a valid email address."]}


def test_a_record_cannot_move_to_another_account(api) -> None:
    contact = ContactFactory.create(external_id="C-1")
    other = AccountFactory.create()

    response = api.put("/api/v1/contacts/by-external-id/C-1", {"account_id": other.pk})

    assert response.status_code == 422
    assert "account_id" in response.json()["error"]["fields"]
    contact.refresh_from_db()
    assert contact.account_id != other.pk


def test_contacts_are_listed_per_account(api) -> None:
    account = AccountFactory.create()
    mine = ContactFactory.create(account=account)
    ContactFactory.create()

    response = api.get("/api/v1/contacts", account_id=account.pk)

    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


def test_a_subscription_updates_the_account_rollups(api) -> None:
    account = AccountFactory.create()
    today = timezone.localdate()

    response = api.post(
        "/api/v1/subscriptions",
        {
            "account_id": account.pk,
            "product": "Kizuna Cloud",
            "mrr": 500000,
            "start_date": str(today - datetime.timedelta(days=30)),
            "end_date": str(today + datetime.timedelta(days=335)),
        },
    )

    assert response.status_code == 201
    assert response.json()["arr"] == "6000000.00"  # derived: 12 × MRR
    account.refresh_from_db()
    assert account.arr == Decimal(6_000_000)
    assert account.tier == "high"
    assert api.get(f"/api/v1/accounts/{account.pk}").json()["arr"] == "6000000.00"


def test_patching_mrr_derives_arr_again(api) -> None:
    subscription = SubscriptionFactory.create(mrr=Decimal(100), arr=Decimal(1200))

    response = api.patch(f"/api/v1/subscriptions/{subscription.pk}", {"mrr": 200})

    assert response.json()["arr"] == "2400.00"


def test_an_end_before_the_start_is_a_422(api) -> None:
    account = AccountFactory.create()

    response = api.post(
        "/api/v1/subscriptions",
        {
            "account_id": account.pk,
            "product": "Kizuna",
            "mrr": 1,
            "start_date": "2026-04-01",
            "end_date": "2026-03-01",
        },
    )

    assert response.status_code == 422
    assert "end_date" in response.json()["error"]["fields"]
    assert not Subscription.objects.exists()


def test_deleting_a_subscription_updates_the_rollups(api) -> None:
    subscription = SubscriptionFactory.create()
    from kizuna.customers import services

    services.refresh_rollups()

    assert api.delete(f"/api/v1/subscriptions/{subscription.pk}").status_code == 204
    assert Account.objects.get(pk=subscription.account_id).arr == 0


def test_an_opportunity_takes_an_external_id_and_upserts(api) -> None:
    account = AccountFactory.create()
    body = {
        "account_id": account.pk,
        "name": "追加ライセンス",
        "kind": "upsell",
        "amount": "600000",
        "close_date": "2026-09-30",
    }

    created = api.put("/api/v1/opportunities/by-external-id/OPP-1", body)
    updated = api.put("/api/v1/opportunities/by-external-id/OPP-1", {"stage": "won"})

    assert (created.status_code, updated.status_code) == (201, 200)
    opportunity = Opportunity.objects.get()
    assert (opportunity.external_id, opportunity.stage) == ("OPP-1", "won")


def test_open_opportunities_are_filtered(api) -> None:
    open_one = OpportunityFactory.create(stage="proposal")
    OpportunityFactory.create(stage="won")

    response = api.get("/api/v1/opportunities", open="true")

    assert [row["id"] for row in response.json()["results"]] == [open_one.pk]


def test_a_touchpoint_is_logged_with_contacts_and_author(api) -> None:
    account = AccountFactory.create()
    contact = ContactFactory.create(account=account)
    csm = UserFactory.create(role=Role.CSM)

    response = api.post(
        "/api/v1/touchpoints",
        {
            "account_id": account.pk,
            "kind": "meeting",
            "occurred_at": "2026-01-15T10:00:00+09:00",
            "rating": "very_good",
            "subject": "定例",
            "contact_ids": [contact.pk],
            "author_id": csm.pk,
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["contact_ids"] == [contact.pk]
    assert body["author_id"] == csm.pk
    assert body["occurred_at"] == "2026-01-15T01:00:00Z"


def test_a_touchpoint_author_defaults_to_the_key(make_token) -> None:
    from kizuna.api import services
    from kizuna.api.tests.conftest import ApiClient

    key, token = services.create_api_key(None, name="CRM", role=Role.CSM)
    account = AccountFactory.create()

    ApiClient(token).post(
        "/api/v1/touchpoints",
        {
            "account_id": account.pk,
            "kind": "call",
            "occurred_at": "2026-01-15T10:00:00",
            "subject": "電話",
        },
    )

    assert Touchpoint.objects.get().author_id == key.user_id


def test_a_touchpoint_with_another_accounts_contact_is_a_422(api) -> None:
    account = AccountFactory.create()
    stranger = ContactFactory.create()

    response = api.post(
        "/api/v1/touchpoints",
        {
            "account_id": account.pk,
            "kind": "call",
            "occurred_at": "2026-01-15T10:00:00",
            "subject": "電話",
            "contact_ids": [stranger.pk],
        },
    )

    assert response.status_code == 422
    assert "contact_ids" in response.json()["error"]["fields"]


def test_a_touchpoint_in_the_future_is_a_422(api) -> None:
    account = AccountFactory.create()
    later = (timezone.now() + datetime.timedelta(days=3)).isoformat()

    response = api.post(
        "/api/v1/touchpoints",
        {"account_id": account.pk, "kind": "call", "occurred_at": later, "subject": "電話"},
    )

    assert response.status_code == 422
    assert response.json()["error"]["fields"]["occurred_at"] == [
        "A touchpoint cannot be logged in the future."
    ]


def test_patching_a_touchpoint_keeps_its_exact_time(api) -> None:
    touchpoint = TouchpointFactory.create()
    occurred_at = touchpoint.occurred_at

    api.patch(f"/api/v1/touchpoints/{touchpoint.pk}", {"subject": "更新"})

    touchpoint.refresh_from_db()
    assert touchpoint.occurred_at == occurred_at
    assert touchpoint.subject == "更新"


def test_touchpoints_are_filtered_by_time_and_contact(api) -> None:
    contact = ContactFactory.create()
    recent = TouchpointFactory.create(account=contact.account)
    recent.contacts.add(contact)
    TouchpointFactory.create(
        account=contact.account, occurred_at=timezone.now() - datetime.timedelta(days=90)
    )
    since = (timezone.now() - datetime.timedelta(days=30)).isoformat()

    by_time = api.get("/api/v1/touchpoints", account_id=contact.account_id, occurred_after=since)
    by_contact = api.get("/api/v1/touchpoints", contact_id=contact.pk)

    assert [row["id"] for row in by_time.json()["results"]] == [recent.pk]
    assert [row["id"] for row in by_contact.json()["results"]] == [recent.pk]


@pytest.mark.parametrize("resource", ["contacts", "subscriptions", "opportunities", "touchpoints"])
def test_an_unknown_id_is_a_404(api, resource: str) -> None:
    assert api.get(f"/api/v1/{resource}/424242").status_code == 404
    assert api.patch(f"/api/v1/{resource}/424242", {}).status_code == 404
    assert api.delete(f"/api/v1/{resource}/424242").status_code == 404


def test_a_viewer_key_cannot_delete_a_contact(viewer_api) -> None:
    contact = ContactFactory.create()

    assert viewer_api.delete(f"/api/v1/contacts/{contact.pk}").status_code == 403
    assert Contact.objects.exists()


def test_an_id_beyond_any_database_integer_is_a_422(api) -> None:
    account = AccountFactory.create()

    response = api.post(
        "/api/v1/touchpoints",
        {
            "account_id": account.pk,
            "kind": "call",
            "occurred_at": "2026-01-15T10:00:00",
            "subject": "電話",
            "contact_ids": [2**70],
        },
    )

    assert response.status_code == 422
    assert "contact_ids.0" in response.json()["error"]["fields"]
