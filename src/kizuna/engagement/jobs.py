"""Periodic jobs of tech-touch email: the send worker's safety net (queueing enqueues it
right away; this catches retries that came due and any enqueue that was missed) and, when a
bounce mailbox is configured, reading it."""

import datetime

from django.conf import settings

from kizuna.core import scheduler
from kizuna.engagement import tasks

scheduler.register(
    "engagement.send_emails", tasks.send_emails, every=datetime.timedelta(seconds=30)
)
if settings.ENGAGEMENT_BOUNCE_IMAP_URL:
    scheduler.register(
        "engagement.poll_bounces", tasks.poll_bounces, every=datetime.timedelta(minutes=5)
    )
