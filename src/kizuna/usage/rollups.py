"""Maintenance of the usage rollups: folding new events in, rebuilding days from scratch, and
moving the 30-day windows when the date changes.

Incremental: `rollup_new_events` takes the events after the watermark in `RollupState`, in id
order and in chunks, and adds them to the daily rollups with ``INSERT … ON CONFLICT DO
UPDATE SET count = count + excluded.count``. Each chunk is one transaction that first claims
its id range by moving the watermark with a conditional UPDATE: a second worker running at the
same time finds the watermark moved and claims the next range instead (or waits for the first
to commit), so no event is ever counted twice, and a crash rolls the claim back with the sums.

An id watermark is only safe if no transaction can still commit an id below it. On SQLite a
single writer at a time guarantees that. On PostgreSQL ids are taken from a sequence when a
row is inserted, so a slow ingest transaction could commit id 100 after id 200 was rolled up;
ingest transactions therefore hold a shared advisory lock, and the worker reads the highest
id while holding the same lock exclusively for an instant: every id up to that bound then
belongs to a committed transaction (or to one that rolled back and left a gap).

Distinct users: the per-contact rows say whether a person was already counted for an
(account, day, event); a chunk adds to `users` only the people whose row did not exist yet,
which is computed before the per-contact rows are written in the same transaction.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kizuna.core.models import DirtyAccount
from kizuna.customers.models import Account, Contact
from kizuna.usage.choices import USAGE_TYPES, EventType
from kizuna.usage.models import (
    AccountActivity,
    AccountDailyUsage,
    ContactActivity,
    ContactDailyUsage,
    Event,
    Feature,
    RollupState,
    Source,
    UsageSettings,
)
from kizuna.usage.services import INGEST_LOCK, writer

WINDOW_DAYS = 30
# Events per transaction. SQLite has one writer at a time, so its chunks are smaller: ingest
# waits for at most one chunk.
CHUNK_POSTGRESQL = 50_000
CHUNK_SQLITE = 2_000

EVENTS = Event._meta.db_table
ACCOUNT_DAILY = AccountDailyUsage._meta.db_table
CONTACT_DAILY = ContactDailyUsage._meta.db_table
CONTACT_ACTIVITY = ContactActivity._meta.db_table
ACCOUNT_ACTIVITY = AccountActivity._meta.db_table
FEATURES = Feature._meta.db_table
logger = logging.getLogger(__name__)
SOURCES = Source._meta.db_table
ACCOUNTS = Account._meta.db_table
DIRTY = DirtyAccount._meta.db_table
CONTACTS = Contact._meta.db_table
CHUNK = "usage_rollup_chunk"
USAGE_IN = "(" + ", ".join(f"'{kind.value}'" for kind in USAGE_TYPES) + ")"


def chunk_size() -> int:
    return CHUNK_POSTGRESQL if connection.vendor == "postgresql" else CHUNK_SQLITE


def _state() -> RollupState:
    state, _created = RollupState.objects.get_or_create(pk=1)
    return state


def rollup_new_events(limit: int | None = None, *, chunk: int | None = None) -> int:
    """Fold every event after the watermark into the rollups (at most about `limit`);
    return how many events were processed. Safe to run in any number of workers."""
    processed = 0
    while limit is None or processed < limit:
        done = _rollup_chunk(chunk or chunk_size())
        if done is None:
            break
        processed += done
    return processed


def _max_event_id(cursor: Any) -> int:
    cursor.execute(f"SELECT MAX(id) FROM {EVENTS}")  # noqa: S608
    row = cursor.fetchone()
    return int(row[0] or 0) if row else 0


def safe_upper_bound() -> int | None:
    """On PostgreSQL, the highest event id below which every transaction has finished (see
    the module doc); None on SQLite, where it is read inside the write transaction."""
    if connection.vendor != "postgresql":
        return None
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INGEST_LOCK])
        return _max_event_id(cursor)


def _rollup_chunk(size: int) -> int | None:
    """Process the next chunk; the number of events in it, or None when caught up."""
    bound = safe_upper_bound()
    with writer(), transaction.atomic(), connection.cursor() as cursor:
        upper = _max_event_id(cursor) if bound is None else bound
        start = _state().last_event_id
        if start >= upper:
            return None
        cursor.execute(
            f"SELECT MAX(id), COUNT(*) FROM (SELECT id FROM {EVENTS} "  # noqa: S608
            "WHERE id > %s AND id <= %s ORDER BY id LIMIT %s) AS next_ids",
            [start, upper, size],
        )
        end, count = cursor.fetchone()
        end = int(end or upper)
        claimed = RollupState.objects.filter(pk=1, last_event_id=start).update(
            last_event_id=end, last_run_at=timezone.now(), last_run_events=count, last_error=""
        )
        if not claimed:
            return 0  # another worker took this range; look again
        _fill_chunk(cursor, "e.id > %s AND e.id <= %s", [start, end])
        _apply_chunk(cursor)
        _touch_sources(cursor, start, end)
        _tell_listeners(start, end)
    return int(count)


# Called with each chunk's id range, in its transaction, after the rollups include it: each
# event is seen exactly once (success flows' event triggers, see kizuna.flows.triggers).
ChunkListener = Callable[[int, int], None]
CHUNK_LISTENERS: list[ChunkListener] = []


def on_chunk(listener: ChunkListener) -> None:
    if listener not in CHUNK_LISTENERS:
        CHUNK_LISTENERS.append(listener)


def _tell_listeners(start: int, end: int) -> None:
    for listener in CHUNK_LISTENERS:
        try:
            with transaction.atomic():
                listener(start, end)
        except Exception:
            # The usage itself is kept; a listener's failure is its own (and logged).
            logger.exception("Usage chunk listener %s failed on (%s, %s]", listener, start, end)


# --- The chunk: usage events grouped per (account, contact, day, type, event) -----------------


def _fill_chunk(cursor: Any, where: str, params: Sequence[Any]) -> None:
    if connection.vendor == "postgresql":
        # Rollups are derived data, committed with their watermark: if a crash loses this
        # commit, both are lost together and the chunk is simply rolled up again. So the
        # commit need not wait for its WAL to reach the disk.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {CHUNK} (account_id bigint, contact_id bigint, "
            "day date, type varchar(8), event varchar(200), n bigint, last_at timestamptz) "
            "ON COMMIT DELETE ROWS"
        )
    else:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {CHUNK} (account_id integer, contact_id integer, "
            "day date, type text, event text, n integer, last_at datetime)"
        )
    cursor.execute(f"DELETE FROM {CHUNK}")  # noqa: S608
    # Events whose account or contact has been deleted since they arrived count for nobody
    # (the account) or for the account only (the contact).
    cursor.execute(
        f"INSERT INTO {CHUNK} (account_id, contact_id, day, type, event, n, last_at) "  # noqa: S608
        f"SELECT e.account_id, c.id, e.day, e.type, e.event, COUNT(*), MAX(e.timestamp) "
        f"FROM {EVENTS} e JOIN {ACCOUNTS} a ON a.id = e.account_id "
        f"LEFT JOIN {CONTACTS} c ON c.id = e.contact_id "
        f"WHERE {where} AND e.type IN {USAGE_IN} "
        "GROUP BY e.account_id, c.id, e.day, e.type, e.event",
        list(params),
    )


def _greatest() -> str:
    return "GREATEST" if connection.vendor == "postgresql" else "MAX"


def _least() -> str:
    return "LEAST" if connection.vendor == "postgresql" else "MIN"


def _apply_chunk(cursor: Any) -> None:
    """Add the chunk to every rollup; the distinct-user figures first, while the per-contact
    rows still show who was already counted."""
    cursor.execute(
        f"INSERT INTO {ACCOUNT_DAILY} (account_id, day, type, event, count, users) "  # noqa: S608
        "SELECT k.account_id, k.day, k.type, k.event, SUM(k.n), "
        "SUM(CASE WHEN k.contact_id IS NOT NULL AND NOT EXISTS ("
        f"  SELECT 1 FROM {CONTACT_DAILY} d WHERE d.account_id = k.account_id "
        "   AND d.contact_id = k.contact_id AND d.day = k.day AND d.type = k.type "
        "   AND d.event = k.event) THEN 1 ELSE 0 END) "
        f"FROM {CHUNK} k WHERE true GROUP BY k.account_id, k.day, k.type, k.event "
        "ON CONFLICT (account_id, type, event, day) DO UPDATE SET "
        f"count = {ACCOUNT_DAILY}.count + excluded.count, "
        f"users = {ACCOUNT_DAILY}.users + excluded.users"
    )
    cursor.execute(
        f"INSERT INTO {ACCOUNT_DAILY} (account_id, day, type, event, count, users) "  # noqa: S608
        "SELECT k.account_id, k.day, '', '', SUM(k.n), "
        "COUNT(DISTINCT CASE WHEN k.contact_id IS NOT NULL AND NOT EXISTS ("
        f"  SELECT 1 FROM {CONTACT_DAILY} d WHERE d.account_id = k.account_id "
        "   AND d.contact_id = k.contact_id AND d.day = k.day AND d.type = '' "
        "   AND d.event = '') THEN k.contact_id END) "
        f"FROM {CHUNK} k WHERE true GROUP BY k.account_id, k.day "
        "ON CONFLICT (account_id, type, event, day) DO UPDATE SET "
        f"count = {ACCOUNT_DAILY}.count + excluded.count, "
        f"users = {ACCOUNT_DAILY}.users + excluded.users"
    )
    cursor.execute(
        f"INSERT INTO {CONTACT_DAILY} (account_id, contact_id, day, type, event, count) "  # noqa: S608
        "SELECT k.account_id, k.contact_id, k.day, k.type, k.event, k.n "
        f"FROM {CHUNK} k WHERE k.contact_id IS NOT NULL "
        "ON CONFLICT (account_id, contact_id, day, type, event) DO UPDATE SET "
        f"count = {CONTACT_DAILY}.count + excluded.count"
    )
    cursor.execute(
        f"INSERT INTO {CONTACT_DAILY} (account_id, contact_id, day, type, event, count) "  # noqa: S608
        "SELECT k.account_id, k.contact_id, k.day, '', '', SUM(k.n) "
        f"FROM {CHUNK} k WHERE k.contact_id IS NOT NULL "
        "GROUP BY k.account_id, k.contact_id, k.day "
        "ON CONFLICT (account_id, contact_id, day, type, event) DO UPDATE SET "
        f"count = {CONTACT_DAILY}.count + excluded.count"
    )
    greatest = _greatest()
    cursor.execute(
        f"INSERT INTO {CONTACT_ACTIVITY} (account_id, contact_id, last_seen_at) "  # noqa: S608
        f"SELECT k.account_id, k.contact_id, MAX(k.last_at) FROM {CHUNK} k "
        "WHERE k.contact_id IS NOT NULL GROUP BY k.account_id, k.contact_id "
        "ON CONFLICT (account_id, contact_id) DO UPDATE SET last_seen_at = "
        f"{greatest}(COALESCE({CONTACT_ACTIVITY}.last_seen_at, excluded.last_seen_at), "
        "excluded.last_seen_at)"
    )
    cursor.execute(
        f"INSERT INTO {ACCOUNT_ACTIVITY} "  # noqa: S608
        "(account_id, last_seen_at, logins_30d, active_users_30d) "
        f"SELECT k.account_id, MAX(k.last_at), 0, 0 FROM {CHUNK} k WHERE true "
        "GROUP BY k.account_id "
        "ON CONFLICT (account_id) DO UPDATE SET last_seen_at = "
        f"{greatest}(COALESCE({ACCOUNT_ACTIVITY}.last_seen_at, excluded.last_seen_at), "
        "excluded.last_seen_at)"
    )
    least = _least()
    cursor.execute(
        f"INSERT INTO {FEATURES} (name, first_seen_on, last_seen_on) "  # noqa: S608
        f"SELECT k.event, MIN(k.day), MAX(k.day) FROM {CHUNK} k "
        f"WHERE k.type = '{EventType.TRACK.value}' GROUP BY k.event "
        "ON CONFLICT (name) DO UPDATE SET "
        f"first_seen_on = {least}({FEATURES}.first_seen_on, excluded.first_seen_on), "
        f"last_seen_on = {greatest}({FEATURES}.last_seen_on, excluded.last_seen_on)"
    )
    _refresh_window_sql(cursor, f"a.account_id IN (SELECT DISTINCT account_id FROM {CHUNK})")  # noqa: S608
    # Scores, segments and stages of these accounts read usage: recompute them (see
    # kizuna.core.recompute), marked in this transaction so none is forgotten.
    cursor.execute(
        f"INSERT INTO {DIRTY} (account_id, marked_at) "  # noqa: S608
        f"SELECT DISTINCT account_id, %s FROM {CHUNK} WHERE account_id IS NOT NULL "
        "ON CONFLICT (account_id) DO UPDATE SET marked_at = excluded.marked_at",
        [timezone.now()],
    )


def _touch_sources(cursor: Any, start: int, end: int) -> None:
    cursor.execute(
        f"UPDATE {SOURCES} SET last_event_at = (SELECT MAX(e.received_at) FROM {EVENTS} e "  # noqa: S608
        f"WHERE e.source_id = {SOURCES}.id AND e.id > %s AND e.id <= %s) "
        f"WHERE id IN (SELECT DISTINCT source_id FROM {EVENTS} WHERE id > %s AND id <= %s)",
        [start, end, start, end],
    )


# --- The 30-day window ---------------------------------------------------------------------


def window(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the 30-day window ending `today` (local)."""
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=WINDOW_DAYS - 1), today


