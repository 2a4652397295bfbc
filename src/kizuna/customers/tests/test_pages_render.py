"""Every page answers for a signed-in user, in both languages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.customers.tests.factories import (
    AccountFactory,
    ContactFactory,
    OpportunityFactory,
    SubscriptionFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    account = AccountFactory.create()
    SubscriptionFactory.create(account=account)
    ContactFactory.create(account=account)
    OpportunityFactory.create(account=account)
    TouchpointFactory.create(account=account)
    return account


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_page_renders(admin_client_user, account, language: str) -> None:
    client: Client = admin_client_user[0]
    client.cookies["django_language"] = language
    contact = account.contacts.get()
    urls = [
        reverse("customers:home"),
        reverse("customers:accounts"),
        reverse("customers:accounts") + "?q=テスト&sort=-arr&tier=low",
        reverse("customers:account", args=[account.pk]),
        reverse("customers:account_edit", args=[account.pk]),
        reverse("customers:account_new"),
        reverse("customers:account_timeline", args=[account.pk]),
        reverse("customers:contact", args=[contact.pk]),
        reverse("customers:contact_edit", args=[contact.pk]),
        reverse("customers:contact_new", args=[account.pk]),
        reverse("customers:subscription_new", args=[account.pk]),
        reverse("customers:opportunity_new", args=[account.pk]),
        reverse("customers:tiers"),
        reverse("customers:custom_fields"),
        reverse("customers:custom_field_new"),
        reverse("core:users"),
        reverse("core:user_new"),
        reverse("core:audit"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
