"""Server-side latency of the usage pages with 10 million events over 100,000 accounts.

    .venv/bin/python bench/bench_usage.py --accounts 100000 --events 10000000 --database both

Seeds a dedicated database — bench/.data/usage-sqlite/ and/or the PostgreSQL database
`kizuna_bench_usage` — with the demo portfolio (`kizuna.customers.demo.generate`), then
`--events` tracking events spread over the accounts and the last 90 days (a skewed,
log-normal spread: a few heavy users, a long tail, churned accounts silent), inserted in bulk
(COPY on PostgreSQL; not through HTTP, see bench_ingest.py for that), and builds the rollups
with the real rollup worker. A second run reuses the database when it holds the same numbers.

Then it times, through Django's whole request handling in-process (middleware, session, view,
queries, template; no network) signed in as a CSM: the account 360 usage panel of random
accounts, the accounts list with its "Logins (30 days)" column (default order, sorted by
logins, filtered and sorted), the contact activity panel and the account 360 page (whose
timeline now includes usage), and prints p50 and p95.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
POSTGRES_URL = os.environ.get(
    "KIZUNA_BENCH_USAGE_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/kizuna_bench_usage"
)
DAYS = 90
FEATURES = [
    "Dashboard Viewed",
    "Report Exported",
    "Filter Applied",
    "Search Performed",
    "Comment Added",
    "File Uploaded",
    "Invoice Created",
    "User Invited",
    "Workflow Created",
    "Scheduled Report Created",
    "Integration Connected",
    "API Key Created",
]
PAGES = ["Dashboard", "Reports", "Customers", "Settings", "Billing"]
COLUMNS = (
    "message_id, source_id, type, event, user_id, anonymous_id, contact_id, account_id, "
    "timestamp, day, received_at, properties, context, page_url, page_path, page_title"
)


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _fresh_database(database: str, data_dir: Path) -> None:
    """An empty database for this benchmark (the previous one is dropped)."""
    if database == "sqlite":
        for path in data_dir.glob("kizuna.sqlite3*"):
            path.unlink()
        return
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(POSTGRES_URL)
    with psycopg.connect(
        host=config["HOST"],
        port=config["PORT"] or 5432,
        user=config["USER"],
        dbname="postgres",
        autocommit=True,
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{config["NAME"]}"')


def _events(total: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """(message id, type, event, user id, contact id, account id, UTC time, local day) per
    event, account by account, in time order within each account. Reads the database up
    front: the events are written while they are generated."""
    from django.utils import timezone

    from kizuna.customers.choices import LifecycleStage
    from kizuna.customers.models import Account, Contact

    rng = random.Random(seed)
    today = timezone.localdate()
    first = today - datetime.timedelta(days=DAYS - 1)
    midnight = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    start = midnight.astimezone(datetime.UTC)
    offset = timezone.localtime(midnight).utcoffset() or datetime.timedelta()
    people: dict[int, list[tuple[int, str]]] = {}
    for contact_id, account_id, user_id in (
        Contact.objects.exclude(product_user_id=None)
        .order_by("id")
        .values_list("id", "account_id", "product_user_id")
    ):
        people.setdefault(account_id, []).append((contact_id, user_id or ""))
    accounts = [
        account_id
        for account_id, stage in Account.objects.order_by("id").values_list("id", "stage")
        if stage != LifecycleStage.CHURNED and account_id in people
    ]
    weights = [math.exp(rng.gauss(0, 1.1)) for _ in accounts]
    return _generate(rng, total, accounts, weights, people, start, offset)


def _generate(
    rng: random.Random,
    total: int,
    accounts: list[int],
    weights: list[float],
    people: dict[int, list[tuple[int, str]]],
    start: datetime.datetime,
    offset: datetime.timedelta,
) -> Iterator[tuple[Any, ...]]:
    scale = total / sum(weights)
    serial = 0
    for account_id, weight in zip(accounts, weights, strict=True):
        users = people[account_id]
        count = round(weight * scale)
        seconds = sorted(rng.random() * DAYS * 86400 for _ in range(count))
        for second in seconds:
            serial += 1
            if serial > total:
                return
            roll = rng.random()
            if roll < 0.3:
                kind, name = "track", "Logged In"
            elif roll < 0.6:
                kind, name = "page", rng.choice(PAGES)
            else:
                kind, name = "track", FEATURES[min(int(rng.expovariate(0.4)), len(FEATURES) - 1)]
            contact_id, user_id = users[int(rng.random() * len(users))]
            moment = start + datetime.timedelta(seconds=second)
            day = (moment + offset).date()
            yield (f"b{serial:011d}", kind, name, user_id, contact_id, account_id, moment, day)


def seed(database: str, accounts: int, events: int) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    from kizuna.customers import demo
    from kizuna.usage import rollups, services

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    demo.generate(accounts, touchpoints_per_account=2 if accounts > 1000 else None)
    print(f"[{database}] {accounts:,} accounts in {time.perf_counter() - started:.0f} s")
    source_id = services.create_source(None, "bench").source.pk
    started = time.perf_counter()
    rows = _events(events, seed=11)
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY usage_event ({COLUMNS}) FROM STDIN") as copy:
                for message_id, kind, name, user_id, contact_id, account_id, at, day in rows:
                    page = kind == "page"
                    copy.write_row(
                        (
                            message_id,
                            source_id,
                            kind,
                            name,
                            user_id,
                            "",
                            contact_id,
                            account_id,
                            at,
                            day,
                            at,
                            "{}",
                            "{}",
                            "",
                            f"/{name.lower()}" if page else "",
                            name if page else "",
                        )
                    )
    else:
        sql = f"INSERT INTO usage_event ({COLUMNS}) VALUES ({', '.join(['?'] * 16)})"  # noqa: S608
        sqlite = connection.cursor().connection
        batch: list[tuple[object, ...]] = []
        for message_id, kind, name, user_id, contact_id, account_id, at, day in rows:
            page = kind == "page"
            stamp = str(at.replace(tzinfo=None))
            batch.append(
                (
                    message_id,
                    source_id,
                    kind,
                    name,
                    user_id,
                    "",
                    contact_id,
                    account_id,
                    stamp,
                    day.isoformat(),
                    stamp,
                    "{}",
                    "{}",
                    "",
                    f"/{name.lower()}" if page else "",
                    name if page else "",
                )
            )
            if len(batch) == 200_000:
                with transaction.atomic():
                    sqlite.executemany(sql, batch)
                batch = []
        with transaction.atomic():
            sqlite.executemany(sql, batch)
    print(f"[{database}] {events:,} events in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    rollups.rollup_new_events(chunk=500_000)
    print(f"[{database}] rollups in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def open_database(database: str, accounts: int, events: int) -> Path:
    """Set Django up on this benchmark's database for `database`, seeding it first unless it
    already holds these numbers (bench_health.py reads the same data). Returns its folder."""
    data_dir = HERE / ".data" / f"usage-{database}"
    data_dir.mkdir(parents=True, exist_ok=True)
    marker = data_dir / "seeded"
    wanted = f"{accounts} accounts, {events} events\n"
    reuse = marker.exists() and marker.read_text() == wanted
    if not reuse:
        marker.unlink(missing_ok=True)
        _fresh_database(database, data_dir)
    os.environ["KIZUNA_DATA_DIR"] = str(data_dir)
    if database == "postgres":
        os.environ["KIZUNA_DATABASE_URL"] = POSTGRES_URL
    else:
        os.environ.pop("KIZUNA_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
    import django

    django.setup()
    from django.core.management import call_command

    if reuse:
        call_command("migrate", interactive=False, verbosity=0)
    else:
        seed(database, accounts, events)
        marker.write_text(wanted)
    return data_dir


def run_child(database: str, accounts: int, events: int, requests: int) -> None:
    open_database(database, accounts, events)
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import setup_test_environment

    from kizuna.core.models import Role, User
    from kizuna.customers.models import Contact
    from kizuna.usage.models import AccountActivity, AccountDailyUsage, ContactDailyUsage, Event

    setup_test_environment()
    user = User.objects.filter(role=Role.CSM).order_by("id").first()
    assert user is not None
    client = Client()
    client.force_login(user)
    rng = random.Random(7)
    used = list(AccountActivity.objects.values_list("account_id", flat=True))
    people = list(
        Contact.objects.filter(account_id__in=used[:5000]).values_list("id", flat=True)[:5000]
    )
    heaviest = (
        Event.objects.values("account_id").annotate(n=Count("id")).order_by("-n").first()
        if database == "postgres"
        else None
    )
    print(
        f"\n{database}: {accounts:,} accounts, {Event.objects.count():,} events, "
        f"{AccountDailyUsage.objects.count():,} account-day rows, "
        f"{ContactDailyUsage.objects.count():,} contact-day rows"
        + (f"; the busiest account has {heaviest['n']:,} events" if heaviest else "")
    )
    scenarios = {
        "usage panel (account 360), random account": lambda: f"/accounts/{rng.choice(used)}/usage/",
        "accounts list with logins column": lambda: "/accounts/",
        "accounts list sorted by logins (30 days)": lambda: "/accounts/?sort=-logins",
        "accounts list, tier+stage, by logins": lambda: (
            "/accounts/?tier=low&stage=adoption&sort=-logins"
        ),
        "accounts list, search 物流, by logins": lambda: "/accounts/?q=物流&sort=-logins",
        "contact activity panel": lambda: f"/contacts/{rng.choice(people)}/usage/",
        "account 360 (timeline with usage days)": lambda: f"/accounts/{rng.choice(used)}/",
    }
    print(f"{requests} requests per page after 10 warm-ups")
    print(f"{'page':<46} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, make_url in scenarios.items():
        for _ in range(10):
            client.get(make_url())
        samples = []
        for _ in range(requests):
            url = make_url()
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        print(
            f"{name:<46} {statistics.median(samples):8.1f} {_percentile(samples, 0.95):8.1f}"
            f" {max(samples):8.1f}"
        )


def arguments(description: str | None, extra: str, default: int) -> argparse.Namespace:
    """The options of this benchmark and of bench_health.py: the data, the databases and
    one option of their own (`extra`, an integer)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument(f"--{extra}", type=int, default=default)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    return parser.parse_args()


def run_children(script: str, args: argparse.Namespace, extra: str) -> None:
    """Run `script` once per database asked for: Django settings are fixed once per process."""
    for database in ["sqlite", "postgres"] if args.database == "both" else [args.database]:
        subprocess.run(  # noqa: S603
            [
                sys.executable,
                script,
                "--child",
                database,
                "--accounts",
                str(args.accounts),
                "--events",
                str(args.events),
                f"--{extra}",
                str(getattr(args, extra)),
            ],
            check=True,
        )


def main() -> None:
    args = arguments(__doc__, "requests", 100)
    if args.child:
        run_child(args.child, args.accounts, args.events, args.requests)
    else:
        run_children(__file__, args, "requests")


if __name__ == "__main__":
    main()
