"""Two workers sending at the same time (PostgreSQL, separate connections) never send a
message twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import sending
from kizuna.engagement.choices import MessageStatus
from kizuna.engagement.models import EmailMessage, EngagementSettings
from kizuna.engagement.tests.factories_sending import template

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has one writer; PostgreSQL's SKIP LOCKED"
)
def test_two_workers_send_each_message_once(smtp_sink):
    EngagementSettings.objects.update_or_create(pk=1, defaults={"send_rate": 10000})
    contacts = ContactFactory.create_batch(60)
    sending.queue_emails(template(), [c.pk for c in contacts], source="campaign")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            while sending.send_due(limit=7).claimed:
                pass
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert errors == []
    assert sorted(smtp_sink.recipients()) == sorted(c.email for c in contacts)
    assert set(EmailMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
