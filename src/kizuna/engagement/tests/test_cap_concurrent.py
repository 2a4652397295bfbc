"""Two sources queueing for the same contacts at the same moment cannot both pass the cap
(PostgreSQL, separate connections)."""

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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers: PostgreSQL")
def test_concurrent_queueing_respects_the_cap():
    EngagementSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 1})
    contact_ids = [c.pk for c in ContactFactory.create_batch(50)]
    templates = [template("A", team="Marketing"), template("B", team="CS")]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def queue(tpl) -> None:
        try:
            barrier.wait()
            sending.queue_emails(tpl, contact_ids, source="campaign")
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=queue, args=(tpl,)) for tpl in templates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    queued = EmailMessage.objects.filter(status=MessageStatus.QUEUED)
    assert queued.count() == 50
    assert EmailMessage.objects.filter(status=MessageStatus.HELD).count() == 50
