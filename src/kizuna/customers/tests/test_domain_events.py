"""Changes to customer data are published as domain events inside their transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.core import events
from kizuna.customers.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[events.DomainEvent]]:
    seen: list[events.DomainEvent] = []
    monkeypatch.setattr(events, "_SUBSCRIBERS", [seen.extend])
    yield seen


def test_creating_an_account_publishes_account_created(
    csm_client: Client, received: list[events.DomainEvent]
) -> None:
    csm_client.post(
        reverse("customers:account_new"),
        {"name": "株式会社ヒカリ", "industry": "other", "stage": "onboarding"},
    )
    assert [event.type for event in received] == ["account.created"]
    assert received[0].changes["name"] == ["", "株式会社ヒカリ"]


def test_saving_without_changes_publishes_nothing(
    csm_client: Client, received: list[events.DomainEvent]
) -> None:
    account = AccountFactory.create(
        name="株式会社ヒカリ", name_kana="", domain="", external_id=None, stage="onboarding"
    )
    csm_client.post(
        reverse("customers:account_edit", args=[account.pk]),
        {"name": "株式会社ヒカリ", "industry": "other", "stage": "onboarding"},
    )
    assert received == []


def test_deleting_publishes_the_deleted_row(
    manager_client: Client, received: list[events.DomainEvent]
) -> None:
    account = AccountFactory.create()
    manager_client.post(reverse("customers:account_delete", args=[account.pk]))
    assert [(event.type, event.object_id) for event in received] == [
        ("account.deleted", account.pk)
    ]
