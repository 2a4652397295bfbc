"""Background entry points of tech-touch email sending."""

from __future__ import annotations

import time

from django.tasks import task

# A task run stops taking new batches after this long, so one run never holds a worker for
# ever; the next run (enqueued on queueing, or the periodic job) carries on.
RUN_SECONDS = 240


@task
def send_emails() -> int:
    """Send the due emails, batch after batch, until none is due (enqueued after queueing
    and every 30 seconds). Returns how many were sent."""
    from kizuna.engagement import sending

    sent = 0
    started = time.monotonic()
    while time.monotonic() - started < RUN_SECONDS:
        report = sending.send_due()
        sent += report.sent
        if not report.configured or report.error or report.claimed == 0:
            break
    return sent


@task
def poll_bounces() -> int:
    """Read the bounce mailbox (every 5 minutes when KIZUNA_BOUNCE_IMAP_URL is set)."""
    from kizuna.engagement import bounces

    return bounces.poll_imap().bounced