# The windows AccountActivity keeps counters for (days ending today), and the previous 30 days
# (the 30 days before the last 30) that "change vs the previous window" compares with.
WINDOWS = (7, 14, 30, 90)
COUNTERS = [
    f"{figure}_{days}d" for figure in ("logins", "active_users", "activity") for days in WINDOWS
] + ["logins_prev_30d", "active_users_prev_30d", "activity_prev_30d"]


def _refresh_window_sql(cursor: Any, where: str) -> None:
    """Recompute the window counters of the accounts matching `where` (a condition on the
    activity table, aliased `a`) in one UPDATE: one pass over their daily rollups of the
    last 90 days, and one over their per-person rows for the active users."""
    today = timezone.localdate()
    starts = {days: today - datetime.timedelta(days=days - 1) for days in WINDOWS}
    prev_first, prev_last = today - datetime.timedelta(days=59), today - datetime.timedelta(days=30)
    first = starts[max(WINDOWS)]
    names = list(UsageSettings.current().login_events) or [""]
    placeholders = ", ".join(["%s"] * len(names))
    ops = connection.ops

    def day(value: datetime.date) -> Any:
        return ops.adapt_datefield_value(value)

    login = f"d.type = '{EventType.TRACK.value}' AND d.event IN ({placeholders})"
    total = "d.type = '' AND d.event = ''"
    sums: list[str] = []
    params: list[Any] = []
    for days in WINDOWS:
        sums.append(
            f"SUM(CASE WHEN {login} AND d.day >= %s THEN d.count ELSE 0 END) AS logins_{days}d"
        )
        params += [*names, day(starts[days])]
    sums.append(
        f"SUM(CASE WHEN {login} AND d.day >= %s AND d.day <= %s THEN d.count ELSE 0 END) "
        "AS logins_prev_30d"
    )
    params += [*names, day(prev_first), day(prev_last)]
    for days in WINDOWS:
        sums.append(
            f"SUM(CASE WHEN {total} AND d.day >= %s THEN d.count ELSE 0 END) AS activity_{days}d"
        )
        params.append(day(starts[days]))
    sums.append(
        f"SUM(CASE WHEN {total} AND d.day >= %s AND d.day <= %s THEN d.count ELSE 0 END) "
        "AS activity_prev_30d"
    )
    params += [day(prev_first), day(prev_last)]
    chosen = f"SELECT a.account_id FROM {ACCOUNT_ACTIVITY} a WHERE {where}"  # noqa: S608
    usage_sql = (
        f"SELECT d.account_id, {', '.join(sums)} FROM {ACCOUNT_DAILY} d "  # noqa: S608
        f"WHERE d.day >= %s AND d.day <= %s AND d.account_id IN ({chosen}) GROUP BY d.account_id"
    )
    params += [day(first), day(today)]
    users: list[str] = []
    user_params: list[Any] = []
    for days in WINDOWS:
        users.append(
            f"COUNT(DISTINCT CASE WHEN c.day >= %s THEN c.contact_id END) AS active_users_{days}d"
        )
        user_params.append(day(starts[days]))
    users.append(
        "COUNT(DISTINCT CASE WHEN c.day >= %s AND c.day <= %s THEN c.contact_id END) "
        "AS active_users_prev_30d"
    )
    user_params += [day(prev_first), day(prev_last)]
    users_sql = (
        f"SELECT c.account_id, {', '.join(users)} FROM {CONTACT_DAILY} c "  # noqa: S608
        "WHERE c.type = '' AND c.event = '' AND c.day >= %s AND c.day <= %s "
        f"AND c.account_id IN ({chosen}) GROUP BY c.account_id"
    )
    user_params += [day(first), day(today)]
    usage_columns = [name for name in COUNTERS if not name.startswith("active_users")]
    user_columns = [name for name in COUNTERS if name.startswith("active_users")]
    picked = ", ".join(
        [f"COALESCE(w.{name}, 0) AS {name}" for name in usage_columns]
        + [f"COALESCE(u.{name}, 0) AS {name}" for name in user_columns]
    )
    assignments = ", ".join(f"{name} = x.{name}" for name in COUNTERS)
    cursor.execute(
        f"UPDATE {ACCOUNT_ACTIVITY} SET {assignments}, window_end = %s "  # noqa: S608
        f"FROM (SELECT a.account_id, {picked} FROM {ACCOUNT_ACTIVITY} a "
        f"LEFT JOIN ({usage_sql}) w ON w.account_id = a.account_id "
        f"LEFT JOIN ({users_sql}) u ON u.account_id = a.account_id WHERE {where}) x "
        f"WHERE {ACCOUNT_ACTIVITY}.account_id = x.account_id",
        [day(today), *params, *user_params],
    )


