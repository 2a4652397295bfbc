"""Data for the in-app guidance tests."""

from __future__ import annotations

import datetime

from django.utils import timezone

from kizuna.customers.models import Contact
from kizuna.usage.models import ContactDailyUsage


def rolled_up(contact: Contact, event: str, count: int, *, days_ago: int = 0) -> None:
    """`count` track events `event` of the contact, as the usage rollups keep them."""
    ContactDailyUsage.objects.create(
        account_id=contact.account_id,
        contact=contact,
        day=timezone.localdate() - datetime.timedelta(days=days_ago),
        type="track",
        event=event,
        count=count,
    )
