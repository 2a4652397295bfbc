"""Emails on the account timeline: one entry per email, at the time it was sent (or decided,
when it never went out), with the furthest it got — clicked, opened, sent, bounced, failed,
held back or skipped with the rule's reason — and who it went to."""

from __future__ import annotations

import datetime

from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from kizuna.customers import timeline
from kizuna.customers.models import Account
from kizuna.engagement.choices import MessageStatus
from kizuna.engagement.models import EmailMessage

# The badge colour of each furthest step (the timeline's rating classes).
RATINGS = {"clicked": "very_good", "opened": "good", "bounced": "poor", "failed": "poor"}


def status_label(message: EmailMessage) -> str:
    """The furthest step in words: "Clicked", "Opened", or the delivery status."""
    status = message.display_status
    if status == "clicked":
        return pgettext("email status", "Clicked")
    if status == "opened":
        return pgettext("email status", "Opened")
    return str(message.get_status_display())


def _time(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def describe(message: EmailMessage) -> str:
    """What happened to the email, in one line: opens and clicks with their first time, or
    why it was held back, skipped or failed."""
    parts: list[str] = []
    if message.template_id:
        parts.append(gettext("Template: %(name)s") % {"name": message.template.name})
    if message.status in (MessageStatus.HELD, MessageStatus.SKIPPED):
        reason = message.get_reason_display() if message.reason else ""
        parts.append(" — ".join(part for part in (str(reason), message.reason_detail) if part))
    elif message.status in (MessageStatus.FAILED, MessageStatus.BOUNCED):
        parts.append((message.smtp_response or message.last_error)[:200])
    if message.opened_at:
        parts.append(
            gettext("opened %(count)d× (first %(time)s)")
            % {"count": message.open_count, "time": _time(message.opened_at)}
        )
    if message.clicked_at:
        parts.append(
            gettext("clicked %(count)d× (first %(time)s)")
            % {"count": message.click_count, "time": _time(message.clicked_at)}
        )
    if message.unsubscribed_at:
        parts.append(gettext("unsubscribed %(time)s") % {"time": _time(message.unsubscribed_at)})
    return " · ".join(part for part in parts if part)


@timeline.register("email", _("Emails"))
def emails(account: Account, before: datetime.datetime, limit: int) -> list[timeline.TimelineEntry]:
    rows = (
        EmailMessage.objects.filter(account=account)
        .exclude(source="test")
        .annotate(moment=Coalesce(F("sent_at"), F("queued_at")))
        .filter(moment__lt=before)
        .select_related("contact", "template")
        .order_by("-moment", "-id")[:limit]
    )
    return [
        timeline.TimelineEntry(
            at=row.moment,
            source="email",
            label=_("Email"),
            title=row.subject or row.template.name,
            detail=describe(row),
            rating=RATINGS.get(row.display_status, "email"),
            rating_label=status_label(row),
            people=(row.contact.name,),
            url=reverse("customers:contact", args=[row.contact_id]),
        )
        for row in rows
    ]
