"""Logging touchpoints from the account page and reading the merged timeline."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kizuna.core.models import User
from kizuna.customers import timeline
from kizuna.customers.tests.factories import (
    AccountFactory,
    ContactFactory,
    OpportunityFactory,
    SubscriptionFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db


def _touchpoint(**overrides: str) -> dict[str, str]:
    data = {
        "kind": "meeting",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "channel": "video",
        "rating": "very_good",
        "subject": "活用状況の定例",
        "body": "ログイン率が上がった。",
    }
    data.update(overrides)
    return data


def test_logging_a_touchpoint_with_htmx_returns_the_new_timeline(
    csm: User, csm_client: Client
) -> None:
    account = AccountFactory.create()
    contact = ContactFactory.create(account=account)
    response = csm_client.post(
        reverse("customers:touchpoint_log", args=[account.pk]),
        {**_touchpoint(), "contacts": [str(contact.pk)]},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    touchpoint = account.touchpoints.get()
    assert touchpoint.author == csm
    assert list(touchpoint.contacts.all()) == [contact]
    assert 'hx-swap-oob="innerHTML"' in body and "活用状況の定例" in body


def test_invalid_touchpoint_shows_errors_and_saves_nothing(csm_client: Client) -> None:
    account = AccountFactory.create()
    response = csm_client.post(
        reverse("customers:touchpoint_log", args=[account.pk]),
        _touchpoint(subject="", kind="teleport"),
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert "This field is required" in body
    assert "Select a valid choice" in body
    assert account.touchpoints.count() == 0


def test_touchpoint_in_the_future_is_refused(csm_client: Client) -> None:
    account = AccountFactory.create()
    later = timezone.localtime() + datetime.timedelta(days=3)
    csm_client.post(
        reverse("customers:touchpoint_log", args=[account.pk]),
        _touchpoint(occurred_at=later.strftime("%Y-%m-%dT%H:%M")),
    )
    assert account.touchpoints.count() == 0


def test_contact_of_another_account_cannot_be_linked(csm_client: Client) -> None:
    account = AccountFactory.create()
    stranger = ContactFactory.create()
    csm_client.post(
        reverse("customers:touchpoint_log", args=[account.pk]),
        {**_touchpoint(), "contacts": [str(stranger.pk)]},
    )
    assert account.touchpoints.count() == 0


def test_timeline_merges_sources_newest_first() -> None:
    account = AccountFactory.create()
    now = timezone.now()
    TouchpointFactory.create(
        account=account, subject="古い", occurred_at=now - datetime.timedelta(days=9)
    )
    TouchpointFactory.create(
        account=account, subject="新しい", occurred_at=now - datetime.timedelta(hours=1)
    )
    SubscriptionFactory.create(
        account=account, start_date=timezone.localdate() - datetime.timedelta(days=4)
    )
    OpportunityFactory.create(account=account)
    entries = timeline.timeline(account)
    assert [entry.at for entry in entries] == sorted((e.at for e in entries), reverse=True)
    assert {entry.source for entry in entries} == {"touchpoint", "contract", "opportunity"}
    assert entries[-1].title == "古い"


def test_timeline_filters_by_source() -> None:
    account = AccountFactory.create()
    TouchpointFactory.create(account=account)
    SubscriptionFactory.create(account=account)
    entries = timeline.timeline(account, sources=["contract"])
    assert {entry.source for entry in entries} == {"contract"}


def test_timeline_pages_backwards_in_time(csm_client: Client) -> None:
    account = AccountFactory.create()
    now = timezone.now()
    for day in range(30):
        TouchpointFactory.create(
            account=account, subject=f"tp{day}", occurred_at=now - datetime.timedelta(days=day)
        )
    first = csm_client.get(reverse("customers:account_timeline", args=[account.pk]))
    next_before = first.context["timeline_next"]
    older = csm_client.get(
        reverse("customers:account_timeline", args=[account.pk]), {"before": next_before}
    )
    shown = [e.title for e in first.context["timeline_entries"]]
    shown += [e.title for e in older.context["timeline_entries"]]
    assert shown == [f"tp{day}" for day in range(30)]


def test_contact_page_lists_touchpoints_with_the_contact(csm_client: Client) -> None:
    contact = ContactFactory.create()
    touchpoint = TouchpointFactory.create(account=contact.account, subject="キックオフ")
    touchpoint.contacts.add(contact)
    response = csm_client.get(reverse("customers:contact", args=[contact.pk]))
    assert "キックオフ" in response.content.decode()
