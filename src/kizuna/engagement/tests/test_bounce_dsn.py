"""Delivery status notifications (RFC 3464) returned to the bounce mailbox: a permanent
failure bounces the message and suppresses the address, a temporary one is only noted."""

from __future__ import annotations

import pytest

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import bounces, sending
from kizuna.engagement.choices import MessageStatus, SuppressionReason
from kizuna.engagement.models import EmailEvent, EmailMessage, Suppression
from kizuna.engagement.tests.factories_sending import template

pytestmark = pytest.mark.django_db

# As Postfix writes it (bounce(8)), with the returned message's headers.
POSTFIX_DSN = b"""\
Return-Path: <>
Received: by mx.sorairo.example.jp (Postfix) id 4F1C22A0B7; Mon, 16 Nov 2026 10:02:11 +0900 (JST)
Date: Mon, 16 Nov 2026 10:02:11 +0900 (JST)
From: MAILER-DAEMON@mx.sorairo.example.jp (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: cs@sorairo.example.jp
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4F1C22A0B7.1763254931/mx.sorairo.example.jp"
Message-Id: <20261116010211.4F1C22A0B7@mx.sorairo.example.jp>

This is a MIME-encapsulated message.

--4F1C22A0B7.1763254931/mx.sorairo.example.jp
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.sorairo.example.jp.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{rcpt}>: host mx.example.jp[192.0.2.10] said: {code} {status} <{rcpt}>:
    Recipient address rejected: User unknown in virtual mailbox table

--4F1C22A0B7.1763254931/mx.sorairo.example.jp
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sorairo.example.jp
X-Postfix-Queue-ID: 4F1C22A0B7
X-Postfix-Sender: rfc822; cs@sorairo.example.jp
Arrival-Date: Mon, 16 Nov 2026 10:02:09 +0900 (JST)

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.jp
Diagnostic-Code: smtp; {code} {status} <{rcpt}>: Recipient address rejected:
    User unknown in virtual mailbox table

--4F1C22A0B7.1763254931/mx.sorairo.example.jp
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <cs@sorairo.example.jp>
From: =?utf-8?b?56m66Imy44Os44Od44O844OI?= <cs@sorairo.example.jp>
To: {rcpt}
Subject: =?utf-8?b?5pyI5qyh44Os44Od44O844OI?=
Message-ID: <{token}@sorairo.example.jp>
{kizuna}
--4F1C22A0B7.1763254931/mx.sorairo.example.jp--
"""


def dsn(message: EmailMessage, *, status: str, action: str, header: bool = True) -> bytes:
    code = "550" if status.startswith("5") else "450"
    text = POSTFIX_DSN.decode()
    for key, value in {
        "{rcpt}": message.to_email,
        "{status}": status,
        "{code}": code,
        "{action}": action,
        "{token}": message.token,
        "{kizuna}": f"X-Kizuna-Message: {message.token}" if header else "",
    }.items():
        text = text.replace(key, value)
    return text.replace("\n", "\r\n").encode()


def sent_message(smtp_sink) -> EmailMessage:
    contact = ContactFactory.create(email="gone@example.jp")
    sending.queue_emails(template(), [contact.pk], source="campaign")
    sending.send_due()
    return EmailMessage.objects.get()


def test_parser_reads_recipient_status_and_our_header(smtp_sink):
    message = sent_message(smtp_sink)

    report = bounces.parse(dsn(message, status="5.1.1", action="failed"))

    assert report is not None
    assert report.token == message.token
    [recipient] = report.recipients
    assert recipient.recipient == "gone@example.jp"
    assert recipient.status == "5.1.1"
    assert recipient.action == "failed"
    assert "User unknown" in recipient.diagnostic


def test_permanent_failure_bounces_and_suppresses(smtp_sink):
    message = sent_message(smtp_sink)

    outcome = bounces.process(dsn(message, status="5.1.1", action="failed"))

    assert outcome == "bounced"
    message.refresh_from_db()
    assert message.status == MessageStatus.BOUNCED
    assert Suppression.objects.get(email="gone@example.jp").reason == SuppressionReason.HARD_BOUNCE


def test_message_found_by_message_id_without_our_header(smtp_sink):
    message = sent_message(smtp_sink)

    outcome = bounces.process(dsn(message, status="5.1.1", action="failed", header=False))

    assert outcome == "bounced"


def test_temporary_failure_is_a_soft_bounce_event_only(smtp_sink):
    message = sent_message(smtp_sink)

    outcome = bounces.process(dsn(message, status="4.2.2", action="delayed"))

    assert outcome == "soft"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert not Suppression.objects.exists()
    event = EmailEvent.objects.filter(message=message, kind="bounced").get()
    assert event.detail["soft"] is True


def test_ordinary_mail_is_ignored():
    assert bounces.process(b"From: someone@example.jp\r\nSubject: hello\r\n\r\nhi\r\n") == "ignored"
