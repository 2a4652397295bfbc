"""Consent: what a contact chose in the preference centre, and the suppression list.

A contact is subscribed to every marketing category unless a `Preference` row says
otherwise; "unsubscribe from everything" puts their address on the suppression list with the
reason "unsubscribed", which only they (resubscribing in the preference centre) or a manager
can take off again. Hard bounces and complaints stay until a manager removes them.
Transactional messages (login details, a password reset) are not governed by preferences.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kizuna.core import audit
from kizuna.engagement import tracking
from kizuna.engagement.choices import BLOCKS_TRANSACTIONAL, CategoryKind, SuppressionReason
from kizuna.engagement.models import (
    EmailMessage,
    MessageCategory,
    Preference,
    Suppression,
)

if TYPE_CHECKING:
    from kizuna.core.models import User
    from kizuna.customers.models import Contact

# Removing these by hand needs an explicit confirmation: mail to the address bounced or the
# recipient reported it as spam, and sending again harms the sender's reputation.
NEEDS_CONFIRMATION = BLOCKS_TRANSACTIONAL


class AlreadySuppressed(ValidationError):
    """The address is on the suppression list already."""


@dataclass(frozen=True)
class CategoryChoice:
    category: MessageCategory
    name: str
    description: str
    subscribed: bool


@dataclass(frozen=True)
class PreferenceState:
    """What the preference centre shows one contact."""

    address: str
    categories: list[CategoryChoice]
    # The address is on the suppression list, and why ("" when it is not).
    suppressed: str

    @property
    def unsubscribed_from_everything(self) -> bool:
        return self.suppressed == SuppressionReason.UNSUBSCRIBED

    @property
    def blocked(self) -> bool:
        """Suppressed for a reason the contact cannot undo themselves (bounce, complaint,
        added by hand)."""
        return bool(self.suppressed) and not self.unsubscribed_from_everything


def marketing_categories() -> QuerySet[MessageCategory]:
    return MessageCategory.objects.filter(kind=CategoryKind.MARKETING).order_by("position", "id")


def address_of(contact: Contact, message: EmailMessage | None = None) -> str:
    return ((message.to_email if message else "") or contact.email or "").strip().lower()


def state(contact: Contact, language: str, message: EmailMessage | None = None) -> PreferenceState:
    """The contact's choices per marketing category and whether their address is suppressed
    (three queries)."""
    address = address_of(contact, message)
    chosen = dict(
        Preference.objects.filter(contact=contact).values_list("category_id", "subscribed")
    )
    suppressed = (
        Suppression.objects.filter(email=address).values_list("reason", flat=True).first() or ""
        if address
        else ""
    )
    choices = [
        CategoryChoice(
            category=category,
            name=category.name(language),
            description=(
                category.description_en
                if language == "en" and category.description_en
                else category.description_ja
            ),
            subscribed=chosen.get(category.pk, True),
        )
        for category in marketing_categories()
    ]
    return PreferenceState(address=address, categories=choices, suppressed=suppressed)


def save_choices(
    contact: Contact,
    subscribed: Collection[int],
    *,
    source: str,
    message: EmailMessage | None = None,
) -> list[MessageCategory]:
    """Set the contact's marketing categories: subscribed to the ids in `subscribed`,
    unsubscribed from the others. Categories newly unsubscribed from are recorded on
    `message` (as unsubscribes). Returns those categories."""
    categories = list(marketing_categories())
    before = dict(
        Preference.objects.filter(contact=contact).values_list("category_id", "subscribed")
    )
    dropped: list[MessageCategory] = []
    with transaction.atomic():
        for category in categories:
            wanted = category.pk in subscribed
            if before.get(category.pk, True) == wanted:
                continue
            if wanted:
                Preference.objects.update_or_create(
                    contact=contact,
                    category=category,
                    defaults={"subscribed": True, "source": source},
                )
            else:
                tracking.unsubscribe(contact, category=category, source=source, message=message)
                dropped.append(category)
    return dropped


def resubscribe(contact: Contact, *, message: EmailMessage | None = None) -> bool:
    """Take the contact's own "unsubscribed from everything" off the suppression list.
    A bounce, a complaint or an address added by hand stays (False)."""
    address = address_of(contact, message)
    if not address:
        return False
    deleted, _rows = Suppression.objects.filter(
        email=address, reason=SuppressionReason.UNSUBSCRIBED
    ).delete()
    return bool(deleted)


# --- The suppression list (managers) --------------------------------------------------------


def search(query: str = "", reason: str = "") -> QuerySet[Suppression]:
    rows = Suppression.objects.select_related("created_by").order_by("-created_at", "-id")
    if query:
        rows = rows.filter(Q(email__icontains=query.strip()) | Q(detail__icontains=query.strip()))
    if reason:
        rows = rows.filter(reason=reason)
    return rows


def add(actor: User | None, email: str, reason: str, detail: str = "") -> Suppression:
    """Put an address on the suppression list by hand (audited). ValidationError naming the
    field: not an address, an unknown reason, or already on the list."""
    address = (email or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid email address.")}) from None
    if reason not in SuppressionReason.values:
        raise ValidationError({"reason": _("Choose a reason from the list.")})
    existing = Suppression.objects.filter(email=address).first()
    if existing is not None:
        raise AlreadySuppressed(
            {
                "email": _("%(email)s is already on the suppression list (%(reason)s).")
                % {"email": address, "reason": existing.get_reason_display()}
            }
        )
    try:
        with transaction.atomic():
            row = Suppression.objects.create(
                email=address, reason=reason, detail=detail.strip()[:500], created_by=actor
            )
            audit.record_create(actor, row)
    except IntegrityError:
        raise AlreadySuppressed(
            {"email": _("%(email)s was added by someone else just now.") % {"email": address}}
        ) from None
    return row


def remove(actor: User | None, row: Suppression, *, confirmed: bool = False) -> None:
    """Take an address off the suppression list (audited). A hard bounce or a complaint
    needs `confirmed` (ValidationError otherwise)."""
    if row.reason in NEEDS_CONFIRMATION and not confirmed:
        raise ValidationError(
            _("%(email)s is suppressed (%(reason)s): confirm that it may get email again.")
            % {"email": row.email, "reason": row.get_reason_display()}
        )
    with transaction.atomic():
        pk = row.pk
        audit.record_delete(actor, row, pk)
        row.delete()
