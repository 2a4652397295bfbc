"""Product usage in the REST API, read-only: the raw events as received, and the usage
figures Kizuna computes from them (read through kizuna.usage.queries, the usage app's
facade, so the figures are exactly those of the account 360 page).

Events are an append-only stream: they are paged with a cursor (`after_id`), not an
offset, so that reading ten million of them costs the same on the last page as on the
first, and nothing is skipped or repeated while new events arrive.
"""

import datetime
from typing import Any, Literal

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import field_validator

from kizuna.api import rest
from kizuna.api.rest import ITEM_ERRORS, MAX_ID, READ_ERRORS, QueryInput, Timestamp
from kizuna.customers.models import Account, Contact
from kizuna.usage import queries
from kizuna.usage.choices import EventType
from kizuna.usage.models import Event

router = Router()
events = Router(tags=["Events"])
usage = Router(tags=["Usage"])

MAX_EVENTS = 1000


# === Events ===============================================================================


class EventOut(Schema):
    id: int = Field(description="Increases in the order Kizuna received the events.")
    message_id: str = Field(description="The sender's messageId (unique).")
    type: EventType
    event: str = Field(description="The track event's name, or the page or screen name.")
    user_id: str
    anonymous_id: str
    contact_id: int | None
    account_id: int | None
    timestamp: Timestamp = Field(description="When it happened, corrected for clock skew.")
    received_at: Timestamp
    properties: dict[str, Any]
    context: dict[str, Any]
    page_url: str
    page_path: str
    page_title: str


class EventPage(Schema):
    results: list[EventOut]
    next_after_id: int | None = Field(
        description="Pass as `after_id` for the next page; null when this page is the last."
    )


class EventQuery(Schema):
    account_id: int | None = Field(None, ge=1, le=MAX_ID)
    contact_id: int | None = Field(None, ge=1, le=MAX_ID)
    type: EventType | None = None
    event: str | None = Field(None, max_length=200, description="Exact event name.")
    since: datetime.datetime | None = Field(None, description="Happened at or after.")
    until: datetime.datetime | None = Field(None, description="Happened before.")
    after_id: int = Field(0, ge=0, le=MAX_ID, description="Only events with a larger id.")
    limit: int = Field(100, ge=1, le=MAX_EVENTS)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return rest.check_value(value)


