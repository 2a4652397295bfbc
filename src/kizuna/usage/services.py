"""The write side of product usage: data sources and their write keys, the usage settings,
and ingestion of tracking calls.

Ingestion is at-least-once and idempotent: every call is stored as an `Event` keyed by its
unique message id with ``INSERT … ON CONFLICT DO NOTHING``, in one transaction per request,
committed before the answer is sent. Track, page and screen calls (nearly all the volume) are
resolved to contacts and accounts with one lookup per batch and inserted with one multi-row
INSERT. Identify, group and alias calls (rare) update contacts and accounts one by one, each
in a savepoint together with its event row, so a retried call changes nothing twice.
"""

from __future__ import annotations

import datetime
import logging
import os
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.core import audit, events
from kizuna.core.debounce import Debounced
from kizuna.core.models import User
from kizuna.customers import services as customer_services
from kizuna.customers.choices import Industry
from kizuna.customers.models import Account, Contact
from kizuna.usage.choices import USAGE_TYPES, EventType
from kizuna.usage.models import Event, IdentityLink, Source, UsageSettings
from kizuna.usage.segment import Message, Rejection, to_json

try:
    import fcntl
except ImportError:  # pragma: no cover (not a POSIX system: SQLite's own retries only)
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

# PostgreSQL advisory lock shared by ingest transactions and taken exclusively, for an
# instant, by the rollup worker: see rollups.safe_upper_bound.
INGEST_LOCK = 0x6B697A_7573
# Rows per INSERT statement: 16 columns × 500 stays under SQLite's 32,766 parameters.
INSERT_CHUNK = 500
# At most one rollup task enqueued per process in this many seconds; the periodic job
# catches up whatever a skipped enqueue would have done.
ROLLUP_DEBOUNCE_SECONDS = 2.0
WRITE_KEY_ALPHABET = string.ascii_letters + string.digits
WRITE_KEY_PREFIX = "kzw_"


# --- Sources and settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedKey:
    """A source with its write key in clear: returned once, never stored."""

    source: Source
    write_key: str


def new_write_key() -> str:
    return WRITE_KEY_PREFIX + "".join(secrets.choice(WRITE_KEY_ALPHABET) for _ in range(32))


@transaction.atomic
def create_source(actor: User | None, name: str) -> IssuedKey:
    """Create a data source and return it with its write key (shown to the person once)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the source a name.")})
    key = new_write_key()
    source = Source(name=name[:100], created_by=actor if actor and actor.pk else None)
    _set_key(source, key)
    source.full_clean()
    source.save()
    audit.record_create(actor, source)
    return IssuedKey(source=source, write_key=key)


@transaction.atomic
def rotate_key(actor: User | None, source: Source) -> IssuedKey:
    """Give a source a new write key; the old one stops working at once."""
    before = audit.snapshot(source)
    key = new_write_key()
    _set_key(source, key)
    source.rotated_at = timezone.now()
    source.save(update_fields=["key_prefix", "key_hash", "rotated_at"])
    audit.record_update(actor, source, before)
    forget_cached_sources()
    return IssuedKey(source=source, write_key=key)


@transaction.atomic
def set_enabled(actor: User | None, source: Source, enabled: bool) -> Source:
    """Enable or disable a source; a disabled source's calls are refused with 403."""
    before = audit.snapshot(source)
    source.enabled = enabled
    source.save(update_fields=["enabled"])
    audit.record_update(actor, source, before)
    forget_cached_sources()
    return source


def _set_key(source: Source, key: str) -> None:
    source.key_hash = Source.hash_key(key)
    source.key_prefix = key[: len(WRITE_KEY_PREFIX) + 4]


@transaction.atomic
def update_settings(
    actor: User | None, usage_settings: UsageSettings, before: audit.Snapshot
) -> UsageSettings:
    """Save the usage settings and recompute every account's login figures with them."""
    from kizuna.usage import rollups

    usage_settings.full_clean()
    usage_settings.save()
    audit.record_update(actor, usage_settings, before)
    rollups.refresh_windows(only_active=False)
    return usage_settings


