"""Full recompute of health scores, tiers, stages and 20 dynamic segments over 100,000 accounts
and 10 million events, against DuckDB doing the equivalent raw aggregation over the same
events; then the time from a 1,000-event batch to its new bands.

    pip install duckdb   # benchmark-only dependency (or: pip install -e '.[bench]')
    .venv/bin/python bench/bench_health.py --accounts 100000 --events 10000000 --database both

Data: the databases of bench_usage.py (bench/.data/usage-sqlite/, PostgreSQL
`kizuna_bench_usage`), seeded by it when missing: the demo portfolio and 10 million events
over the last 90 days, rolled up by the real rollup worker.

Kizuna side, timed: `kizuna.core.recompute.recompute()` for every account — the tier step,
the lifecycle-stage rules, every active scorecard (the shipped seed-004 templates, chosen
per stage) and the 20 dynamic segments defined below — exactly what the nightly job runs.

Reference, timed in the same run: DuckDB (in memory, all cores) computing from the *raw*
events the per-account figures those scorecards and segments read — logins, active users,
usage events and feature counts in the last 30 days and the 30 before, last seen — joined
with the accounts' contracts, and the 20 segment conditions and a weighted score over them.
Loading the events into DuckDB (exported to a CSV once) is not timed. The ratio printed is
Kizuna's full recompute divided by DuckDB's aggregation; the issue's goal is ≤ 2.

Then: 1,000 events for 20 accounts are ingested (the same service the HTTP API calls) and the
rollup task — rollups, then the recompute of the accounts they moved — is timed until their
new bands are stored. The queue's pick-up delay comes on top (the database worker polls every
second; set by django-tasks-db).
"""

from __future__ import annotations

import csv
import datetime
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_usage  # noqa: E402  (the data of this benchmark is bench_usage's)

# Twenty dynamic segments of the kind a CS team keeps: usage, contract, tier, stage, health.
SEGMENTS: list[tuple[str, dict[str, Any]]] = [
    (
        "No login in 14 days",
        {"metric": "usage.logins", "params": {"days": 14}, "op": "eq", "value": 0},
    ),
    ("Power users", {"metric": "usage.logins", "params": {"days": 30}, "op": "gte", "value": 60}),
    (
        "Low login rate",
        {"metric": "usage.login_rate", "params": {"days": 30}, "op": "lt", "value": 30},
    ),
    (
        "High login rate",
        {"metric": "usage.login_rate", "params": {"days": 30}, "op": "gte", "value": 70},
    ),
    (
        "Logins falling",
        {
            "metric": "usage.change",
            "params": {"of": "logins", "days": 30},
            "op": "lte",
            "value": -30,
        },
    ),
    (
        "Users decreasing",
        {
            "metric": "usage.change",
            "params": {"of": "active_users", "days": 30},
            "op": "lt",
            "value": -20,
        },
    ),
    (
        "Users increasing",
        {
            "metric": "usage.change",
            "params": {"of": "active_users", "days": 30},
            "op": "gt",
            "value": 20,
        },
    ),
    (
        "Exports reports",
        {
            "metric": "usage.event_count",
            "params": {"event": "Report Exported", "days": 30},
            "op": "gte",
            "value": 5,
        },
    ),
    (
        "Never used workflows",
        {
            "metric": "usage.event_count",
            "params": {"event": "Workflow Created", "days": 30},
            "op": "eq",
            "value": 0,
        },
    ),
    (
        "Integrations connected",
        {
            "metric": "usage.event_count",
            "params": {"event": "Integration Connected", "days": 30},
            "op": "gt",
            "value": 0,
        },
    ),
    ("Quiet for a week", {"metric": "usage.days_since_last_seen", "op": "gte", "value": 7}),
    (
        "Busy accounts",
        {"metric": "usage.activity", "params": {"days": 30}, "op": "gte", "value": 300},
    ),
    (
        "Renewal within 90 days",
        {"metric": "subscription.days_to_renewal", "op": "between", "value": [0, 90]},
    ),
    ("Large contracts", {"metric": "subscription.arr", "op": "gte", "value": 6_000_000}),
    (
        "High touch, low usage",
        {
            "and": [
                {"metric": "account.tier", "op": "in", "value": ["high"]},
                {"metric": "usage.login_rate", "params": {"days": 30}, "op": "lt", "value": 40},
            ]
        },
    ),
    (
        "Onboarding, not active",
        {
            "and": [
                {"metric": "account.stage", "op": "in", "value": ["onboarding"]},
                {"metric": "usage.active_users", "params": {"days": 14}, "op": "lt", "value": 3},
            ]
        },
    ),
    (
        "Renewal at risk",
        {
            "and": [
                {"metric": "subscription.days_to_renewal", "op": "between", "value": [0, 120]},
                {
                    "or": [
                        {
                            "metric": "usage.change",
                            "params": {"of": "logins", "days": 30},
                            "op": "lt",
                            "value": -20,
                        },
                        {
                            "metric": "usage.login_rate",
                            "params": {"days": 30},
                            "op": "lt",
                            "value": 30,
                        },
                    ]
                },
            ]
        },
    ),
    (
        "Seats nearly full",
        {"metric": "usage.login_rate", "params": {"days": 30}, "op": "gte", "value": 90},
    ),
    (
        "Manufacturing in Kanto",
        {
            "and": [
                {
                    "metric": "account.attribute",
                    "params": {"field": "industry"},
                    "op": "in",
                    "value": ["manufacturing"],
                },
                {
                    "metric": "account.attribute",
                    "params": {"field": "region"},
                    "op": "in",
                    "value": ["kanto"],
                },
            ]
        },
    ),
    (
        "Tech touch, engaged",
        {
            "and": [
                {"metric": "account.tier", "op": "in", "value": ["tech"]},
                {"metric": "usage.active_users", "params": {"days": 30}, "op": "gte", "value": 5},
                {"not": {"metric": "usage.days_since_last_seen", "op": "gt", "value": 3}},
            ]
        },
    ),
]

