"""The demo's mail catcher receives what Kizuna sends, keeps it in a Maildir, and the
mailbox page lists and shows it."""

from __future__ import annotations

import mailbox as std_mailbox
from collections.abc import Iterator

import pytest
from django.urls import reverse

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import mailbox, sending
from kizuna.engagement.tests.factories_sending import template
from kizuna.engagement.tests.smtp_sink import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def catcher(settings, tmp_path, monkeypatch) -> Iterator[tuple[str, int]]:
    settings.DATA_DIR = tmp_path
    monkeypatch.setenv("KIZUNA_DEMO_SMTP_PORT", str(free_port()))
    address = mailbox.start_catcher()
    assert address is not None
    yield address
    mailbox.stop_catcher()


def test_caught_messages_are_stored_and_shown(catcher, settings, admin_client_user):
    client, _user = admin_client_user
    contact = ContactFactory.create(name="佐藤 花子")
    sending.queue_emails(
        template(subject_ja="ようこそ {{ contact.name }} 様"), [contact.pk], source="campaign"
    )

    report = sending.send_due()

    assert settings.ENGAGEMENT_SMTP["port"] == catcher[1]
    assert report.sent == 1
    assert len(std_mailbox.Maildir(settings.DATA_DIR / "mailbox")) == 1
    listing = client.get(reverse("engagement:mailbox")).content.decode()
    assert "ようこそ 佐藤 花子 様" in listing
    [caught] = mailbox.caught()
    shown = client.get(reverse("engagement:mailbox_message", args=[caught.key])).content.decode()
    assert "X-Kizuna-Message" in shown
    assert 'sandbox=""' in shown


def test_without_catcher_the_page_says_so(admin_client_user, settings):
    client, _user = admin_client_user
    settings.ENGAGEMENT_SMTP = {**settings.ENGAGEMENT_SMTP, "host": "mail.example.jp"}

    response = client.get(reverse("engagement:mailbox"))

    assert "No mail catcher is running" in response.content.decode()