@events.get("", response={200: EventPage, **READ_ERRORS}, summary="List events")
def list_events(request: HttpRequest, filters: Query[EventQuery]) -> dict[str, Any]:
    """Tracked events in the order they were received (by id), oldest first."""
    condition = Q(id__gt=filters.after_id)
    for name in ("account_id", "contact_id", "type", "event"):
        value = getattr(filters, name)
        if value is not None:
            condition &= Q(**{name: value})
    if filters.since:
        condition &= Q(timestamp__gte=rest.aware(filters.since))
    if filters.until:
        condition &= Q(timestamp__lt=rest.aware(filters.until))
    rows = list(Event.objects.filter(condition).order_by("id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {"results": rows, "next_after_id": rows[-1].pk if more else None}


@events.get("/{event_id}", response={200: EventOut, **ITEM_ERRORS}, summary="Get an event")
def get_event(request: HttpRequest, event_id: int) -> Event:
    event = Event.objects.filter(pk=event_id).first() if 1 <= event_id <= MAX_ID else None
    if event is None:
        raise rest.not_found(_("No event has this id."))
    return event


# === Usage ================================================================================


class DayOut(Schema):
    day: datetime.date
    events: int
    users: int = Field(description="Distinct contacts active that day.")


class FeatureOut(Schema):
    name: str
    events: int
    users: int
    last_used: datetime.date


class AccountUsageOut(Schema):
    account_id: int
    window_days: int
    last_seen_at: Timestamp | None
    active_users: int = Field(description="Distinct contacts active in the window.")
    seats: int = Field(description="Seats of the live subscriptions.")
    login_rate: float | None = Field(
        description="Active users per licensed seat (may exceed 1); null without seats."
    )
    logins: int
    events: int
    daily: list[DayOut] = Field(description="Every day of the trend window, oldest first.")
    top_features: list[FeatureOut]
    unused_features: list[str] = Field(
        description="Features other customers used recently that this account never used."
    )


class UsageWindow(Schema):
    days: int = Field(30, ge=1, le=365, description="The window, in days up to today.")
    trend_days: int = Field(90, ge=1, le=365, description="Days in the daily trend.")


@usage.get(
    "/accounts/{account_id}/usage",
    response={200: AccountUsageOut, **ITEM_ERRORS},
    summary="Get an account's usage",
)
def account_usage(
    request: HttpRequest, account_id: int, window: Query[UsageWindow]
) -> queries.AccountUsage:
    """What the account 360 usage panel shows: active users against licensed seats, logins,
    the daily trend, the top features and the features never used, last seen."""
    if not (1 <= account_id <= MAX_ID and Account.objects.filter(pk=account_id).exists()):
        raise rest.not_found(_("No account has this id."))
    return queries.account_usage(account_id, days=window.days, trend_days=window.trend_days)


class RecentEventOut(Schema):
    at: Timestamp
    type: str
    name: str
    page: str


class ContactUsageOut(Schema):
    contact_id: int
    window_days: int
    last_seen_at: Timestamp | None
    active_days: int
    events: int
    features: list[tuple[str, int]] = Field(
        description="[name, events] of the features the person used most."
    )
    recent: list[RecentEventOut]


class ContactWindow(Schema):
    days: int = Field(30, ge=1, le=365, description="The window, in days up to today.")


@usage.get(
    "/contacts/{contact_id}/usage",
    response={200: ContactUsageOut, **ITEM_ERRORS},
    summary="Get a contact's activity",
)
def contact_usage(
    request: HttpRequest, contact_id: int, window: Query[ContactWindow]
) -> queries.ContactUsage:
    if not (1 <= contact_id <= MAX_ID and Contact.objects.filter(pk=contact_id).exists()):
        raise rest.not_found(_("No contact has this id."))
    return queries.contact_usage(contact_id, days=window.days)


class AccountActivityOut(Schema):
    account_id: int
    logins_30d: int
    active_users_30d: int
    last_seen_at: Timestamp | None


class AccountActivityList(Schema):
    count: int
    limit: int
    offset: int
    results: list[AccountActivityOut]


class ActivityQuery(QueryInput):
    ordering: Literal["-logins_30d", "logins_30d", "id", "-id"] = "-logins_30d"


ACTIVITY_ORDERINGS = {
    "-logins_30d": ("-logins_30d", "id"),
    "logins_30d": ("logins_30d", "id"),
    "id": ("id",),
    "-id": ("-id",),
}


@usage.get(
    "/usage/accounts",
    response={200: AccountActivityList, **READ_ERRORS},
    summary="List accounts' activity",
)
def list_account_activity(request: HttpRequest, filters: Query[ActivityQuery]) -> dict[str, Any]:
    """Logins and active users of the last 30 days and last seen, for every account,
    e.g. to find the least active ones (`ordering=logins_30d`)."""
    accounts = queries.with_logins_30d(Account.objects.all())
    ordered = rest.order(accounts, filters.ordering, ACTIVITY_ORDERINGS)

    def serialize(rows: Any) -> list[dict[str, Any]]:
        ids = [account.pk for account in rows]
        active = queries.active_users(ids, 30)
        seen = queries.last_seen(ids)
        return [
            {
                "account_id": account.pk,
                "logins_30d": account.logins_30d,
                "active_users_30d": active.get(account.pk, 0),
                "last_seen_at": seen.get(account.pk),
            }
            for account in rows
        ]

    return rest.page(ordered, filters, serialize)


router.add_router("/events", events)
router.add_router("", usage)