def refresh_windows(*, only_active: bool = True) -> int:
    """Recompute every account's window counters for today, in one UPDATE.

    Run once a day after midnight (the windows move) and when the login events change.
    With `only_active`, accounts with no usage in the last 90 days are only stamped with
    today's date: a moving window cannot raise their zeros.
    """
    today = connection.ops.adapt_datefield_value(timezone.localdate())
    # Rows never refreshed (window_end NULL) are recounted whatever their counters say.
    active = (
        "(a.logins_90d > 0 OR a.activity_90d > 0 OR a.active_users_90d > 0 OR a.window_end IS NULL)"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        _refresh_window_sql(cursor, active if only_active else "1 = 1")
        refreshed = max(cursor.rowcount, 0)
        if only_active:
            cursor.execute(
                f"UPDATE {ACCOUNT_ACTIVITY} SET window_end = %s "  # noqa: S608
                "WHERE NOT (logins_90d > 0 OR activity_90d > 0 OR active_users_90d > 0 "
                "OR window_end IS NULL)",
                [today],
            )
        return refreshed


# --- Rebuild -----------------------------------------------------------------------------------


def rebuild(first: datetime.date, last: datetime.date) -> int:
    """Recompute the rollups of the days `first`…`last` from the raw events, one day per
    transaction; return the number of events counted.

    Only events up to the watermark are counted: later ones are the incremental worker's,
    which may run at the same time. Last-seen times of the accounts and contacts involved
    are recomputed from their events too.
    """
    if last < first:
        raise ValueError("The last day is before the first day.")
    total = 0
    day = first
    while day <= last:
        total += _rebuild_day(day)
        day += datetime.timedelta(days=1)
    # Accounts whose events for these days are gone are not in any chunk: move them too.
    refresh_windows(only_active=False)
    return total


def _rebuild_day(day: datetime.date) -> int:
    ops = connection.ops
    # The day's events lie within a day of its local midnight whatever the zone was when
    # they arrived; the time bounds let the timestamp index find them.
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    low, high = start - datetime.timedelta(days=1), start + datetime.timedelta(days=2)
    safe_upper_bound()  # wait for ingest transactions in flight (PostgreSQL)
    with writer(), transaction.atomic(), connection.cursor() as cursor:
        _state()
        watermark = (
            RollupState.objects.select_for_update()
            .values_list("last_event_id", flat=True)
            .get(pk=1)
        )
        day_value = ops.adapt_datefield_value(day)
        for table in (ACCOUNT_DAILY, CONTACT_DAILY):
            cursor.execute(f"DELETE FROM {table} WHERE day = %s", [day_value])  # noqa: S608
        _fill_chunk(
            cursor,
            "e.id <= %s AND e.day = %s AND e.timestamp >= %s AND e.timestamp < %s",
            [
                watermark,
                day_value,
                ops.adapt_datetimefield_value(low),
                ops.adapt_datetimefield_value(high),
            ],
        )
        _apply_chunk(cursor)
        _recompute_last_seen(cursor)
        cursor.execute(f"SELECT COALESCE(SUM(n), 0) FROM {CHUNK}")  # noqa: S608
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _recompute_last_seen(cursor: Any) -> None:
    """Last-seen times of the chunk's accounts and contacts from their newest event (read
    backwards along the account/contact time indexes)."""
    cursor.execute(
        f"UPDATE {ACCOUNT_ACTIVITY} SET last_seen_at = (SELECT MAX(e.timestamp) "  # noqa: S608
        f"FROM {EVENTS} e WHERE e.account_id = {ACCOUNT_ACTIVITY}.account_id "
        f"AND e.type IN {USAGE_IN}) "
        f"WHERE account_id IN (SELECT DISTINCT account_id FROM {CHUNK})"
    )
    cursor.execute(
        f"UPDATE {CONTACT_ACTIVITY} SET last_seen_at = COALESCE((SELECT MAX(e.timestamp) "  # noqa: S608
        f"FROM {EVENTS} e WHERE e.contact_id = {CONTACT_ACTIVITY}.contact_id "
        f"AND e.account_id = {CONTACT_ACTIVITY}.account_id AND e.type IN {USAGE_IN}), "
        "last_seen_at) "
        f"WHERE contact_id IN (SELECT DISTINCT contact_id FROM {CHUNK} "
        "WHERE contact_id IS NOT NULL)"
    )


def status() -> dict[str, Any]:
    """The watermark and how far behind it the newest event is, for `kizuna usage status`."""
    state = _state()
    newest = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return {
        "last_event_id": state.last_event_id,
        "newest_event_id": newest,
        "behind": max(newest - state.last_event_id, 0),
        "last_run_at": state.last_run_at,
        "last_error": state.last_error,
    }
