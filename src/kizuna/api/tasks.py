"""Background entry points of the api app: sending webhook deliveries."""

from __future__ import annotations

import datetime

from django.tasks import task
from django.utils import timezone

from kizuna.api import webhooks
from kizuna.api.models import DeliveryStatus, WebhookDelivery

# Finished deliveries are kept this long in the log.
KEEP_DELIVERIES = datetime.timedelta(days=30)


@task
def deliver_webhooks(delivery_ids: list[int]) -> int:
    """Send the given deliveries now (queued right after the change is committed)."""
    sent = 0
    for delivery_id in delivery_ids:
        if webhooks.deliver(delivery_id) is not None:
            sent += 1
    return sent


@task
def send_due_webhooks() -> int:
    """Send every delivery whose retry is due, and any a crashed worker left behind."""
    return webhooks.send_due()


@task
def prune_webhook_deliveries() -> int:
    cutoff = timezone.now() - KEEP_DELIVERIES
    deleted, _detail = WebhookDelivery.objects.filter(
        status__in=(DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED), created_at__lt=cutoff
    ).delete()
    return deleted