# DuckDB: the per-account figures above from the raw events, in one pass, plus the segment
# conditions and a weighted score over them (the shape of a scorecard's computation).
REFERENCE_SQL = """
WITH figures AS (
    SELECT
        account_id,
        COUNT(*) FILTER (WHERE kind = 'track' AND event = 'Logged In'
                         AND day > $today - 30) AS logins_30,
        COUNT(*) FILTER (WHERE kind = 'track' AND event = 'Logged In'
                         AND day > $today - 14) AS logins_14,
        COUNT(*) FILTER (WHERE kind = 'track' AND event = 'Logged In'
                         AND day <= $today - 30 AND day > $today - 60) AS logins_prev,
        COUNT(DISTINCT contact_id) FILTER (WHERE day > $today - 30) AS users_30,
        COUNT(DISTINCT contact_id) FILTER (WHERE day > $today - 14) AS users_14,
        COUNT(DISTINCT contact_id) FILTER (WHERE day <= $today - 30
                                           AND day > $today - 60) AS users_prev,
        COUNT(*) FILTER (WHERE day > $today - 30) AS activity_30,
        COUNT(*) FILTER (WHERE kind = 'track' AND event = 'Report Exported'
                         AND day > $today - 30) AS exports,
        COUNT(*) FILTER (WHERE kind = 'track' AND event = 'Workflow Created'
                         AND day > $today - 30) AS workflows,
        COUNT(*) FILTER (WHERE kind = 'track' AND event = 'Integration Connected'
                         AND day > $today - 30) AS integrations,
        MAX(day) AS last_day
    FROM events
    GROUP BY account_id
),
scored AS (
    SELECT
        a.id,
        COALESCE(f.logins_30, 0) AS logins_30,
        100.0 * COALESCE(f.users_30, 0) / NULLIF(a.seats, 0) AS login_rate,
        100.0 * (COALESCE(f.logins_30, 0) - f.logins_prev)
            / NULLIF(f.logins_prev, 0) AS logins_change,
        100.0 * (COALESCE(f.users_30, 0) - f.users_prev)
            / NULLIF(f.users_prev, 0) AS users_change,
        $today - f.last_day AS quiet_days,
        f.*, a.arr, a.tier, a.stage, a.industry, a.region, a.renewal_in
    FROM accounts a LEFT JOIN figures f ON f.account_id = a.id
)
SELECT
    COUNT(*) FILTER (WHERE COALESCE(logins_14, 0) = 0),
    COUNT(*) FILTER (WHERE logins_30 >= 60),
    COUNT(*) FILTER (WHERE login_rate < 30),
    COUNT(*) FILTER (WHERE login_rate >= 70),
    COUNT(*) FILTER (WHERE logins_change <= -30),
    COUNT(*) FILTER (WHERE users_change < -20),
    COUNT(*) FILTER (WHERE users_change > 20),
    COUNT(*) FILTER (WHERE COALESCE(exports, 0) >= 5),
    COUNT(*) FILTER (WHERE COALESCE(workflows, 0) = 0),
    COUNT(*) FILTER (WHERE COALESCE(integrations, 0) > 0),
    COUNT(*) FILTER (WHERE quiet_days >= 7),
    COUNT(*) FILTER (WHERE COALESCE(activity_30, 0) >= 300),
    COUNT(*) FILTER (WHERE renewal_in BETWEEN 0 AND 90),
    COUNT(*) FILTER (WHERE arr >= 6000000),
    COUNT(*) FILTER (WHERE tier = 'high' AND login_rate < 40),
    COUNT(*) FILTER (WHERE stage = 'onboarding' AND COALESCE(users_14, 0) < 3),
    COUNT(*) FILTER (WHERE renewal_in BETWEEN 0 AND 120
                     AND (logins_change < -20 OR login_rate < 30)),
    COUNT(*) FILTER (WHERE login_rate >= 90),
    COUNT(*) FILTER (WHERE industry = 'manufacturing' AND region = 'kanto'),
    COUNT(*) FILTER (WHERE tier = 'tech' AND COALESCE(users_30, 0) >= 5
                     AND NOT quiet_days > 3),
    AVG(
        0.4 * LEAST(100, GREATEST(0, login_rate))
        + 0.3 * LEAST(100, GREATEST(0, 50 + COALESCE(users_change, 0)))
        + 0.3 * CASE WHEN quiet_days <= 3 THEN 100 WHEN quiet_days <= 14 THEN 50 ELSE 0 END
    )
FROM scored
"""


