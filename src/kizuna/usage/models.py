"""Product usage: sources with write keys, the raw event store, and the daily rollups that
every usage figure is read from.

The raw `Event` table is append-only and only ever scanned by time range or read for one
account/contact; the rollups are maintained incrementally by `rollups.rollup_new_events` (an
id watermark in `RollupState`), so pages and lists never aggregate raw events.

Monthly partitions on PostgreSQL: `usage_event` is ready for declarative partitioning by
`timestamp` (no foreign-key constraints point into it or out of it, the id is not referenced
anywhere). To partition, create a partitioned copy with `PARTITION BY RANGE (timestamp)`, make
the primary key `(id, timestamp)` and the message id unique per `(message_id, timestamp)` or
keep a separate dedup table, create one partition per month ahead of time, copy, and swap the
names in one transaction. Nothing else in Kizuna changes: reads go through `queries.py`.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kizuna.usage.choices import DEFAULT_LOGIN_EVENTS, EventType

# Longest ids and names accepted from a tracking call (Segment asks for message ids under
# 100 characters; the rest are generous bounds that keep the indexes narrow).
MAX_MESSAGE_ID = 128
MAX_ID = 200
MAX_EVENT_NAME = 200


class Source(models.Model):
    """Where tracking data comes from (a web app, a backend service), with its write key.

    Only a SHA-256 hash of the write key is stored, plus its first characters so people can
    tell keys apart: whoever reads the database cannot send data as the source. The key is
    shown once, when it is created or rotated. (Write keys are random, so a fast hash is as
    safe here as a slow password hash, and it keeps authenticating each request cheap.)
    """

    name = models.CharField(_("name"), max_length=100)
    key_prefix = models.CharField(_("write key starts with"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rotated_at = models.DateTimeField(_("key rotated"), null=True, blank=True)
    # Set by the rollup worker, not by ingestion, so the hot path never updates this row.
    last_event_at = models.DateTimeField(_("last event"), null=True, blank=True)

    class Meta:
        verbose_name = _("data source")
        verbose_name_plural = _("data sources")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_key(write_key: str) -> str:
        return hashlib.sha256(write_key.encode()).hexdigest()


class UsageSettings(models.Model):
    """How usage is interpreted; one row, edited by managers on the data sources page.

    `login_events` lists the track event names that count as a login, e.g.
    ``["Logged In", "login", "Signed In"]``.
    """

    login_events = models.JSONField(_("login events"), default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("usage settings")
        verbose_name_plural = _("usage settings")

    def __str__(self) -> str:
        return str(_("Usage settings"))

    def clean(self) -> None:
        names = self.login_events
        if not isinstance(names, list) or not all(
            isinstance(name, str) and name.strip() for name in names
        ):
            raise ValidationError({"login_events": _("List event names, one per line.")})
        cleaned = [name.strip() for name in names]
        if not cleaned:
            raise ValidationError({"login_events": _("Name at least one login event.")})
        if any(len(name) > MAX_EVENT_NAME for name in cleaned):
            raise ValidationError({"login_events": _("An event name has at most 200 characters.")})
        if len(set(cleaned)) != len(cleaned):
            raise ValidationError({"login_events": _("Each event name may appear only once.")})
        self.login_events = cleaned

    @classmethod
    def current(cls) -> UsageSettings:
        row, _created = cls.objects.get_or_create(
            pk=1, defaults={"login_events": list(DEFAULT_LOGIN_EVENTS)}
        )
        return row


class Event(models.Model):
    """One tracking call, as received: who, what, when, and its properties.

    `properties` holds a track/page/screen call's properties, and the traits of an identify or
    group call (the traits that map to account and contact fields are applied to them; the
    rest stay here). `context` is Segment's context without its traits and with long values
    cut. `timestamp` is when it happened (corrected for the sender's clock skew), `day` that
    moment's date in Kizuna's time zone, which is what the daily rollups group by.

    Relations carry no database constraint and no single-column index: the event table takes
    the write load, and the composite indexes below serve every read. Deleting an account or a
    contact still deletes its events (Django issues one DELETE for them).
    """

    message_id = models.CharField(_("message id"), max_length=MAX_MESSAGE_ID, unique=True)
    source = models.ForeignKey(
        Source,
        verbose_name=_("source"),
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    type = models.CharField(_("type"), max_length=8, choices=EventType.choices)
    event = models.CharField(_("event"), max_length=MAX_EVENT_NAME, blank=True)
    user_id = models.CharField(_("user id"), max_length=MAX_ID, blank=True)
    anonymous_id = models.CharField(_("anonymous id"), max_length=MAX_ID, blank=True)
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    timestamp = models.DateTimeField(_("time"))
    day = models.DateField(_("day"))
    received_at = models.DateTimeField(_("received"))
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    page_url = models.CharField(_("page URL"), max_length=2000, blank=True)
    page_path = models.CharField(_("page path"), max_length=1000, blank=True)
    page_title = models.CharField(_("page title"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["account", "timestamp"], name="usage_event_account_time"),
            models.Index(fields=["contact", "timestamp"], name="usage_event_contact_time"),
            # Time-range scans over everything (rebuilds, exports, retention). PostgreSQL
            # gets a BRIN index instead (migration 0002): tiny, and cheap to keep up on an
            # append-only table whose rows arrive roughly in time order.
            # The latest traits of a user, for a group call that comes after the identify.
            models.Index(
                fields=["user_id", "timestamp"],
                name="usage_event_identify",
                condition=models.Q(type="identify"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event}".strip()


class IdentityLink(models.Model):
    """An anonymous id (or an alias call's previous id) known to belong to a user id, so that
    calls carrying only the anonymous id are attributed to that user's contact."""

    previous_id = models.CharField(max_length=MAX_ID, unique=True)
    user_id = models.CharField(max_length=MAX_ID)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.previous_id} → {self.user_id}"


class Feature(models.Model):
    """A track event name seen from any customer: the catalogue "features never used" is
    measured against. Maintained by the rollup worker."""

    name = models.CharField(_("event"), max_length=MAX_EVENT_NAME, unique=True)
    first_seen_on = models.DateField(_("first seen"))
    last_seen_on = models.DateField(_("last seen"))

    class Meta:
        verbose_name = _("feature")
        verbose_name_plural = _("features")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AccountDailyUsage(models.Model):
    """Usage of one account on one day, per event: `count` events by `users` distinct
    contacts. The row with type "" and event "" is the day's total: every usage event, and
    the distinct contacts active that day (daily active users).

    For page and screen views `event` is the page's name (often empty).

    The rollup tables' relations have no database constraint: the worker writes a row per
    account, contact, day and event, and a foreign-key check on each costs as much as the
    row itself. The worker only counts events of existing accounts and contacts, and Django
    deletes the rows of a deleted account or contact with one DELETE each."""

    account = models.ForeignKey(
        "customers.Account",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    day = models.DateField()
    type = models.CharField(max_length=8, blank=True)
    event = models.CharField(max_length=MAX_EVENT_NAME, blank=True)
    count = models.BigIntegerField(default=0)
    users = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "type", "event", "day"], name="usage_account_daily_key"
            )
        ]
        indexes = [models.Index(fields=["account", "day"], name="usage_account_daily_day")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.type} {self.event}: {self.count}"


