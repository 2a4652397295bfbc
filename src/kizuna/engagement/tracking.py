"""What recipients do with an email: opens (the pixel), clicks (tracked links) and
unsubscribes (the preference centre and the one-click List-Unsubscribe header).

Opens and clicks are counted on the message row itself (`opened_at`, `open_count`,
`clicked_at`, `click_count`) so results and the timeline never have to count events; each
one also leaves an `EmailEvent`. The first open or click of a message a success flow sent
answers the flow's decisions waiting for it (`email_opened:<step>` / `email_clicked:<step>`),
once the change is committed.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.engagement.choices import EmailEventKind, MessageStatus, SuppressionReason
from kizuna.engagement.models import (
    EmailEvent,
    EmailMessage,
    MessageCategory,
    Preference,
    Suppression,
)

if TYPE_CHECKING:
    from kizuna.customers.models import Contact

# Only an email that left Kizuna can be opened or clicked (a test send is sent too).
TRACKED_STATUSES = (MessageStatus.SENT, MessageStatus.BOUNCED)
# The few columns tracking needs: the pixel is fetched by every mail client that shows the
# email, so it stays one narrow select, one update and one insert.
_FIELDS = ("id", "account_id", "flow_step", "subject", "links", "opened_at", "clicked_at")


def _find(token: str) -> EmailMessage | None:
    if not token or len(token) > 32:
        return None
    return (
        EmailMessage.objects.filter(token=token, status__in=TRACKED_STATUSES).only(*_FIELDS).first()
    )


def _mark_opened(message: EmailMessage, now: datetime.datetime) -> bool:
    """Count an open; True when it is the message's first (decided by the database, so two
    mail clients opening at once make one first open)."""
    rows = EmailMessage.objects.filter(pk=message.pk)
    first = False
    if message.opened_at is None:
        first = bool(
            rows.filter(opened_at__isnull=True).update(
                opened_at=now, open_count=F("open_count") + 1
            )
        )
    if not first:
        rows.update(open_count=F("open_count") + 1)
    else:
        message.opened_at = now
    return first


def _answer_flow(message: EmailMessage, kinds: list[str], now: datetime.datetime) -> None:
    """After commit: tell the flow engine the email a flow step sent was opened/clicked."""
    if not message.flow_step or not kinds:
        return
    keys = {f"{kind}:{message.flow_step}" for kind in kinds}
    labels = {
        f"email_opened:{message.flow_step}": _("Email “%(subject)s” opened"),
        f"email_clicked:{message.flow_step}": _("Link in email “%(subject)s” clicked"),
    }
    what = {key: labels[key] % {"subject": message.subject} for key in keys}
    account_id = message.account_id

    def resolve() -> None:
        from kizuna.flows import engine

        engine.resolve_waits({account_id: keys}, now, what)

    # robust: a failing flow must never lose the open or break the pixel/redirect.
    transaction.on_commit(resolve, robust=True)


def record_open(
    token: str, *, user_agent: str = "", now: datetime.datetime | None = None
) -> EmailMessage | None:
    """Count an open of the message with this token (None: no such sent message).

    The first open sets `opened_at`; every open adds one to `open_count` and an `opened`
    event. A first open of a flow's email answers the flow's decisions waiting for it."""
    now = now or timezone.now()
    message = _find(token)
    if message is None:
        return None
    with transaction.atomic():
        first = _mark_opened(message, now)
        EmailEvent.objects.create(
            message_id=message.pk,
            kind=EmailEventKind.OPENED,
            at=now,
            detail={"user_agent": user_agent[:300]} if user_agent else {},
        )
        if first:
            _answer_flow(message, ["email_opened"], now)
    return message


def link_target(message: EmailMessage, index: int) -> str | None:
    """The URL of tracked link `index` of the message, or None when there is no such link or
    it is not a web address (never a redirect to anything the email did not contain)."""
    links: Any = message.links
    if not isinstance(links, list) or not 0 <= index < len(links):
        return None
    link = links[index]
    url = link.get("url") if isinstance(link, dict) else None
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        return None
    return url


def record_click(token: str, index: int, *, now: datetime.datetime | None = None) -> str | None:
    """Count a click on tracked link `index` of the message; returns the link's URL (None:
    no such message or link, nothing recorded).

    A click also counts as an open when the message was not opened yet (a client that blocks
    images still shows the click)."""
    now = now or timezone.now()
    message = _find(token)
    if message is None:
        return None
    url = link_target(message, index)
    if url is None:
        return None
    kinds: list[str] = []
    with transaction.atomic():
        rows = EmailMessage.objects.filter(pk=message.pk)
        if message.opened_at is None and _mark_opened(message, now):
            kinds.append("email_opened")
            EmailEvent.objects.create(
                message_id=message.pk, kind=EmailEventKind.OPENED, at=now, detail={"via": "click"}
            )
        first_click = message.clicked_at is None and bool(
            rows.filter(clicked_at__isnull=True).update(
                clicked_at=now, click_count=F("click_count") + 1
            )
        )
        if first_click:
            kinds.append("email_clicked")
        else:
            rows.update(click_count=F("click_count") + 1)
        EmailEvent.objects.create(
            message_id=message.pk, kind=EmailEventKind.CLICKED, at=now, url=url, link_index=index
        )
        _answer_flow(message, kinds, now)
    return url


def unsubscribe(
    contact: Contact,
    *,
    category: MessageCategory | None,
    source: str,
    message: EmailMessage | None = None,
) -> None:
    """Unsubscribe a contact from one marketing category (a `Preference` row), or from
    everything (`category` None: their address goes on the suppression list as
    "unsubscribed"). With `message`, the email they unsubscribed from records it.

    A transactional category cannot be unsubscribed from (ValueError)."""
    if category is not None and category.transactional:
        raise ValueError(
            _("“%(category)s” is transactional: it cannot be unsubscribed from.")
            % {"category": category.name(None)}
        )
    address = ((message.to_email if message else "") or contact.email or "").strip().lower()
    if category is None and not address:
        raise ValueError(_("This contact has no email address to unsubscribe."))
    now = timezone.now()
    with transaction.atomic():
        if category is None:
            # An address already suppressed (a hard bounce, a complaint) keeps its reason.
            Suppression.objects.get_or_create(
                email=address,
                defaults={
                    "reason": SuppressionReason.UNSUBSCRIBED,
                    "detail": source,
                    "message": message,
                },
            )
        else:
            Preference.objects.update_or_create(
                contact=contact, category=category, defaults={"subscribed": False, "source": source}
            )
        if message is not None:
            EmailEvent.objects.create(
                message=message,
                kind=EmailEventKind.UNSUBSCRIBED,
                at=now,
                detail={"category": category.key if category else "", "source": source},
            )
            if message.unsubscribed_at is None:
                EmailMessage.objects.filter(pk=message.pk, unsubscribed_at__isnull=True).update(
                    unsubscribed_at=now
                )
                message.unsubscribed_at = now
