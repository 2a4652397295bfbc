"""Emails and the suppression list in the REST API (mounted at /api/v1/ by kizuna.api.api):
an account's or a contact's emails with how far each got and their events (sent, opened,
clicked, …); read, add and remove suppressed addresses.

Everyone with a key reads; managers and admins (and keys with their roles) change the
suppression list. Removing a hard bounce or a complaint needs `?confirm=true` (409
otherwise): mail to such an address harms the sender's reputation.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kizuna.api import rest
from kizuna.api.rest import (
    ITEM_ERRORS,
    MAX_ID,
    READ_ERRORS,
    WRITE_ERRORS,
    ApiError,
    Input,
    QueryInput,
    Timestamp,
)
from kizuna.core.models import User
from kizuna.customers.models import Account, Contact
from kizuna.engagement import preferences
from kizuna.engagement.choices import MessageStatus, SuppressionReason
from kizuna.engagement.models import EmailMessage, Suppression

router = Router(tags=["Emails"])


# === Schemas ==============================================================================


class ContactRef(Schema):
    id: int
    name: str


class TemplateRef(Schema):
    id: int
    key: str
    name: str


class EmailEventOut(Schema):
    kind: str = Field(
        description="`queued`, `sent`, `retry`, `failed`, `bounced`, `opened`, `clicked`, "
        "`unsubscribed`, `held` or `skipped`."
    )
    at: Timestamp
    url: str = Field(description="The link clicked (clicks).")
    link_index: int | None
    detail: dict[str, Any]


class EmailOut(Schema):
    id: int
    account_id: int
    contact: ContactRef
    to_email: str
    language: str
    template: TemplateRef
    category: str = Field(description="The message category's key.")
    subject: str
    source: str = Field(description="Where it came from: `campaign`, `flow`, `test`, …")
    campaign_id: int | None
    flow_enrolment_id: int | None
    flow_step: str
    status: MessageStatus
    furthest: str = Field(
        description="How far it got: `clicked`, `opened`, or the status (`sent`, `bounced`, "
        "`failed`, `held`, `skipped`, `queued`, `sending`)."
    )
    reason: str = Field(description="Why it was held back or skipped (empty otherwise).")
    reason_detail: str
    queued_at: Timestamp
    sent_at: Timestamp | None
    opened_at: Timestamp | None
    clicked_at: Timestamp | None
    bounced_at: Timestamp | None
    unsubscribed_at: Timestamp | None
    open_count: int
    click_count: int
    events: list[EmailEventOut]

    @staticmethod
    def resolve_category(message: EmailMessage) -> str:
        return message.category.key

    @staticmethod
    def resolve_furthest(message: EmailMessage) -> str:
        return message.display_status

    @staticmethod
    def resolve_events(message: EmailMessage) -> list[Any]:
        return list(message.events.all())


class EmailList(Schema):
    count: int
    limit: int
    offset: int
    results: list[EmailOut]


class EmailQuery(QueryInput):
    status: MessageStatus | None = None


class SuppressionOut(Schema):
    id: int
    email: str
    reason: SuppressionReason
    detail: str
    message_id: int | None
    created_at: Timestamp


class SuppressionList(Schema):
    count: int
    limit: int
    offset: int
    results: list[SuppressionOut]


class SuppressionQuery(QueryInput):
    q: str = Field("", max_length=200, description="Part of the address or the note.")
    reason: SuppressionReason | None = None


class SuppressionCreate(Input):
    email: str = Field(max_length=254)
    reason: SuppressionReason = SuppressionReason.MANUAL
    detail: str = Field("", max_length=500)


# === Helpers ==============================================================================


def _emails() -> QuerySet[EmailMessage]:
    return (
        EmailMessage.objects.select_related("contact", "template", "category")
        .prefetch_related("events")
        .order_by("-queued_at", "-id")
    )


def _filtered(rows: QuerySet[EmailMessage], filters: EmailQuery) -> QuerySet[EmailMessage]:
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    return rows


def _configure_allowed(request: HttpRequest) -> User:
    user = rest.acting_user(request)
    rest.require(user.can_configure, _("Only managers and admins can change the suppression list."))
    return user


def _refused(exc: ValidationError) -> ApiError:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    if isinstance(exc, preferences.AlreadySuppressed):
        return ApiError(409, "conflict", " ".join(exc.messages), fields)
    return ApiError(422, "validation_error", _("The data is not valid. Nothing was saved."), fields)


# === Emails ===============================================================================


@router.get(
    "/accounts/{account_id}/emails",
    response={200: EmailList, **ITEM_ERRORS},
    summary="An account's emails",
)
def list_account_emails(
    request: HttpRequest, account_id: int, filters: Query[EmailQuery]
) -> dict[str, Any]:
    """Newest first, each with how far it got and its events (test sends included, with
    source `test`)."""
    if not (1 <= account_id <= MAX_ID and Account.objects.filter(pk=account_id).exists()):
        raise rest.not_found(_("No account has this id."))
    return rest.page(_filtered(_emails().filter(account_id=account_id), filters), filters)


@router.get(
    "/contacts/{contact_id}/emails",
    response={200: EmailList, **ITEM_ERRORS},
    summary="A contact's emails",
)
def list_contact_emails(
    request: HttpRequest, contact_id: int, filters: Query[EmailQuery]
) -> dict[str, Any]:
    if not (1 <= contact_id <= MAX_ID and Contact.objects.filter(pk=contact_id).exists()):
        raise rest.not_found(_("No contact has this id."))
    return rest.page(_filtered(_emails().filter(contact_id=contact_id), filters), filters)


# === Suppression list =====================================================================


@router.get(
    "/suppressions",
    response={200: SuppressionList, **READ_ERRORS},
    summary="List suppressed addresses",
)
def list_suppressions(request: HttpRequest, filters: Query[SuppressionQuery]) -> dict[str, Any]:
    return rest.page(preferences.search(filters.q, filters.reason or ""), filters)


@router.post(
    "/suppressions",
    response={201: SuppressionOut, **WRITE_ERRORS},
    summary="Add an address to the suppression list",
)
def create_suppression(request: HttpRequest, payload: SuppressionCreate) -> Status[Suppression]:
    """409 when the address is already on the list."""
    user = _configure_allowed(request)
    try:
        row = preferences.add(user, payload.email, payload.reason, payload.detail)
    except ValidationError as exc:
        raise _refused(exc) from None
    return Status(201, row)


@router.delete(
    "/suppressions/{suppression_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Remove an address from the suppression list",
)
def delete_suppression(
    request: HttpRequest, suppression_id: int, confirm: bool = False
) -> Status[None]:
    """A hard bounce or a complaint is removed only with `confirm=true` (409 otherwise)."""
    user = _configure_allowed(request)
    row = rest.get_or_404(
        Suppression.objects.all(), suppression_id, _("No suppressed address has this id.")
    )
    try:
        preferences.remove(user, row, confirmed=confirm)
    except ValidationError as exc:
        raise ApiError(409, "confirmation_required", " ".join(exc.messages)) from None
    return Status(204, None)