@dataclass(frozen=True)
class CachedSource:
    id: int
    enabled: bool
    expires: float


# Write key hash → source, per process for a few seconds: authenticating each request would
# otherwise cost a query. Changes made here clear it; other processes see them within TTL.
_SOURCE_CACHE: dict[str, CachedSource] = {}
_SOURCE_TTL = 10.0


def source_for_key(write_key: str) -> CachedSource | None:
    """The source a write key belongs to (enabled or not), or None for an unknown key."""
    digest = Source.hash_key(write_key)
    now = time.monotonic()
    cached = _SOURCE_CACHE.get(digest)
    if cached is not None and cached.expires > now:
        return cached
    row = Source.objects.filter(key_hash=digest).values_list("id", "enabled").first()
    if row is None:
        return None
    cached = CachedSource(id=row[0], enabled=row[1], expires=now + _SOURCE_TTL)
    if len(_SOURCE_CACHE) > 1000:
        _SOURCE_CACHE.clear()
    _SOURCE_CACHE[digest] = cached
    return cached


def forget_cached_sources() -> None:
    _SOURCE_CACHE.clear()


# --- Ingestion -------------------------------------------------------------------------------


@dataclass
class IngestResult:
    """What became of a request's messages: `stored` new events, `duplicates` already
    stored (a retry), and the messages rejected with their reasons."""

    received: int
    stored: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)


def ingest(
    source_id: int,
    messages: Sequence[Message],
    *,
    received_at: datetime.datetime,
    received: int | None = None,
    rejected: Sequence[Rejection] = (),
) -> IngestResult:
    """Store valid tracking messages durably and apply identify, group and alias calls.

    Returns once everything is committed. Usage events are attributed to a contact (by user
    id, or by an anonymous id linked to one) and an account (`context.groupId` when it names
    a known account, else the contact's account).
    """
    result = IngestResult(
        received=len(messages) + len(rejected) if received is None else received,
        rejected=list(rejected),
    )
    usage = [message for message in messages if message.type in USAGE_TYPES]
    identity = [message for message in messages if message.type not in USAGE_TYPES]
    if not usage and not identity:
        return result
    if not identity:
        # Read outside the write transaction: on SQLite it holds the database's write lock.
        stored = group_commit.insert(_usage_rows(source_id, usage, received_at))
    else:
        with writer(), transaction.atomic():
            _share_ingest_lock()
            stored = 0
            for message in identity:
                stored += _apply_identity(source_id, message, received_at, result)
            if usage:
                stored += _insert(_usage_rows(source_id, usage, received_at))
    result.stored = stored
    result.duplicates = len(messages) - stored
    transaction.on_commit(schedule_rollup)
    return result


@dataclass
class _Job:
    rows: list[tuple[Any, ...]]
    done: bool = False
    stored: int = 0
    error: BaseException | None = None


class _GroupCommit:
    """On SQLite, requests that arrive together are committed together.

    SQLite writes every page a transaction touched when it commits, and the random keys of
    the event indexes touch many pages, so much of the cost is per commit rather than per
    row. While one request's transaction is being written, the requests arriving meanwhile
    queue up, and the next of them to get the turn inserts them all — each with its own
    INSERT, so each learns how many of its rows were new — and commits once. Every request
    still returns only after its rows are committed. If a shared transaction fails, each
    request's rows are retried in a transaction of their own, so one request's failure is
    never another's.
    """

    def __init__(self) -> None:
        self.queue_lock = threading.Lock()
        self.turn = threading.Lock()
        self.queue: list[_Job] = []

    def insert(self, rows: list[tuple[Any, ...]]) -> int:
        if connection.vendor != "sqlite":
            # PostgreSQL writes many transactions at once and groups their commits itself;
            # taking turns here would only serialise them.
            with transaction.atomic():
                _share_ingest_lock()
                return _insert(rows)
        job = _Job(rows)
        with self.queue_lock:
            self.queue.append(job)
        with self.turn:
            if not job.done:
                with self.queue_lock:
                    jobs, self.queue = self.queue, []
                self._commit(jobs)
        if job.error is not None:
            raise job.error
        return job.stored

    def _commit(self, jobs: list[_Job]) -> None:
        try:
            with writer(), transaction.atomic():
                _share_ingest_lock()
                counts = [_insert(job.rows) for job in jobs]
        except Exception:
            if len(jobs) == 1:
                raise
            for job in jobs:
                try:
                    with writer(), transaction.atomic():
                        _share_ingest_lock()
                        job.stored = _insert(job.rows)
                except Exception as exc:
                    job.error = exc
                job.done = True
            return
        for job, count in zip(jobs, counts, strict=True):
            job.stored = count
            job.done = True


