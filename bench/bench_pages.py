"""Server-side latency of the hot pages on a large portfolio.

    .venv/bin/python bench/bench_pages.py --accounts 100000 --database both

Seeds N accounts (with contacts, contracts and touchpoints) into a dedicated database — an
SQLite file under bench/.data/ and/or the PostgreSQL database `kizuna_bench` — reusing it on
the next run when it already holds N accounts, then times each page through Django's full
request handling (middleware, view, queries, template) in-process and prints p50 and p95.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
POSTGRES_URL = os.environ.get(
    "KIZUNA_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/kizuna_bench"
)


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _prepare_postgres() -> None:
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
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{config["NAME"]}"')


def run_child(database: str, accounts: int, requests: int) -> None:
    data_dir = HERE / ".data" / database
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["KIZUNA_DATA_DIR"] = str(data_dir)
    if database == "postgres":
        _prepare_postgres()
        os.environ["KIZUNA_DATABASE_URL"] = POSTGRES_URL
    else:
        os.environ.pop("KIZUNA_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from kizuna.core.models import Role, User
    from kizuna.customers import demo
    from kizuna.customers.models import Account

    call_command("migrate", interactive=False, verbosity=0)
    if Account.objects.count() != accounts:
        if Account.objects.exists():
            call_command("flush", interactive=False, verbosity=0)
        started = time.perf_counter()
        demo.generate(accounts, touchpoints_per_account=2 if accounts > 1000 else None)
        print(f"[{database}] seeded {accounts} accounts in {time.perf_counter() - started:.0f} s")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        else:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    setup_test_environment()  # lets the test client run with ALLOWED_HOSTS=testserver
    user = User.objects.filter(role=Role.CSM).order_by("id").first()
    assert user is not None, "the generator creates CSMs"
    client = Client()
    client.force_login(user)
    ids = list(Account.objects.values_list("id", flat=True))
    rng = random.Random(7)
    scenarios = {
        "accounts list, default view": lambda: "/accounts/",
        "accounts list, Japanese partial name (物流)": lambda: "/accounts/?q=物流",
        "accounts list, kana search (さくら)": lambda: "/accounts/?q=さくら",
        "accounts list, filter tier+stage": lambda: "/accounts/?tier=low&stage=adoption",
        "accounts list, sort by ARR": lambda: "/accounts/?sort=-arr",
        "accounts list, page 500": lambda: "/accounts/?page=500",
        "account 360": lambda: f"/accounts/{rng.choice(ids)}/",
        "home": lambda: "/",
    }
    print(f"\n{database}: {accounts:,} accounts, {requests} requests per page after 10 warm-ups")
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.accounts, args.requests)
        return
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for database in databases:
        # One process per database: Django settings are fixed once per process.
        subprocess.run(  # noqa: S603
            [
                sys.executable,
                __file__,
                "--child",
                database,
                "--accounts",
                str(args.accounts),
                "--requests",
                str(args.requests),
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