class ContactDailyUsage(models.Model):
    """Usage of one contact in one account on one day, per event (and the day's total row
    with type "" and event "")."""

    account = models.ForeignKey(
        "customers.Account",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    day = models.DateField()
    type = models.CharField(max_length=8, blank=True)
    event = models.CharField(max_length=MAX_EVENT_NAME, blank=True)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "contact", "day", "type", "event"],
                name="usage_contact_daily_key",
            )
        ]
        indexes = [models.Index(fields=["contact", "day"], name="usage_contact_daily_day")]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.day} {self.type} {self.event}: {self.count}"


class ContactActivity(models.Model):
    """When a contact was last active in an account (a person may use several customers'
    workspaces). Active users in a window are the rows seen since its start."""

    account = models.ForeignKey(
        "customers.Account",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "contact"], name="usage_contact_activity")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}@{self.account_id} {self.last_seen_at}"


class AccountActivity(models.Model):
    """An account's usage figures that lists sort and filter on, and that conditions and
    scorecards read: last seen, and logins, active users and usage events in the usual
    windows ("30 days" is today and the 29 days before, in Kizuna's time zone).

    Kept up to date by the rollup worker for the accounts it touches, and for every account
    once a day just after midnight, when the window moves (`window_end` is the day the
    30-day figures were computed for)."""

    account = models.OneToOneField(
        "customers.Account",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="usage_activity",
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)
    logins_30d = models.IntegerField(default=0)
    active_users_30d = models.IntegerField(default=0)
    # The counters conditions and scorecards read for the usual windows (the last 7, 14,
    # 30 and 90 days, and the 30 days before the last 30), so that a recompute over every
    # account reads one row per account instead of aggregating the daily rollups
    # (see kizuna.usage.metrics). Defaults in the database: the rollup worker inserts rows
    # naming only the columns it knows at that point.
    logins_7d = models.IntegerField(default=0, db_default=0)
    logins_14d = models.IntegerField(default=0, db_default=0)
    logins_90d = models.IntegerField(default=0, db_default=0)
    logins_prev_30d = models.IntegerField(default=0, db_default=0)
    active_users_7d = models.IntegerField(default=0, db_default=0)
    active_users_14d = models.IntegerField(default=0, db_default=0)
    active_users_90d = models.IntegerField(default=0, db_default=0)
    active_users_prev_30d = models.IntegerField(default=0, db_default=0)
    activity_7d = models.IntegerField(default=0, db_default=0)
    activity_14d = models.IntegerField(default=0, db_default=0)
    activity_30d = models.IntegerField(default=0, db_default=0)
    activity_90d = models.IntegerField(default=0, db_default=0)
    activity_prev_30d = models.IntegerField(default=0, db_default=0)
    window_end = models.DateField(null=True, blank=True)

    class Meta:
        # The account list sorted by logins walks this index (see queries.AccountsByLogins).
        indexes = [
            models.Index(fields=["-logins_30d", "account"], name="usage_activity_logins"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.logins_30d} logins"


class RollupState(models.Model):
    """The rollup worker's watermark: every event with an id up to `last_event_id` is in the
    rollups. A run claims the next range by moving it with a conditional UPDATE, so two
    workers never count the same event twice."""

    last_event_id = models.BigIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_run_events = models.IntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"rollups up to event {self.last_event_id}"
