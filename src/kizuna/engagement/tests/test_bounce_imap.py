"""Bounce notifications read from a real IMAP mailbox (a private Dovecot on localhost): a
permanent failure bounces the message and suppresses the address, a temporary one is kept as
a soft bounce, and every message read is marked seen so the next poll skips it."""

from __future__ import annotations

import imaplib
from collections.abc import Iterator

import pytest

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import bounces
from kizuna.engagement.choices import MessageStatus, SuppressionReason
from kizuna.engagement.models import EmailEvent, EmailMessage, Suppression
from kizuna.engagement.tests.factories import sent_email
from kizuna.engagement.tests.imap_server import ImapServer, running
from kizuna.engagement.tests.test_bounce_dsn import dsn

pytestmark = pytest.mark.django_db

DSN_SUBJECT = "Undelivered Mail Returned to Sender"
ORDINARY = (
    b"From: =?utf-8?b?5bGx55Sw?= <yamada@example.jp>\r\n"
    b"To: bounces@sorairo.example.jp\r\n"
    b"Subject: Out of office\r\n"
    b"Message-ID: <ooo-1@example.jp>\r\n"
    b"\r\n"
    b"I am away until Monday.\r\n"
)


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    # One server for the module (starting and stopping takes a second); each test gets an
    # empty mailbox from `mailbox`.
    with running() as server:
        yield server


@pytest.fixture
def mailbox(imap_server: ImapServer, settings) -> ImapServer:
    """The test server, emptied, with KIZUNA_BOUNCE_IMAP_URL pointing at its INBOX."""
    imap_server.clear()
    settings.ENGAGEMENT_BOUNCE_IMAP_URL = imap_server.url()
    return imap_server


def sent() -> EmailMessage:
    return sent_email(ContactFactory.create(email="gone@example.jp"))


def test_hard_bounce_in_the_mailbox_bounces_and_suppresses(mailbox):
    message = sent()
    mailbox.append(dsn(message, status="5.1.1", action="failed"))

    report = bounces.poll_imap()

    assert (report.read, report.bounced, report.errors) == (1, 1, [])
    message.refresh_from_db()
    assert message.status == MessageStatus.BOUNCED
    assert Suppression.objects.get(email="gone@example.jp").reason == SuppressionReason.HARD_BOUNCE


def test_read_notification_is_marked_seen_and_not_read_again(mailbox):
    message = sent()
    mailbox.append(dsn(message, status="5.1.1", action="failed"))
    bounces.poll_imap()

    second = bounces.poll_imap()

    assert mailbox.subjects("SEEN") == [DSN_SUBJECT]
    assert (second.read, second.bounced) == (0, 0)
    assert EmailEvent.objects.filter(message=message, kind="bounced").count() == 1


def test_ordinary_mail_is_marked_seen_and_changes_nothing(mailbox):
    message = sent()
    mailbox.append(ORDINARY)

    report = bounces.poll_imap()

    assert (report.read, report.bounced, report.soft, report.unmatched) == (1, 0, 0, 0)
    assert mailbox.subjects("SEEN") == ["Out of office"]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert not Suppression.objects.exists()


def test_notification_among_other_mail_is_applied(mailbox):
    message = sent()
    mailbox.append(ORDINARY)
    mailbox.append(dsn(message, status="5.1.1", action="failed"))

    report = bounces.poll_imap()

    assert (report.read, report.bounced) == (2, 1)
    assert mailbox.subjects("UNSEEN") == []
    message.refresh_from_db()
    assert message.status == MessageStatus.BOUNCED


def test_temporary_failure_is_a_soft_bounce_and_the_message_stays_sent(mailbox):
    message = sent()
    mailbox.append(dsn(message, status="4.2.2", action="delayed"))

    report = bounces.poll_imap()

    assert (report.read, report.soft, report.bounced) == (1, 1, 0)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert not Suppression.objects.exists()
    event = EmailEvent.objects.get(message=message, kind="bounced")
    assert event.detail == {"soft": True, "status": "4.2.2", "error": event.detail["error"]}
    assert "User unknown" in event.detail["error"]


def test_notification_for_a_message_we_do_not_know_is_counted_unmatched(mailbox):
    message = sent()
    raw = dsn(message, status="5.1.1", action="failed")
    message.delete()
    mailbox.append(raw)

    report = bounces.poll_imap()

    assert (report.read, report.unmatched, report.bounced) == (1, 1, 0)
    assert not Suppression.objects.exists()


def test_mailbox_named_in_the_url_is_read(mailbox):
    message = sent()
    mailbox.create_mailbox("Kizuna Bounces")
    mailbox.append(dsn(message, status="5.1.1", action="failed"), "Kizuna Bounces")

    report = bounces.poll_imap(mailbox.url("Kizuna Bounces"))

    assert (report.read, report.bounced) == (1, 1)
    assert mailbox.subjects("SEEN", "Kizuna Bounces") == [DSN_SUBJECT]


def test_wrong_password_is_refused_and_changes_nothing():
    message = sent()
    # A server of its own: after a failed login Dovecot delays every login from this
    # address for seconds, which would slow the other tests down.
    with running() as server:
        server.append(dsn(message, status="5.1.1", action="failed"))

        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            bounces.poll_imap(server.url(password="wrong"))

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_missing_mailbox_is_a_clear_error(mailbox):
    with pytest.raises(imaplib.IMAP4.error, match="Kizuna Bounces"):
        bounces.poll_imap(mailbox.url("Kizuna Bounces"))