def _export(database: str, path: Path) -> int:
    """The events and accounts the reference reads, as CSV files (once per database)."""
    from django.db import connection

    from kizuna.customers.models import Account

    events = path / "events.csv"
    accounts = path / "accounts.csv"
    today = datetime.date.today()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM usage_event WHERE type IN ('track', 'page', 'screen')")
        count = int(cursor.fetchone()[0])
        marker = path / "events.count"
        if not (events.exists() and marker.exists() and marker.read_text() == str(count)):
            cursor.execute(
                "SELECT account_id, contact_id, type, event, day FROM usage_event "
                "WHERE type IN ('track', 'page', 'screen') AND account_id IS NOT NULL"
            )
            with events.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["account_id", "contact_id", "kind", "event", "day"])
                while rows := cursor.fetchmany(50_000):
                    writer.writerows(rows)
            marker.write_text(str(count))
    from django.db.models import Sum

    from kizuna.customers.choices import LIVE_SUBSCRIPTION_STATUSES
    from kizuna.customers.models import Subscription

    seats = dict(
        Subscription.objects.filter(status__in=LIVE_SUBSCRIPTION_STATUSES)
        .values("account_id")
        .annotate(total=Sum("seats"))
        .values_list("account_id", "total")
    )
    with accounts.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "arr", "tier", "stage", "industry", "region", "seats", "renewal_in"])
        for row in Account.objects.values_list(
            "id", "arr", "tier", "stage", "industry", "region", "next_renewal_date"
        ).iterator(chunk_size=10_000):
            renewal = (row[6] - today).days if row[6] else None
            writer.writerow([*row[:6], seats.get(row[0], 0), renewal])
    return count


def reference(path: Path, runs: int) -> tuple[float, float]:
    import duckdb

    db = duckdb.connect()
    started = time.perf_counter()
    db.execute(  # the paths are this benchmark's own files
        f"CREATE TABLE events AS SELECT * FROM read_csv('{path / 'events.csv'}', header=true, "  # noqa: S608
        "columns={'account_id': 'BIGINT', 'contact_id': 'BIGINT', 'kind': 'VARCHAR', "
        "'event': 'VARCHAR', 'day': 'DATE'})"
    )
    db.execute(
        f"CREATE TABLE accounts AS SELECT * FROM read_csv('{path / 'accounts.csv'}', header=true)"  # noqa: S608
    )
    loaded = time.perf_counter() - started
    today = datetime.date.today()
    sql = REFERENCE_SQL.replace("$today", f"DATE '{today.isoformat()}'")
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        db.execute(sql).fetchall()
        timings.append(time.perf_counter() - started)
    return loaded, statistics.median(timings)


