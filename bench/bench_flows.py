"""Success flows (issue 5): event-to-CTA latency, trigger evaluation throughput, due waits.

    .venv/bin/python bench/bench_flows.py --database both --accounts 100000 --events 1000000

Goals of issue 5 (docs/benchmarks.md has the figures): p95 ≤ 5 s from an accepted event to
its CTA; ≥ 20,000 events/s of trigger evaluation against 50 live flows; 100,000 due waits
processed in ≤ 30 s.

1. Latency (SQLite only: the embedded default). A fresh database in bench/.data/flows-latency/
   with `--latency-accounts` demo accounts, a source and one live flow "second login → create
   a CTA". A real `kizuna serve` (Gunicorn and its built-in database-queue worker, exactly as
   `./run demo` serves) receives, for each account, two "Logged In" calls on `/v1/track`
   (`--rate` accounts started per second, the second call `--gap` seconds after the first).
   The time the second call was acknowledged is compared with the `created_at` of the
   account's CTA, read from the database file (read-only) while the server runs.
2. Trigger evaluation. A database of its own (bench/.data/flows-sqlite/, PostgreSQL
   `kizuna_bench_flows`) with the demo portfolio of `--accounts` accounts and `--events`
   usage events in time order (bulk-inserted, not through HTTP; the mix of bench_usage.py,
   with properties on some events), seeded once and reused. Each run empties the rollups,
   creates 50 live flows with event triggers (logins, features, pages; some counting the Nth
   occurrence, some per contact, some with property filters or an audience, some starting
   with a wait) and lets the real rollup worker fold the events in (all of them, or about
   `--evaluate`), chunk by chunk (`rollups.chunk_size()`): only
   `kizuna.flows.triggers.on_events`, which the worker calls in each chunk's transaction, is
   timed. So each chunk sees the rollups up to itself and "the second login" is counted
   exactly as in production. With `--again`, the same chunks are then evaluated once more
   over the finished rollups (enrolments emptied first); occurrence counts then read totals
   that include later events.
3. Due waits. In the same database, `--waits` accounts are enrolled two days ago in a live
   flow whose only step is a one-day wait (the first ENROL_SAMPLE through engine.enrol, timed
   apart, the rest inserted in bulk); then `engine.run_due` is timed until nothing is due
   (or `--waits-budget` seconds have passed: the total is then projected).

Figures are printed; docs/benchmarks.md records them with the machine.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import http.client
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_ingest  # noqa: E402
import bench_usage  # noqa: E402

POSTGRES_URL = os.environ.get(
    "KIZUNA_BENCH_FLOWS_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/kizuna_bench_flows"
)
# bench_usage's helpers drop and create the database this names: this benchmark's own.
bench_usage.POSTGRES_URL = POSTGRES_URL
LATENCY_DIR = HERE / ".data" / "flows-latency"
PREFIX = "[bench] "
# Accounts enrolled through engine.enrol in the due-waits test (the others in bulk: enrolling
# 100,000 through the engine takes minutes, see docs/benchmarks.md).
ENROL_SAMPLE = 2000
SECOND_LOGIN = {"type": "event", "event": "$login", "occurrence": 2}


def _environment(database: str, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["KIZUNA_DATA_DIR"] = str(data_dir)
    env["KIZUNA_LOG_LEVEL"] = "WARNING"
    env.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
    if database == "postgres":
        env["KIZUNA_DATABASE_URL"] = POSTGRES_URL
    else:
        env.pop("KIZUNA_DATABASE_URL", None)
    return env


def _setup(database: str, data_dir: Path) -> None:
    os.environ.update(_environment(database, data_dir))
    if database != "postgres":
        os.environ.pop("KIZUNA_DATABASE_URL", None)
    import django

    django.setup()


def _cta(reason: str) -> dict[str, Any]:
    return {
        "id": "cta",
        "type": "action",
        "action": "cta.create",
        "params": {"type": "onboarding", "reason": reason},
    }


def _make_flow(name: str, definition: dict[str, Any]) -> Any:
    from kizuna.flows import services
    from kizuna.flows.choices import FlowStatus

    flow = services.create_flow(None, PREFIX + name, definition)
    services.set_status(None, flow, FlowStatus.LIVE)
    return flow


# --- 1. Latency from an accepted event to its CTA -------------------------------------------


def prepare_latency(accounts: int) -> None:
    """Child process: a fresh database with demo accounts, a source and the live flow.
    Prints the write key and one user id per account (JSON) on the last line."""
    bench_usage._fresh_database("sqlite", LATENCY_DIR)
    _setup("sqlite", LATENCY_DIR)
    from django.core.management import call_command

    from kizuna.customers import demo
    from kizuna.customers.models import Contact
    from kizuna.usage import services

    call_command("migrate", interactive=False, verbosity=0)
    demo.generate(accounts)
    users: dict[int, str] = {}
    for account_id, user_id in (
        Contact.objects.exclude(product_user_id=None)
        .order_by("id")
        .values_list("account_id", "product_user_id")
    ):
        users.setdefault(account_id, user_id or "")
    key = services.create_source(None, "bench").write_key
    _make_flow(
        "Second login",
        {"trigger": SECOND_LOGIN, "start": "cta", "steps": [_cta("Second login: tutorial")]},
    )
    print(json.dumps({"key": key, "users": sorted(users.items())}))


def _post(port: int, auth: str, user_id: str, event: str) -> None:
    """One track call on a connection of its own (as a product's backend sends them, spaced
    out: Gunicorn closes idle keep-alive connections after two seconds)."""
    body = {
        "userId": user_id,
        "event": event,
        "messageId": str(uuid.uuid4()),
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(),
        "properties": {"bench": True},
    }
    headers = {"Content-Type": "application/json", "Authorization": auth}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/v1/track", json.dumps(body), headers)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 200, response.status


def _stamps(database: Path, sql: str) -> dict[int, float]:
    """account id → epoch seconds of a UTC datetime column, read without writing."""
    reader = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        return {
            int(account_id): datetime.datetime.fromisoformat(stamp)
            .replace(tzinfo=datetime.UTC)
            .timestamp()
            for account_id, stamp in reader.execute(sql)
        }
    finally:
        reader.close()


def _spread(name: str, samples: list[float]) -> str:
    return (
        f"  {name:<34} p50 {statistics.median(samples):6.2f} s   "
        f"p95 {bench_usage._percentile(samples, 0.95):6.2f} s   max {max(samples):6.2f} s"
    )


def run_latency(options: argparse.Namespace) -> None:
    env = _environment("sqlite", LATENCY_DIR)
    LATENCY_DIR.mkdir(parents=True, exist_ok=True)
    prepared = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--child-latency", str(options.latency_accounts)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    setup = json.loads(prepared.stdout.strip().splitlines()[-1])
    auth = "Basic " + base64.b64encode(f"{setup['key']}:".encode()).decode()
    users: list[tuple[int, str]] = [(int(a), u) for a, u in setup["users"]]
    database = LATENCY_DIR / "kizuna.sqlite3"
    port = bench_ingest._free_port()
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "kizuna", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        bench_ingest._wait_ready(port, time.monotonic() + 30)
        for _ in range(10):  # every Gunicorn worker imports and connects (an unknown user)
            _post(port, auth, "warm-up", "Warmed Up")
        time.sleep(3)
        # (planned offset, account, which call) — the second call `gap` after the first.
        plan = sorted(
            [(i / options.rate, i, 1) for i in range(len(users))]
            + [(i / options.rate + options.gap, i, 2) for i in range(len(users))]
        )
        accepted: dict[int, float] = {}
        started = time.monotonic()
        for offset, index, which in plan:
            delay = started + offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            _post(port, auth, users[index][1], "Logged In")
            if which == 2:
                accepted[users[index][0]] = time.time()
        deadline = time.monotonic() + options.latency_timeout
        created: dict[int, float] = {}
        while time.monotonic() < deadline:
            created = _stamps(
                database, "SELECT account_id, created_at FROM playbooks_cta WHERE source = 'flow'"
            )
            if len(created) >= len(accepted):
                break
            time.sleep(0.5)
        entered = _stamps(database, "SELECT account_id, entered_at FROM flows_enrolment")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    latencies = [created[a] - at for a, at in accepted.items() if a in created]
    print(
        f"\nsqlite: latency, {len(accepted)} accounts ({options.rate:g} per second, second "
        f"login {options.gap:g} s after the first), kizuna serve with its built-in worker"
    )
    print(f"  CTAs created for {len(latencies)} of {len(accepted)} accounts")
    if not latencies:
        return
    print(_spread("second login accepted → CTA", latencies))
    print(
        _spread(
            "  accepted → enrolled",
            [entered[a] - at for a, at in accepted.items() if a in entered],
        )
    )
    print(
        _spread(
            "  enrolled → CTA",
            [created[a] - entered[a] for a in created if a in entered and a in accepted],
        )
    )
    p95 = bench_usage._percentile(latencies, 0.95)
    print(f"  RESULT p95 {p95:.2f} s: goal ≤ 5 s {'met' if p95 <= 5 else 'NOT met'}")


# --- The shared database of 2 and 3 ---------------------------------------------------------

# What some events carry, so property filters have something to match.
PROPERTIES: dict[str, Any] = {
    "Report Exported": lambda rng: {"format": rng.choice(["csv", "xlsx", "pdf"])},
    "Filter Applied": lambda rng: {"filters": rng.randrange(1, 8)},
    "Search Performed": lambda rng: {"results": rng.choice([0, 0, 3, 12, 40])},
    "File Uploaded": lambda rng: {"size_kb": int(rng.expovariate(1 / 2000))},
    "Invoice Created": lambda rng: {"amount": rng.randrange(10_000, 3_000_000, 1000)},
    "Integration Connected": lambda rng: {"provider": rng.choice(["salesforce", "slack", "sap"])},
}


def _seed(database: str, accounts: int, events: int) -> None:
    """Demo accounts and `events` usage events in time order (as they would arrive), not
    rolled up: each run rolls them up itself."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from kizuna.customers import demo
    from kizuna.usage import services
    from kizuna.usage.models import Event

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    demo.generate(accounts, touchpoints_per_account=2 if accounts > 1000 else None)
    print(f"[{database}] {accounts:,} accounts in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    source_id = services.create_source(None, "bench").source.pk
    rows = sorted(bench_usage._events(events, seed=11), key=lambda row: row[6])
    rng = random.Random(5)
    batch: list[Event] = []
    for message_id, kind, name, user_id, contact_id, account_id, at, day in rows:
        page = kind == "page"
        make = PROPERTIES.get(name)
        batch.append(
            Event(
                message_id=message_id,
                source_id=source_id,
                type=kind,
                event=name,
                user_id=user_id,
                contact_id=contact_id,
                account_id=account_id,
                timestamp=at,
                day=day,
                received_at=at,
                properties=make(rng) if make else {},
                page_path=f"/{name.lower()}" if page else "",
                page_title=name if page else "",
            )
        )
        if len(batch) == 20_000:
            with transaction.atomic():
                Event.objects.bulk_create(batch, batch_size=2000)
            batch = []
    with transaction.atomic():
        Event.objects.bulk_create(batch, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"[{database}] {events:,} events in {time.perf_counter() - started:.0f} s")


def open_database(database: str, accounts: int, events: int) -> None:
    data_dir = HERE / ".data" / f"flows-{database}"
    data_dir.mkdir(parents=True, exist_ok=True)
    marker = data_dir / "seeded"
    wanted = f"{accounts} accounts, {events} events in time order\n"
    reuse = marker.exists() and marker.read_text() == wanted
    if not reuse:
        marker.unlink(missing_ok=True)
        bench_usage._fresh_database(database, data_dir)
    _setup(database, data_dir)
    if reuse:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    else:
        _seed(database, accounts, events)
        marker.write_text(wanted)


def _forget_flows() -> None:
    """Remove the flows of earlier runs with their enrolments and runs (not timed)."""
    from kizuna.flows.models import Enrolment, StepRun, SuccessFlow
    from kizuna.playbooks.models import Cta

    flows = SuccessFlow.objects.filter(name__startswith=PREFIX)
    StepRun.objects.filter(flow__in=flows).delete()
    Enrolment.objects.filter(flow__in=flows).delete()
    Cta.objects.filter(source="flow").delete()
    flows.delete()


# --- 2. Trigger evaluation over 1,000,000 events --------------------------------------------


def _flows_mix() -> list[tuple[str, dict[str, Any]]]:
    """50 event-triggered flows of the kinds customers set up."""
    found: list[tuple[str, dict[str, Any]]] = []

    def add(name: str, trigger: dict[str, Any], *, wait: bool = False, **more: Any) -> None:
        steps = [_cta("Follow up")]
        if wait:
            steps.insert(0, {"id": "wait", "type": "wait", "delay": {"days": 1}, "next": "cta"})
        definition = {"trigger": {"type": "event", **trigger}, "start": steps[0]["id"]}
        found.append((name, {**definition, "steps": steps, **more}))

    def having(key: str, op: str, value: Any) -> list[dict[str, Any]]:
        return [{"key": key, "op": op, "value": value}]

    for n in (1, 2, 3, 5, 10, 20, 50):
        add(f"Login #{n}", {"event": "$login", "occurrence": n}, wait=n in (1, 10))
    for n in (2, 5, 10):
        add(f"Login #{n} by one user", {"event": "$login", "occurrence": n, "per": "contact"})
    add("Every login", {"event": "$login"}, reentry={"mode": "again", "after_days": 30})
    for index, feature in enumerate(bench_usage.FEATURES):
        add(f"First {feature}", {"event": feature, "occurrence": 1}, wait=index % 4 == 0)
        add(f"{feature} ×5 by one user", {"event": feature, "occurrence": 5, "per": "contact"})
    add(
        "Export to Excel",
        {"event": "Report Exported", "properties": having("format", "eq", "xlsx")},
    )
    add(
        "Search without results",
        {"event": "Search Performed", "properties": having("results", "lt", 1)},
    )
    add("Heavy filtering", {"event": "Filter Applied", "properties": having("filters", "gt", 5)})
    add("Large upload", {"event": "File Uploaded", "properties": having("size_kb", "gt", 10000)})
    add(
        "Large invoice, third time",
        {
            "event": "Invoice Created",
            "occurrence": 3,
            "properties": having("amount", "gt", 2_000_000),
        },
    )
    add(
        "Salesforce connected",
        {"event": "Integration Connected", "properties": having("provider", "contains", "force")},
    )
    add(
        "Tech touch exports",
        {"event": "Report Exported", "occurrence": 3},
        audience={"metric": "account.tier", "op": "in", "value": ["tech"]},
    )
    add(
        "High touch first invoice",
        {"event": "Invoice Created", "occurrence": 1},
        audience={"metric": "account.tier", "op": "in", "value": ["high"]},
    )
    add("Billing page", {"event": "Billing", "occurrence": 1}, wait=True)
    add("Settings page ×3 by one user", {"event": "Settings", "occurrence": 3, "per": "contact"})
    add("Reports page ×10", {"event": "Reports", "occurrence": 10})
    add("Dashboard page ×20", {"event": "Dashboard", "occurrence": 20})
    add("First login of a user", {"event": "$login", "occurrence": 1, "per": "contact"})
    add(
        "Settings left incomplete",
        {"event": "Settings Saved", "properties": having("complete", "eq", False)},
    )
    add("Page dwell", {"event": "Page Dwell"})
    return found


def _empty_rollups() -> None:
    """Back to "nothing rolled up yet" (the events stay)."""
    from django.db import transaction

    from kizuna.core.models import DirtyAccount
    from kizuna.usage.models import (
        AccountActivity,
        AccountDailyUsage,
        ContactActivity,
        ContactDailyUsage,
        Feature,
        RollupState,
    )

    with transaction.atomic():
        for model in (
            AccountDailyUsage,
            ContactDailyUsage,
            AccountActivity,
            ContactActivity,
            Feature,
            DirtyAccount,
        ):
            model.objects.all()._raw_delete(model.objects.db)
        RollupState.objects.update_or_create(pk=1, defaults={"last_event_id": 0})


@contextlib.contextmanager
def _enrol_timed() -> Iterator[list[float]]:
    """The seconds of each engine.enrol call meanwhile (the triggers call it through the
    module, so this wrapper sees them)."""
    from kizuna.flows import engine

    enrol = engine.enrol
    spent: list[float] = []

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return enrol(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - began)

    engine.enrol = timed
    try:
        yield spent
    finally:
        engine.enrol = enrol


def run_triggers(database: str, events: int, evaluate: int | None, again: bool) -> None:
    from kizuna.flows import triggers
    from kizuna.flows.models import Enrolment
    from kizuna.usage import rollups
    from kizuna.usage.models import Event

    _forget_flows()
    _empty_rollups()
    mix = _flows_mix()
    for name, definition in mix:
        _make_flow(name, definition)
    timings: list[float] = []
    chunks: list[tuple[int, int]] = []

    def timed(start: int, end: int) -> None:
        began = time.perf_counter()
        triggers.on_events(start, end)
        timings.append(time.perf_counter() - began)
        chunks.append((start, end))

    # Time the listener where the worker calls it, and within it the enrolling.
    rollups.CHUNK_LISTENERS[rollups.CHUNK_LISTENERS.index(triggers.on_events)] = timed
    size = rollups.chunk_size()
    started = time.perf_counter()
    with _enrol_timed() as enrolling:
        rolled = rollups.rollup_new_events(evaluate)
    total = time.perf_counter() - started
    rollups.CHUNK_LISTENERS[rollups.CHUNK_LISTENERS.index(timed)] = triggers.on_events
    assert Event.objects.count() == events
    enrolled = Enrolment.objects.count()
    spent = sum(timings)
    rate = rolled / spent
    print(
        f"\n{database}: trigger evaluation, {rolled:,} events (the oldest of {events:,}) in "
        f"{len(chunks)} chunks of "
        f"{size:,} against {len(mix)} live event-triggered flows"
    )
    print(
        f"  as the rollup worker calls it   {rate:>8,.0f} events/s   (on_events {spent:.1f} s "
        f"of the worker's {total:.1f} s, of which engine.enrol {sum(enrolling):.1f} s for "
        f"{enrolled:,} enrolments; slowest chunk {max(timings) * 1000:.0f} ms)"
    )
    if again:
        _again_over_complete_rollups(chunks, rolled)
    print(
        f"  RESULT {rate:,.0f} events/s (the production path): goal ≥ 20,000 events/s "
        f"{'met' if rate >= 20_000 else 'NOT met'}"
    )


def _again_over_complete_rollups(chunks: list[tuple[int, int]], rolled: int) -> None:
    """The issue brief's variant: the rollups complete first, enrolments emptied, the same
    chunks evaluated again."""
    from django.db import transaction

    from kizuna.flows import triggers
    from kizuna.flows.models import Enrolment, StepRun

    StepRun.objects.all().delete()
    Enrolment.objects.all().delete()
    timings = []
    with _enrol_timed() as enrolling:
        for start, end in chunks:
            began = time.perf_counter()
            with transaction.atomic():
                triggers.on_events(start, end)
            timings.append(time.perf_counter() - began)
    spent = sum(timings)
    print(
        f"  over complete rollups           {rolled / spent:>8,.0f} events/s   ({spent:.1f} s, "
        f"of which engine.enrol {sum(enrolling):.1f} s for {Enrolment.objects.count():,} "
        "enrolments: counts include later events, so fewer Nth occurrences match)"
    )


# --- 3. Due waits -----------------------------------------------------------------------------


def run_waits(database: str, count: int, budget: float) -> None:
    from django.db import transaction
    from django.utils import timezone

    from kizuna.customers.models import Account
    from kizuna.flows import engine
    from kizuna.flows.choices import EnrolmentStatus, RunStatus, StepType
    from kizuna.flows.engine import Candidate
    from kizuna.flows.models import Enrolment, StepRun

    _forget_flows()
    flow = _make_flow(
        "One-day wait",
        {
            "trigger": {"type": "event", "event": "Bench Never Sent"},
            "start": "wait",
            "steps": [{"id": "wait", "type": "wait", "delay": {"days": 1}}],
        },
    )
    flow.refresh_from_db()
    ids = list(Account.objects.order_by("id").values_list("id", flat=True)[:count])
    entered = timezone.now() - datetime.timedelta(days=2)
    # engine.enrol on a sample (its cost is reported), the rest inserted in bulk.
    sample = ids[:ENROL_SAMPLE]
    started = time.perf_counter()
    with transaction.atomic():
        engine.enrol(flow, [Candidate(pk) for pk in sample], entered)
    enrol_seconds = time.perf_counter() - started
    with transaction.atomic():
        rows = Enrolment.objects.bulk_create(
            [
                Enrolment(
                    flow=flow,
                    version_id=flow.version_id,
                    account_id=pk,
                    status=EnrolmentStatus.ACTIVE,
                    entered_at=entered,
                )
                for pk in ids[ENROL_SAMPLE:]
            ],
            batch_size=2000,
        )
        StepRun.objects.bulk_create(
            [
                StepRun(
                    enrolment=row,
                    flow=flow,
                    step_id="wait",
                    step_type=StepType.WAIT,
                    status=RunStatus.SCHEDULED,
                    due_at=entered + datetime.timedelta(days=1),
                )
                for row in rows
            ],
            batch_size=2000,
        )
    due = StepRun.objects.filter(flow=flow, status="scheduled", due_at__lte=timezone.now()).count()
    started = time.perf_counter()
    runs = batches = 0
    while time.perf_counter() - started < budget:
        report = engine.run_due(budget=min(600, budget))
        runs += report.runs
        batches += report.batches
        if not report.runs:
            break
    seconds = time.perf_counter() - started
    left = StepRun.objects.filter(flow=flow, status="scheduled").count()
    print(
        f"\n{database}: due waits, {due:,} one-day waits due ({len(sample):,} enrolled by "
        f"engine.enrol in {enrol_seconds:.1f} s, not part of the goal; the rest inserted in bulk)"
    )
    print(
        f"  engine.run_due                  {runs / seconds:>8,.0f} runs/s   "
        f"({runs:,} runs in {batches} batches, {seconds:.1f} s; {left:,} still scheduled)"
    )
    total = seconds if not left else due / (runs / seconds)
    print(
        f"  RESULT {'' if not left else 'projected '}{total:.0f} s for {due:,} waits: "
        f"goal ≤ 30 s {'met' if total <= 30 else 'NOT met'}"
    )


# --- Running it -------------------------------------------------------------------------------


def run_child(options: argparse.Namespace) -> None:
    database = options.child
    open_database(database, options.accounts, options.events)
    if "triggers" in options.goals:
        run_triggers(database, options.events, options.evaluate, options.again)
    if "waits" in options.goals:
        run_waits(database, options.waits, options.waits_budget)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--goals",
        nargs="+",
        choices=["latency", "triggers", "waits"],
        default=["latency", "triggers", "waits"],
    )
    parser.add_argument("--accounts", type=int, default=100_000, help="for triggers and waits")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--waits", type=int, default=100_000, help="accounts waiting")
    parser.add_argument(
        "--evaluate", type=int, help="triggers: roll up and evaluate only about this many events"
    )
    parser.add_argument(
        "--waits-budget", type=float, default=600, help="waits: stop run_due after N seconds"
    )
    parser.add_argument(
        "--again",
        action="store_true",
        help="triggers: evaluate the same chunks again over the complete rollups",
    )
    parser.add_argument("--latency-accounts", type=int, default=100)
    parser.add_argument("--rate", type=float, default=4.0, help="latency: accounts per second")
    parser.add_argument("--gap", type=float, default=1.0, help="latency: seconds between logins")
    parser.add_argument("--latency-timeout", type=float, default=120.0)
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--child-latency", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child_latency:
        prepare_latency(options.child_latency)
        return
    if options.child:
        run_child(options)
        return
    databases = ["sqlite", "postgres"] if options.database == "both" else [options.database]
    if "latency" in options.goals and "sqlite" in databases:
        run_latency(options)
    if {"triggers", "waits"} & set(options.goals):
        for database in databases:
            subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    __file__,
                    "--child",
                    database,
                    "--goals",
                    *options.goals,
                    "--accounts",
                    str(options.accounts),
                    "--events",
                    str(options.events),
                    "--waits",
                    str(options.waits),
                    "--waits-budget",
                    str(options.waits_budget),
                    *(["--again"] if options.again else []),
                    *(["--evaluate", str(options.evaluate)] if options.evaluate else []),
                ],
                check=True,
            )


if __name__ == "__main__":
    main()
