"""Ingest throughput of the tracking API: `/v1/batch` with 100 events per batch from several
concurrent clients, against a real `kizuna serve` (Gunicorn, with its built-in worker rolling
the events up as they arrive), on SQLite and on PostgreSQL.

    .venv/bin/python bench/bench_ingest.py --database both --clients 8 --seconds 20

For each database it starts from an empty database (bench/.data/ingest-sqlite/, PostgreSQL
`kizuna_bench_ingest`) with 1,000 accounts and 10,000 contacts, so that every event is
attributed to a contact and an account as in production. Each client keeps one HTTP
connection and posts pre-built batches (Segment's format: userId, event, properties,
context.groupId, timestamp, messageId) as fast as the server answers. Printed: events/s over
the timed period, p50/p99/max batch latency, then — in the same run, into the same database
— a raw bulk insert of the same number of rows (the same multi-row INSERT, 100 rows per
statement, 10,000 rows per transaction, no HTTP, no parsing) and the ratio between the two.
Finally it checks that every event acknowledged is stored exactly once.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
POSTGRES_URL = os.environ.get(
    "KIZUNA_BENCH_INGEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/kizuna_bench_ingest"
)
ACCOUNTS = 1_000
CONTACTS_PER_ACCOUNT = 10
FEATURES = [
    "Logged In",
    "Report Exported",
    "Dashboard Viewed",
    "Filter Applied",
    "Invoice Created",
    "Comment Added",
    "File Uploaded",
    "Search Performed",
]


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(database: str) -> dict[str, str]:
    data_dir = HERE / ".data" / f"ingest-{database}"
    env = dict(os.environ)
    env["KIZUNA_DATA_DIR"] = str(data_dir)
    env["KIZUNA_LOG_LEVEL"] = "WARNING"
    if database == "postgres":
        env["KIZUNA_DATABASE_URL"] = POSTGRES_URL
    else:
        env.pop("KIZUNA_DATABASE_URL", None)
    return env


def _reset(database: str) -> None:
    data_dir = HERE / ".data" / f"ingest-{database}"
    if database == "postgres":
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
    elif data_dir.exists():
        for path in data_dir.glob("kizuna.sqlite3*"):
            path.unlink()
    data_dir.mkdir(parents=True, exist_ok=True)


def prepare(database: str) -> None:
    """In a child process (settings are per process): schema, a source, accounts, contacts.
    Prints the write key on the last line."""
    os.environ.update(_environment(database))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from kizuna.customers.models import Account, Contact
    from kizuna.usage import services

    call_command("migrate", interactive=False, verbosity=0)
    accounts = Account.objects.bulk_create(
        [Account(name=f"株式会社ベンチ{i}", external_id=f"BENCH-{i:05d}") for i in range(ACCOUNTS)]
    )
    Contact.objects.bulk_create(
        [
            Contact(account=account, name=f"利用者{i}-{j}", product_user_id=f"bench-{i}-{j}")
            for i, account in enumerate(accounts)
            for j in range(CONTACTS_PER_ACCOUNT)
        ]
    )
    issued = services.create_source(None, "bench")
    print(issued.write_key)


def build_bodies(count: int, batch_size: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    day = time.strftime("%Y-%m-%d", time.gmtime())
    bodies = []
    for _ in range(count):
        batch = []
        for _ in range(batch_size):
            account = rng.randrange(ACCOUNTS)
            person = rng.randrange(CONTACTS_PER_ACCOUNT)
            batch.append(
                {
                    "type": "track",
                    "event": rng.choice(FEATURES),
                    "userId": f"bench-{account}-{person}",
                    "messageId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "timestamp": f"{day}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00.000Z",
                    "properties": {"plan": "business", "items": rng.randrange(100)},
                    "context": {
                        "groupId": f"BENCH-{account:05d}",
                        "library": {"name": "analytics-python", "version": "2.4.0"},
                        "ip": "10.0.0.1",
                    },
                    "integrations": {},
                }
            )
        bodies.append(json.dumps({"batch": batch, "sentAt": f"{day}T00:00:00Z"}).encode())
    return bodies


class Client(threading.Thread):
    def __init__(self, port: int, auth: str, bodies: list[bytes], stop_at: list[float]) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.auth = auth
        self.bodies = bodies
        self.stop_at = stop_at
        self.latencies: list[tuple[float, float]] = []  # (finished at, seconds)
        self.errors = 0
        self.sent = 0

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json", "Authorization": self.auth}
        for body in self.bodies:
            if time.perf_counter() >= self.stop_at[0]:
                break
            started = time.perf_counter()
            try:
                connection.request("POST", "/v1/batch", body, headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                ok = False
            finished = time.perf_counter()
            if ok:
                self.latencies.append((finished, finished - started))
                self.sent += 1
            else:
                self.errors += 1
        connection.close()


def _wait_ready(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("OPTIONS", "/v1/batch")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("kizuna serve did not come up")


def raw_insert(database: str, rows: int, batch_size: int) -> None:
    """In a child process: the same rows (the same multi-row INSERT) without HTTP."""
    os.environ.update(_environment(database))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from kizuna.usage import segment, services
    from kizuna.usage.models import Source

    source_id = Source.objects.values_list("id", flat=True).get(name="bench")
    bodies = build_bodies(rows // batch_size, batch_size, seed=99)
    now = timezone.now()
    prepared = []
    for body in bodies:
        messages, _rejected = segment.normalise_all(
            json.loads(body)["batch"],
            forced_type=None,
            batch_sent_at=None,
            received_at=now,
            measure=False,
        )
        prepared.append(services._usage_rows(source_id, messages, now))
    per_transaction = max(1, 10_000 // batch_size)
    started = time.perf_counter()
    for start in range(0, len(prepared), per_transaction):
        with transaction.atomic():
            for chunk in prepared[start : start + per_transaction]:
                services._insert(chunk)
    elapsed = time.perf_counter() - started
    print(f"{len(prepared) * batch_size / elapsed:.0f}")


def count_events(database: str) -> None:
    os.environ.update(_environment(database))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
    import django

    django.setup()
    from kizuna.usage import rollups
    from kizuna.usage.models import AccountDailyUsage, Event

    status = rollups.status()
    rolled = AccountDailyUsage.objects.filter(type="", event="").values_list("count", flat=True)
    print(
        json.dumps(
            {"stored": Event.objects.count(), "behind": status["behind"], "rolled_up": sum(rolled)}
        )
    )


def _child(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, __file__, *args], env=env, check=True, capture_output=True, text=True
    )
    return result.stdout.strip().splitlines()[-1]


def run(database: str, options: argparse.Namespace) -> None:
    env = _environment(database)
    _reset(database)
    write_key = _child(["--child-prepare", database], env)
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    # Enough pre-built batches for the whole run at a generous rate.
    per_client = int(options.seconds * 400 / options.clients) + options.warmup + 10
    bodies = build_bodies(per_client * options.clients, options.batch_size, seed=1)
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "kizuna",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(options.workers),
            "--threads",
            str(options.threads),
            *(["--no-worker"] if options.no_worker else []),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_ready(port, time.monotonic() + 30)
        # Warm-up: every worker process and thread has connected and imported everything.
        stop_at = [float("inf")]
        warm = [
            Client(port, auth, bodies[i * per_client : i * per_client + options.warmup], stop_at)
            for i in range(options.clients)
        ]
        for client in warm:
            client.start()
        for client in warm:
            client.join()
        cpu_before = os.times()
        started = time.perf_counter()
        stop_at[0] = started + options.seconds
        clients = [
            Client(
                port, auth, bodies[i * per_client + options.warmup : (i + 1) * per_client], stop_at
            )
            for i in range(options.clients)
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        elapsed = time.perf_counter() - started
        cpu_after = os.times()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    latencies = [seconds * 1000 for client in clients for _at, seconds in client.latencies]
    batches = len(latencies)
    errors = sum(client.errors for client in clients)
    events_per_second = batches * options.batch_size / elapsed
    client_cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    stored = json.loads(_child(["--child-count", database], env))
    raw = float(_child(["--child-raw", database, "--rows", str(min(batches, 2000) * 100)], env))
    sent = (batches + options.warmup * options.clients) * options.batch_size
    print(
        f"\n{database}: {options.clients} clients, batches of {options.batch_size}, "
        f"kizuna serve --workers {options.workers} --threads {options.threads}"
    )
    print(
        f"  HTTP /v1/batch     {events_per_second:>9,.0f} events/s   "
        f"({batches:,} batches in {elapsed:.1f} s, {errors} errors)"
    )
    print(
        f"  batch latency      p50 {statistics.median(latencies):.1f} ms   "
        f"p99 {_percentile(latencies, 0.99):.1f} ms   max {max(latencies):.1f} ms"
    )
    print(f"  raw bulk insert    {raw:>9,.0f} events/s   (same rows, same INSERT, no HTTP)")
    print(f"  ratio HTTP / raw   {events_per_second / raw:.2f}")
    print(f"  load generator CPU {client_cpu / elapsed * 100:.0f}% of one core")
    print(
        f"  stored {stored['stored']:,} of {sent:,} events acknowledged over HTTP; rollups "
        f"{stored['behind']:,} events behind when the server stopped"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=int, default=20, help="batches per client first")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--no-worker", action="store_true", help="serve without the built-in worker (no rollups)"
    )
    parser.add_argument("--child-prepare", help=argparse.SUPPRESS)
    parser.add_argument("--child-raw", help=argparse.SUPPRESS)
    parser.add_argument("--child-count", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_prepare:
        prepare(args.child_prepare)
        return
    if args.child_raw:
        raw_insert(args.child_raw, args.rows, 100)
        return
    if args.child_count:
        count_events(args.child_count)
        return
    for database in ["sqlite", "postgres"] if args.database == "both" else [args.database]:
        run(database, args)


if __name__ == "__main__":
    main()