def configure() -> None:
    """The shipped templates and rules, and the 20 benchmark segments (replacing earlier ones)."""
    from kizuna.health import templates_seed
    from kizuna.lifecycle import services as lifecycle
    from kizuna.segments import services as segments
    from kizuna.segments.models import Segment

    templates_seed.install()
    lifecycle.ensure_default_rules()
    Segment.objects.filter(name__startswith="[bench] ").delete()
    for name, tree in SEGMENTS:
        segments.create_segment(None, name=f"[bench] {name}", conditions=tree)


def incremental(database: str) -> float:
    """Seconds from a stored 1,000-event batch to the new bands of the accounts it moved."""
    import uuid

    from django.utils import timezone

    from kizuna.customers.models import Contact
    from kizuna.health.models import HealthScore
    from kizuna.usage import segment, services, tasks
    from kizuna.usage.models import Source

    people = list(
        Contact.objects.exclude(product_user_id=None)
        .order_by("account_id")
        .values_list("product_user_id", "account_id")[:2000:100]
    )
    now = timezone.now()
    items = [
        {
            "type": "track",
            "userId": people[i % len(people)][0],
            "event": "Logged In",
            "messageId": str(uuid.uuid4()),
            "timestamp": now.isoformat(),
        }
        for i in range(1000)
    ]
    messages, _rejected = segment.normalise_all(
        items, forced_type=None, batch_sent_at=None, received_at=now, measure=False
    )
    source_id = Source.objects.values_list("id", flat=True).first()
    assert source_id is not None
    accounts = {account for _user, account in people}
    started = time.perf_counter()
    services.ingest(source_id, messages, received_at=now)
    tasks.rollup_new_events.call()
    elapsed = time.perf_counter() - started
    fresh = HealthScore.objects.filter(account_id__in=accounts, computed_at__gte=now).count()
    print(f"[{database}] incremental: {fresh} of {len(accounts)} accounts rescored")
    return elapsed


def run_child(database: str, accounts: int, events: int, runs: int) -> None:
    data_dir = bench_usage.open_database(database, accounts, events)

    from kizuna.core import recompute
    from kizuna.usage import rollups

    started = time.perf_counter()
    rollups.refresh_windows(only_active=False)
    print(
        f"[{database}] usage counters of every account refreshed in "
        f"{time.perf_counter() - started:.1f} s (the rollup worker's and the nightly job's "
        "work, not part of the recompute)"
    )
    configure()
    from django.db import connection

    with connection.cursor() as cursor:
        # The migrations and the set-up above rewrote every account row: leave the tables
        # as autovacuum would in a running installation (not timed).
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    exported = _export(database, data_dir)
    loaded, duck = reference(data_dir, runs)
    print(f"[{database}] DuckDB: {exported:,} events loaded in {loaded:.1f} s (not timed)")
    timings = []
    for attempt in range(runs):
        started = time.perf_counter()
        report = recompute.recompute()
        timings.append(time.perf_counter() - started)
        steps = ", ".join(f"{key}: {seconds:.2f} s" for key, seconds in report.step_seconds.items())
        print(f"[{database}] full recompute #{attempt + 1}: {timings[-1]:.2f} s ({steps})")
        if report.errors:
            print(f"[{database}]   errors: {report.errors}")
    kizuna = statistics.median(timings)
    latency = incremental(database)
    print(
        f"[{database}] RESULT full recompute {kizuna:.2f} s | DuckDB raw aggregation "
        f"{duck:.3f} s | ratio {kizuna / duck:.1f} | 1,000-event batch to new bands "
        f"{latency:.2f} s"
    )


def main() -> None:
    args = bench_usage.arguments(__doc__, "runs", 3)
    if args.child:
        run_child(args.child, args.accounts, args.events, args.runs)
    else:
        bench_usage.run_children(__file__, args, "runs")


if __name__ == "__main__":
    main()