group_commit = _GroupCommit()


class _SQLiteWriters:
    """One SQLite writer at a time, queued by the kernel instead of SQLite's busy handler.

    SQLite lets one transaction write at a time; the others retry after sleeping 1, 2, 5 …
    up to 100 ms, so under load most of a request's time is spent asleep while the lock sits
    free. Writers that take this lock first (a thread lock, then an flock on a file next to
    the database, shared by every process) wait in line and wake the moment it is released.
    """

    def __init__(self) -> None:
        self.thread_lock = threading.Lock()
        self.handle: Any = None
        self.holder = threading.local()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if connection.vendor != "sqlite" or fcntl is None or getattr(self.holder, "held", False):
            yield  # PostgreSQL, or this thread is already the writer
            return
        with self.thread_lock:
            self.holder.held = True
            try:
                name = str(connection.settings_dict["NAME"])
                if self.handle is None and os.path.isabs(name):
                    # An in-memory database (tests) has no file and no other process.
                    self.handle = open(f"{name}.writer-lock", "a+b")  # noqa: SIM115 (kept open)
                if self.handle is None:
                    yield
                    return
                fcntl.flock(self.handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(self.handle, fcntl.LOCK_UN)
            finally:
                self.holder.held = False


writer = _SQLiteWriters()


def _share_ingest_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [INGEST_LOCK])


def _rollup_task() -> Any:
    from kizuna.usage import tasks

    return tasks.rollup_new_events


# Ask a worker to fold new events into the rollups soon (after each ingest commits).
schedule_rollup = Debounced(_rollup_task, ROLLUP_DEBOUNCE_SECONDS)


@dataclass(frozen=True)
class _Who:
    contact_id: int | None
    account_id: int | None


_NOBODY = _Who(None, None)


class _PositiveCache:
    """Found ids, per process for a short while: most batches name the same users and
    accounts again. Misses are never cached, so a contact or account created a moment ago
    (by an identify in another process) is found at once; a contact moved or deleted meanwhile
    is attributed as before for at most TTL seconds (the rollups skip deleted ones)."""

    def __init__(self, ttl: float, size: int = 50_000) -> None:
        self.ttl = ttl
        self.size = size
        self.items: dict[str, tuple[Any, float]] = {}

    def get_many(self, keys: Iterable[str]) -> tuple[dict[str, Any], set[str]]:
        now = time.monotonic()
        found: dict[str, Any] = {}
        missing: set[str] = set()
        for key in keys:
            item = self.items.get(key)
            if item is not None and item[1] > now:
                found[key] = item[0]
            else:
                missing.add(key)
        return found, missing

    def put_many(self, values: dict[str, Any]) -> None:
        if len(self.items) + len(values) > self.size:
            self.items.clear()
        expires = time.monotonic() + self.ttl
        for key, value in values.items():
            self.items[key] = (value, expires)

    def clear(self) -> None:
        self.items.clear()


_PEOPLE = _PositiveCache(ttl=30.0)
_ACCOUNTS = _PositiveCache(ttl=30.0)


def forget_cached_people() -> None:
    _PEOPLE.clear()
    _ACCOUNTS.clear()


