"""identify, group and alias: who is who, and the accounts and contacts they create or
update (audited, with domain events), once per message."""

from __future__ import annotations

import pytest
from django.test import Client

from kizuna.core import events
from kizuna.core.models import AuditEntry
from kizuna.customers.models import Account, Contact, CustomFieldDefinition
from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.usage.models import Event, IdentityLink
from kizuna.usage.tests.helpers import post

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client()


def identify(user_id, traits=None, **fields):
    return {"type": "identify", "userId": user_id, "traits": traits or {}, **fields}


def group(user_id, group_id, traits=None, **fields):
    return {
        "type": "group",
        "userId": user_id,
        "groupId": group_id,
        "traits": traits or {},
        **fields,
    }


def send(client, key, *messages):
    return post(client, "/v1/batch", {"batch": list(messages)}, key=key).json()


def test_identify_creates_the_contact_in_the_context_account(client, write_key):
    account = AccountFactory.create(external_id="SF-1")

    send(
        client,
        write_key,
        identify(
            "user-1",
            {"firstName": "太郎", "lastName": "山田", "email": "taro@example.jp", "title": "部長"},
            context={"groupId": "SF-1"},
        ),
    )

    contact = Contact.objects.get(product_user_id="user-1")
    assert (contact.account_id, contact.name, contact.email, contact.title) == (
        account.pk,
        "山田 太郎",
        "taro@example.jp",
        "部長",
    )


def test_identify_traits_in_context_count_too(client, write_key):
    AccountFactory.create(external_id="SF-1")

    send(
        client,
        write_key,
        {
            "type": "identify",
            "userId": "user-1",
            "context": {"groupId": "SF-1", "traits": {"name": "佐藤 花子"}},
        },
    )

    assert Contact.objects.get(product_user_id="user-1").name == "佐藤 花子"


def test_identify_without_an_account_waits_for_the_group_call(client, write_key):
    send(client, write_key, identify("user-1", {"name": "佐藤 花子", "email": "hanako@example.jp"}))
    assert not Contact.objects.exists()

    send(client, write_key, group("user-1", "SF-9", {"name": "株式会社サクラ物流"}))

    contact = Contact.objects.get(product_user_id="user-1")
    assert (contact.name, contact.email, contact.account.external_id) == (
        "佐藤 花子",
        "hanako@example.jp",
        "SF-9",
    )


def test_identify_updates_the_contact_and_audits_it(client, write_key):
    contact = ContactFactory.create(product_user_id="user-1", title="")

    send(client, write_key, identify("user-1", {"title": "情報システム部 課長"}))

    contact.refresh_from_db()
    assert contact.title == "情報システム部 課長"
    entry = AuditEntry.objects.get(object_type="customers.contact", action="update")
    assert entry.changes["title"] == ["", "情報システム部 課長"]


def test_identify_with_a_bad_email_applies_the_rest_and_warns(client, write_key):
    contact = ContactFactory.create(product_user_id="user-1", email="old@example.jp")

    body = send(client, write_key, identify("user-1", {"email": "not-an-email", "title": "主任"}))

    contact.refresh_from_db()
    assert (contact.email, contact.title) == ("old@example.jp", "主任")
    assert "not an email address" in body["warnings"][0]["warning"]


def test_identify_with_a_company_creates_the_account(client, write_key):
    send(
        client,
        write_key,
        identify(
            "user-1", {"name": "伊藤 健", "company": {"id": "C-7", "name": "ミドリ精機株式会社"}}
        ),
    )

    contact = Contact.objects.get(product_user_id="user-1")
    assert (contact.account.external_id, contact.account.name) == ("C-7", "ミドリ精機株式会社")


def test_group_creates_the_account_from_traits(client, write_key):
    send(
        client,
        write_key,
        group(
            "user-1",
            "SF-42",
            {
                "name": "株式会社アオゾラ商事",
                "industry": "Retail & e-commerce",
                "employees": "1,200",
                "website": "https://www.aozora.example/",
            },
        ),
    )

    account = Account.objects.get(external_id="SF-42")
    assert (account.name, account.industry, account.employees, account.domain) == (
        "株式会社アオゾラ商事",
        "retail",
        1200,
        "aozora.example",
    )


