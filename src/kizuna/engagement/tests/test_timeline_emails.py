"""Emails on the account timeline (how far each got, with who it went to) and on the
contact page's emails panel."""

from __future__ import annotations

import pytest

from kizuna.customers import timeline as account_timeline
from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import timeline  # noqa: F401  (registers the "email" source)
from kizuna.engagement.models import Preference, Suppression
from kizuna.engagement.tests.factories import CategoryFactory, sent_email

pytestmark = pytest.mark.django_db


def _entries(account):
    return account_timeline.timeline(account, sources=["email"])


def test_a_sent_email_is_on_the_accounts_timeline_with_its_contact():
    contact = ContactFactory.create(name="佐藤 美咲")
    message = sent_email(contact, subject="ご利用開始のご案内")
    [entry] = _entries(contact.account)
    assert entry.title == "ご利用開始のご案内"
    assert entry.at == message.sent_at
    assert entry.people == ("佐藤 美咲",)
    assert entry.url == f"/contacts/{contact.pk}/"
    assert message.template.name in entry.detail


def test_the_entry_shows_the_furthest_step():
    contact = ContactFactory.create()
    sent_email(contact, clicked=True, click_count=2, open_count=1)
    [entry] = _entries(contact.account)
    assert entry.rating_label == "Clicked"
    assert "clicked 2×" in entry.detail


def test_a_held_email_says_which_rule_held_it():
    contact = ContactFactory.create()
    sent_email(
        contact,
        status="held",
        sent_at=None,
        reason="frequency_cap",
        reason_detail="2 in 7 days: 2 sent since 11/20",
    )
    [entry] = _entries(contact.account)
    assert entry.rating_label == "Held back"
    assert "Frequency cap — 2 in 7 days" in entry.detail


def test_a_skipped_email_says_why():
    contact = ContactFactory.create()
    sent_email(contact, status="skipped", sent_at=None, reason="unsubscribed")
    [entry] = _entries(contact.account)
    assert entry.rating_label == "Skipped"
    assert "Unsubscribed from this category" in entry.detail


def test_test_sends_are_not_on_the_timeline():
    contact = ContactFactory.create()
    sent_email(contact, source="test")
    assert _entries(contact.account) == []


def test_entries_are_newest_first_and_paged_by_time():
    contact = ContactFactory.create()
    old = sent_email(contact, days_ago=5, subject="old")
    sent_email(contact, days_ago=1, subject="new")
    assert [e.title for e in _entries(contact.account)] == ["new", "old"]
    older = account_timeline.timeline(contact.account, sources=["email"], before=old.sent_at)
    assert older == []


def test_the_account_timeline_page_shows_emails(csm_client):
    contact = ContactFactory.create()
    sent_email(contact, subject="ご利用開始のご案内")
    response = csm_client.get(f"/accounts/{contact.account_id}/timeline/")
    assert "ご利用開始のご案内" in response.content.decode()


def test_the_contact_panel_lists_the_contacts_emails(viewer_client):
    contact = ContactFactory.create()
    sent_email(contact, subject="ご利用開始のご案内", opened=True)
    sent_email(ContactFactory.create(account=contact.account), subject="他の人宛")
    body = viewer_client.get(f"/contacts/{contact.pk}/emails/").content.decode()
    assert "ご利用開始のご案内" in body
    assert "Opened" in body
    assert "他の人宛" not in body


def test_the_contact_panel_shows_the_contacts_consent(viewer_client):
    contact = ContactFactory.create(email="misaki@example.jp")
    Preference.objects.create(
        contact=contact, category=CategoryFactory.create(name_en="Webinars"), subscribed=False
    )
    body = viewer_client.get(f"/contacts/{contact.pk}/emails/").content.decode()
    assert "Webinars" in body
    Suppression.objects.create(email="misaki@example.jp", reason="hard_bounce")
    body = viewer_client.get(f"/contacts/{contact.pk}/emails/").content.decode()
    assert "Suppressed: Hard bounce" in body