def _lookup(sql: str, keys: set[str]) -> list[tuple[Any, ...]]:
    if not keys:
        return []
    placeholders = ", ".join(["%s"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(sql % placeholders, list(keys))
        return list(cursor.fetchall())


_CONTACTS_SQL = (
    f"SELECT product_user_id, id, account_id FROM {Contact._meta.db_table} "  # noqa: S608
    "WHERE product_user_id IN (%s)"
)
_ACCOUNTS_SQL = (
    f"SELECT external_id, id FROM {Account._meta.db_table} "  # noqa: S608
    "WHERE external_id IN (%s)"
)
_LINKS_SQL = (
    f"SELECT previous_id, user_id FROM {IdentityLink._meta.db_table} "  # noqa: S608
    "WHERE previous_id IN (%s)"
)


def _resolve(messages: Iterable[Message]) -> tuple[dict[str, _Who], dict[str, int], dict[str, str]]:
    """The batch's users, linked anonymous ids and group ids, in at most one query each."""
    messages = list(messages)
    user_ids = {m.user_id for m in messages if m.user_id}
    anonymous = {m.anonymous_id for m in messages if not m.user_id and m.anonymous_id}
    group_ids = {m.group_id for m in messages if m.group_id}
    links: dict[str, str] = {row[0]: row[1] for row in _lookup(_LINKS_SQL, anonymous)}
    people, missing = _PEOPLE.get_many(user_ids | set(links.values()))
    fetched = {row[0]: _Who(row[1], row[2]) for row in _lookup(_CONTACTS_SQL, missing)}
    _PEOPLE.put_many(fetched)
    people.update(fetched)
    accounts, missing = _ACCOUNTS.get_many(group_ids)
    fetched_accounts = {row[0]: row[1] for row in _lookup(_ACCOUNTS_SQL, missing)}
    _ACCOUNTS.put_many(fetched_accounts)
    accounts.update(fetched_accounts)
    return people, accounts, links


def datetime_adapter() -> Any:
    """A function turning an aware datetime into the database's parameter value, fast."""
    if connection.vendor == "sqlite":
        # What Django's adapt_datetimefield_value does on SQLite (naive UTC text), minus
        # its per-call checks: this runs for every event.
        utc = datetime.UTC

        def adapt(value: datetime.datetime) -> str:
            return str(value.astimezone(utc).replace(tzinfo=None))

        return adapt
    return connection.ops.adapt_datetimefield_value


def _usage_rows(
    source_id: int, messages: list[Message], received_at: datetime.datetime
) -> list[tuple[Any, ...]]:
    people, accounts, links = _resolve(messages)
    adapt_datetime = datetime_adapter()
    adapt_date = connection.ops.adapt_datefield_value
    received = adapt_datetime(received_at)
    rows = []
    for m in messages:
        who = people.get(m.user_id or links.get(m.anonymous_id, ""), _NOBODY)
        account_id = accounts.get(m.group_id) if m.group_id else None
        rows.append(
            (
                m.message_id,
                source_id,
                m.type,
                m.event,
                m.user_id,
                m.anonymous_id,
                who.contact_id,
                account_id or who.account_id,
                adapt_datetime(m.timestamp),
                adapt_date(m.day),
                received,
                to_json(m.properties),
                to_json(m.context),
                m.page_url,
                m.page_path,
                m.page_title,
            )
        )
    return rows


_COLUMNS = (
    "message_id, source_id, type, event, user_id, anonymous_id, contact_id, account_id, "
    "timestamp, day, received_at, properties, context, page_url, page_path, page_title"
)


_PG_TYPES = [
    "text",
    "bigint",
    "text",
    "text",
    "text",
    "text",
    "bigint",
    "bigint",
    "timestamptz",
    "date",
    "timestamptz",
    "jsonb",
    "jsonb",
    "text",
    "text",
    "text",
]


def _insert(rows: list[tuple[Any, ...]]) -> int:
    """Insert event rows, skipping message ids already stored; return how many were new.

    PostgreSQL gets one array per column (``INSERT … SELECT * FROM unnest(…)``): a short
    statement whatever the number of rows, so the driver does not re-parse a statement with
    thousands of placeholders for every batch. SQLite gets multi-row VALUES.
    """
    if not rows:
        return 0
    table = Event._meta.db_table
    inserted = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{kind}[]" for kind in _PG_TYPES)
            cursor.execute(
                f"INSERT INTO {table} ({_COLUMNS}) SELECT * FROM unnest({arrays}) "  # noqa: S608
                "ON CONFLICT (message_id) DO NOTHING",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return max(cursor.rowcount, 0)
        placeholder = "(" + ", ".join(["%s"] * len(_PG_TYPES)) + ")"
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            sql = (
                f"INSERT INTO {table} ({_COLUMNS}) VALUES "  # noqa: S608 (no user input)
                + ", ".join([placeholder] * len(chunk))
                + " ON CONFLICT (message_id) DO NOTHING"
            )
            cursor.execute(sql, [value for row in chunk for value in row])
            inserted += max(cursor.rowcount, 0)
    return inserted


# --- Identify, group, alias --------------------------------------------------------------------


def _apply_identity(
    source_id: int, message: Message, received_at: datetime.datetime, result: IngestResult
) -> int:
    """Apply one identify/group/alias call with its event row in a savepoint: a call whose
    message id is already stored (a retry) is rolled back and changes nothing."""
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                warnings: list[str] = []
                who = _APPLY[message.type](message, warnings)
                row = _identity_row(source_id, message, who, received_at)
                if not _insert([row]):
                    transaction.set_rollback(True)
                    return 0
        except IntegrityError:
            # Another request created the same contact or account a moment ago: once more,
            # and this time it is found and updated.
            if attempt == 2:
                raise
            continue
        result.warnings.extend(
            {"index": message.index, "messageId": message.message_id, "warning": text}
            for text in warnings
        )
        return 1
    return 0  # pragma: no cover (the loop either returns or raises)


def _identity_row(
    source_id: int, message: Message, who: _Who, received_at: datetime.datetime
) -> tuple[Any, ...]:
    adapt_datetime = datetime_adapter()
    payload = dict(message.traits)
    if message.type == EventType.GROUP:
        payload = {"groupId": message.group_id, "traits": message.traits}
    elif message.type == EventType.ALIAS:
        payload = {"previousId": message.previous_id}
    return (
        message.message_id,
        source_id,
        message.type,
        "",
        message.user_id,
        message.anonymous_id,
        who.contact_id,
        who.account_id,
        adapt_datetime(message.timestamp),
        connection.ops.adapt_datefield_value(message.day),
        adapt_datetime(received_at),
        to_json(payload),
        to_json(message.context),
        "",
        "",
        "",
    )


def _identify(message: Message, warnings: list[str]) -> _Who:
    """identify: link the anonymous id, then create or update the user's contact. A contact
    needs an account: from context.groupId, traits.groupId or traits.company.id (an unknown
    company with a name is created). Without one, the traits wait on the event for the
    user's group call."""
    if message.anonymous_id and message.user_id:
        _link(message.anonymous_id, message.user_id)
    if not message.user_id:
        return _Who(None, None)
    traits = message.traits
    contact = Contact.objects.filter(product_user_id=message.user_id).first()
    if contact is not None:
        _update_contact(contact, traits, warnings)
        return _Who(contact.pk, contact.account_id)
    account = _account_for_identify(message, warnings)
    if account is None:
        return _Who(None, None)
    contact = _create_contact(account, message.user_id, traits, warnings)
    return _Who(contact.pk, account.pk)


def _account_for_identify(message: Message, warnings: list[str]) -> Account | None:
    traits = message.traits
    raw_company = traits.get("company")
    company: dict[str, Any] = raw_company if isinstance(raw_company, dict) else {}
    for candidate in (message.group_id, traits.get("groupId"), company.get("id")):
        if isinstance(candidate, str | int) and not isinstance(candidate, bool):
            group_id = str(candidate).strip()
            if group_id:
                account = Account.objects.filter(external_id=group_id).first()
                if account is not None:
                    return account
                if candidate == company.get("id") and company.get("name"):
                    return _upsert_account(group_id, _company_traits(company), warnings)
    return None


def _company_traits(company: dict[str, Any]) -> dict[str, Any]:
    """Segment's traits.company (id, name, industry, employee_count, plan) as group traits."""
    traits = {key: value for key, value in company.items() if key != "id"}
    if "employee_count" in company and "employees" not in company:
        traits["employees"] = company["employee_count"]
    return traits


def _group(message: Message, warnings: list[str]) -> _Who:
    """group: create or update the account whose external id is the groupId, and put the
    user's contact in it when the user has none yet (from their latest identify traits)."""
    account = _upsert_account(message.group_id, message.traits, warnings)
    if message.anonymous_id and message.user_id:
        _link(message.anonymous_id, message.user_id)
    if not message.user_id:
        return _Who(None, account.pk)
    contact = Contact.objects.filter(product_user_id=message.user_id).first()
    if contact is None:
        latest = (
            Event.objects.filter(type=EventType.IDENTIFY, user_id=message.user_id)
            .order_by("-timestamp", "-id")
            .values_list("properties", flat=True)
            .first()
        )
        contact = _create_contact(account, message.user_id, latest or {}, warnings)
    return _Who(contact.pk, account.pk)


def _alias(message: Message, warnings: list[str]) -> _Who:
    """alias: calls with the previous id now belong to the user id. A contact known by the
    previous id takes the new id, unless another contact already has it."""
    _link(message.previous_id, message.user_id)
    contact = Contact.objects.filter(product_user_id=message.user_id).first()
    if contact is None:
        previous = Contact.objects.filter(product_user_id=message.previous_id).first()
        if previous is not None:
            before = audit.snapshot(previous)
            previous.product_user_id = message.user_id
            previous.save(update_fields=["product_user_id", "updated_at"])
            _record_update(previous, before)
            contact = previous
    if contact is None:
        return _Who(None, None)
    return _Who(contact.pk, contact.account_id)


_APPLY: dict[str, Callable[[Message, list[str]], _Who]] = {
    EventType.IDENTIFY: _identify,
    EventType.GROUP: _group,
    EventType.ALIAS: _alias,
}


def _link(previous_id: str, user_id: str) -> None:
    if previous_id == user_id:
        return
    IdentityLink.objects.bulk_create(
        [IdentityLink(previous_id=previous_id, user_id=user_id)],
        update_conflicts=True,
        unique_fields=["previous_id"],
        update_fields=["user_id"],
    )


# --- Traits → contact and account fields -----------------------------------------------------


def _text_trait(traits: dict[str, Any], *names: str) -> str:
    for name in names:
        value = traits.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return ""


def person_name(traits: dict[str, Any], fallback: str) -> str:
    """A contact's name from traits: name, else "lastName firstName" (Japanese order),
    else the email, else `fallback` (the user id)."""
    name = _text_trait(traits, "name")
    if not name:
        first = _text_trait(traits, "firstName", "first_name")
        last = _text_trait(traits, "lastName", "last_name")
        name = " ".join(part for part in (last, first) if part)
    return (name or _text_trait(traits, "email") or fallback)[:200]


def _contact_fields(traits: dict[str, Any], warnings: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    if any(key in traits for key in ("name", "firstName", "lastName", "first_name", "last_name")):
        name = person_name(traits, "")
        if name:
            fields["name"] = name
    email = _text_trait(traits, "email")
    if email:
        try:
            validate_email(email)
            fields["email"] = email[:254]
        except ValidationError:
            warnings.append(f"traits.email {email!r} is not an email address.")
    phone = _text_trait(traits, "phone")
    if phone:
        try:
            Contact._meta.get_field("phone").run_validators(phone)
            fields["phone"] = phone
        except ValidationError:
            warnings.append(f"traits.phone {phone!r} is not a phone number.")
    title = _text_trait(traits, "title")
    if title:
        fields["title"] = title[:200]
    return fields


def _create_contact(
    account: Account, user_id: str, traits: dict[str, Any], warnings: list[str]
) -> Contact:
    fields = _contact_fields(traits, warnings)
    fields.setdefault("name", person_name(traits, user_id))
    contact = Contact.objects.create(account=account, product_user_id=user_id, **fields)
    entry = audit.record_create(None, contact)
    _publish(contact, "created", entry.changes)
    return contact


def _update_contact(contact: Contact, traits: dict[str, Any], warnings: list[str]) -> None:
    fields = _contact_fields(traits, warnings)
    changed = [name for name, value in fields.items() if getattr(contact, name) != value]
    if not changed:
        return
    before = audit.snapshot(contact)
    for name in changed:
        setattr(contact, name, fields[name])
    contact.save(update_fields=[*changed, "updated_at"])
    _record_update(contact, before)


def _industry(value: str) -> str | None:
    wanted = value.strip().casefold()
    for choice, label in Industry.choices:
        if wanted in (choice.casefold(), str(label).casefold()):
            return choice
    return None


def _domain(traits: dict[str, Any]) -> str:
    raw = _text_trait(traits, "domain", "website")
    if not raw:
        return ""
    host = urlsplit(raw if "//" in raw else f"//{raw}").hostname or ""
    return host.removeprefix("www.")[:200]


def _account_fields(traits: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    name = _text_trait(traits, "name")
    if name:
        fields["name"] = name[:200]
    domain = _domain(traits)
    if domain:
        fields["domain"] = domain
    industry = _text_trait(traits, "industry")
    if industry:
        choice = _industry(industry)
        if choice is None:
            warnings.append(f"traits.industry {industry!r} is not one of Kizuna's industries.")
        else:
            fields["industry"] = choice
    for key in ("employees", "employee_count", "employeeCount"):
        raw = traits.get(key)
        if raw is None or raw == "":
            continue
        try:
            count = int(str(raw).replace(",", ""))
        except ValueError:
            count = -1
        if count < 0:
            warnings.append(f"traits.{key} is not a number of employees.")
        else:
            fields["employees"] = count
        break
    return fields


def _custom_values(
    account: Account, traits: dict[str, Any], warnings: list[str]
) -> dict[str, Any] | None:
    """Traits named like a custom field, validated as that field; None when none changed."""
    values = dict(account.custom_attributes or {})
    changed = False
    for definition in customer_services.custom_field_definitions():
        if definition.key not in traits:
            continue
        try:
            value = customer_services.clean_custom_value(definition, traits[definition.key])
        except ValidationError as exc:
            warnings.append(f"traits.{definition.key}: {exc.messages[0]}")
            continue
        if value is None:
            changed = changed or definition.key in values
            values.pop(definition.key, None)
        elif values.get(definition.key) != value:
            values[definition.key] = value
            changed = True
    return values if changed else None


def _upsert_account(group_id: str, traits: dict[str, Any], warnings: list[str]) -> Account:
    fields = _account_fields(traits, warnings)
    account = Account.objects.filter(external_id=group_id).first()
    if account is None:
        fields.setdefault("name", group_id[:200])
        account = Account(external_id=group_id, **fields)
        custom = _custom_values(account, traits, warnings)
        if custom is not None:
            account.custom_attributes = custom
        account.save()
        entry = audit.record_create(None, account)
        _publish(account, "created", entry.changes)
        return account
    changed = [name for name, value in fields.items() if getattr(account, name) != value]
    custom = _custom_values(account, traits, warnings)
    if not changed and custom is None:
        return account
    before = audit.snapshot(account)
    for name in changed:
        setattr(account, name, fields[name])
    if custom is not None:
        account.custom_attributes = custom
        changed.append("custom_attributes")
    account.save(update_fields=[*changed, "updated_at"])
    _record_update(account, before)
    return account


def _record_update(instance: Account | Contact, before: audit.Snapshot) -> None:
    entry = audit.record_update(None, instance, before)
    if entry is not None:
        _publish(instance, "updated", entry.changes)


def _publish(instance: Account | Contact, action: str, changes: dict[str, list[str]]) -> None:
    events.publish(
        events.DomainEvent(
            type=events.event_name(instance, action),
            instance=instance,
            object_id=instance.pk,
            changes=changes,
        )
    )