def test_group_updates_the_account_and_its_custom_fields(client, write_key):
    account = AccountFactory.create(external_id="SF-1", name="旧社名")
    CustomFieldDefinition.objects.create(
        key="plan_code", label_ja="プラン", label_en="Plan", field_type="text"
    )

    send(client, write_key, group("u", "SF-1", {"name": "新社名", "plan_code": "ENT", "misc": 1}))

    account.refresh_from_db()
    assert (account.name, account.custom_attributes) == ("新社名", {"plan_code": "ENT"})
    assert Event.objects.get(type="group").properties["traits"]["misc"] == 1


def test_group_with_an_invalid_custom_value_warns(client, write_key):
    AccountFactory.create(external_id="SF-1")
    CustomFieldDefinition.objects.create(
        key="seats_used", label_ja="利用席", label_en="Seats used", field_type="number"
    )

    body = send(client, write_key, group("u", "SF-1", {"seats_used": "many"}))

    assert body["warnings"][0]["warning"].startswith("traits.seats_used")
    assert Account.objects.get().custom_attributes == {}


def test_group_with_an_unknown_industry_warns_and_keeps_the_industry(client, write_key):
    account = AccountFactory.create(external_id="SF-1", industry="finance")

    body = send(client, write_key, group("u", "SF-1", {"industry": "Fintech"}))

    account.refresh_from_db()
    assert account.industry == "finance"
    assert "Fintech" in body["warnings"][0]["warning"]


def test_group_does_not_move_a_contact_of_another_account(client, write_key):
    contact = ContactFactory.create(product_user_id="user-1")
    AccountFactory.create(external_id="SF-OTHER")

    send(client, write_key, group("user-1", "SF-OTHER"))

    contact.refresh_from_db()
    assert contact.account.external_id != "SF-OTHER"


def test_retried_identify_changes_nothing_twice(client, write_key):
    ContactFactory.create(product_user_id="user-1", title="")
    message = identify("user-1", {"title": "部長"}, messageId="m-1")
    send(client, write_key, message)
    audit_entries = AuditEntry.objects.count()

    body = send(client, write_key, message)

    assert (body["stored"], body["duplicates"]) == (0, 1)
    assert AuditEntry.objects.count() == audit_entries


def test_group_publishes_a_domain_event(client, write_key, monkeypatch):
    published = []
    monkeypatch.setattr(events, "_SUBSCRIBERS", [lambda batch: published.extend(batch)])

    send(client, write_key, group("user-1", "SF-NEW", {"name": "株式会社ニュー"}))

    assert [event.type for event in published] == ["account.created", "contact.created"]


def test_alias_links_the_previous_id(client, write_key):
    contact = ContactFactory.create(product_user_id="user-1")
    send(client, write_key, {"type": "alias", "previousId": "anon-1", "userId": "user-1"})

    send(client, write_key, {"type": "track", "anonymousId": "anon-1", "event": "Clicked"})

    assert IdentityLink.objects.get().user_id == "user-1"
    assert Event.objects.get(type="track").contact_id == contact.pk


def test_alias_renames_the_contact_known_by_the_previous_id(client, write_key):
    contact = ContactFactory.create(product_user_id="old-id")

    send(client, write_key, {"type": "alias", "previousId": "old-id", "userId": "new-id"})

    contact.refresh_from_db()
    assert contact.product_user_id == "new-id"


def test_identify_in_a_batch_attributes_the_tracks_after_it(client, write_key):
    AccountFactory.create(external_id="SF-1")

    send(
        client,
        write_key,
        {"type": "track", "userId": "user-1", "event": "Clicked"},
        identify("user-1", {"name": "新人"}, context={"groupId": "SF-1"}),
    )

    track = Event.objects.get(type="track")
    assert track.contact_id == Contact.objects.get(product_user_id="user-1").pk
