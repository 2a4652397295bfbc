"""Import of a large Excel file of accounts, end to end, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_import.py --rows 100000 --database both

Generates a deterministic .xlsx of N accounts with Japanese headers (as a CRM export would
have them: 取引先ID, 会社名, フリガナ, 業種, 担当CSM, a custom field …) under bench/.data/, then for
each database starts from an empty schema (an SQLite file under bench/.data/ and/or the
PostgreSQL database `kizuna_bench_import`, recreated) and times, through the same services
the pages and `kizuna import` use:

1. upload: read and check the whole file, suggest the column mapping;
2. dry run: check every row, count what would change;
3. apply: check again and write everything in one transaction (accounts, audit entries,
   domain events);
4. the same file again (dry run): every row unchanged;
5. a second file with every tenth account renamed: dry run and apply (updates);
6. `kizuna import accounts FILE` into the emptied table: one pass that checks every row and
   writes.

Goal from issue #3: import of a 100,000-row .xlsx of accounts ≤ 60 s (steps 1–3 through the
pages, step 6 on the command line).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
POSTGRES_URL = os.environ.get(
    "KIZUNA_BENCH_IMPORT_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/kizuna_bench_import"
)
HEADERS = [
    "取引先ID",
    "会社名",
    "フリガナ",
    "ドメイン",
    "業種",
    "従業員数",
    "地域",
    "担当CSM",
    "ステージ",
    "契約プラン",
]
INDUSTRIES = ["ソフトウェア・IT", "製造", "物流", "金融・保険", "医療", "教育", "小売・EC"]
REGIONS = ["関東", "近畿", "中部", "九州・沖縄", "北海道", "東北"]
STAGES = ["onboarding", "adoption", "value", "renewal"]
KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"
CSMS = 20


def workbook_path(rows: int, variant: str) -> Path:
    return DATA / f"import-accounts-{rows}-{variant}.xlsx"


def generate(rows: int, variant: str) -> Path:
    """The benchmark workbook (the same bytes for the same arguments), written once."""
    path = workbook_path(rows, variant)
    if path.exists():
        return path
    from openpyxl import Workbook

    DATA.mkdir(parents=True, exist_ok=True)
    random.seed(20261122)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("取引先")
    sheet.append(HEADERS)
    for number in range(1, rows + 1):
        kana = "".join(random.choice(KANA) for _ in range(random.randint(4, 9)))
        name = f"株式会社{kana}{number}"
        if variant == "renamed" and number % 10 == 0:
            name = f"{name}ホールディングス"
        sheet.append(
            [
                f"SF-{number:07d}",
                name,
                kana,
                f"example{number}.co.jp",
                random.choice(INDUSTRIES),
                random.randint(5, 5000),
                random.choice(REGIONS),
                f"csm{number % CSMS:02d}",
                random.choice(STAGES),
                random.choice(["A", "B", "C"]),
            ]
        )
    workbook.save(path)
    return path


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
        connection.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{config["NAME"]}"')


def run_child(database: str, rows: int) -> None:
    data_dir = DATA / f"import-{database}"
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["KIZUNA_DATA_DIR"] = str(data_dir)
    if database == "postgres":
        _prepare_postgres()
        os.environ["KIZUNA_DATABASE_URL"] = POSTGRES_URL
    else:
        os.environ.pop("KIZUNA_DATABASE_URL", None)
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"kizuna.sqlite3{suffix}").unlink(missing_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kizuna.core.models import AuditEntry, Role, User
    from kizuna.customers.models import Account, CustomFieldDefinition
    from kizuna.integrations import services
    from kizuna.integrations.models import ImportJob

    call_command("migrate", interactive=False, verbosity=0)
    User.objects.bulk_create(
        [
            User(username=f"csm{index:02d}", display_name=f"担当者{index}", role=Role.CSM)
            for index in range(CSMS)
        ]
    )
    importer = User.objects.create(username="ops", display_name="CS Ops", role=Role.MANAGER)
    CustomFieldDefinition.objects.create(
        key="contract_plan",
        label_ja="契約プラン",
        label_en="Contract plan",
        field_type="choice",
        choices=["A", "B", "C"],
    )

    def timed(label: str, step):  # type: ignore[no-untyped-def]
        started, cpu = time.perf_counter(), time.process_time()
        result = step()
        elapsed = time.perf_counter() - started
        print(
            f"  {label:<46} {elapsed:6.1f} s   (Kizuna CPU {time.process_time() - cpu:5.1f} s)",
            flush=True,
        )
        return result, elapsed

    def job_state(job: ImportJob) -> str:
        job.refresh_from_db()
        assert job.status in ("validated", "applied"), (job.status, job.error_message)
        assert not job.error_count, list(job.row_errors.values_list("message", flat=True)[:5])
        return (
            f"{job.created_count:,} created, {job.updated_count:,} updated, "
            f"{job.unchanged_count:,} unchanged"
        )

    path = workbook_path(rows, "original")

    print(
        f"{database}: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB .xlsx; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    original = path.read_bytes()
    renamed = workbook_path(rows, "renamed").read_bytes()
    job, upload = timed(
        "1. upload (read, check, suggest mapping)",
        lambda: services.upload(importer, "accounts", "accounts.xlsx", original, language="ja"),
    )
    assert len(job.mapping) == len(HEADERS), job.mapping
    _none, dry_run = timed("2. dry run", lambda: services.start_dry_run(job, inline=True))
    print(f"     {job_state(job)} (to do)")
    _none, apply = timed("3. apply", lambda: services.start_apply(job, importer, inline=True))
    print(f"     {job_state(job)}")
    assert Account.objects.count() == rows
    assert AuditEntry.objects.filter(action="create").count() == rows
    print(f"  {'total, steps 1–3':<46} {upload + dry_run + apply:6.1f} s   (goal ≤ 60 s)")

    def again() -> ImportJob:
        again_job = services.upload(importer, "accounts", "accounts.xlsx", original)
        services.start_dry_run(again_job, inline=True)
        return again_job

    again_job, _elapsed = timed("4. same file again: upload + dry run", again)
    print(f"     {job_state(again_job)}")

    def update() -> ImportJob:
        update_job = services.upload(importer, "accounts", "renamed.xlsx", renamed)
        services.start_dry_run(update_job, inline=True)
        services.start_apply(update_job, importer, inline=True)
        return update_job

    update_job, _elapsed = timed("5. every tenth renamed: upload, dry run, apply", update)
    print(f"     {job_state(update_job)}")
    with connection.cursor() as cursor:
        # Empty the table again for the command line (raw: nothing refers to these rows).
        cursor.execute(f"DELETE FROM {Account._meta.db_table}")  # noqa: S608
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table}")  # noqa: S608

    def command_line() -> None:
        call_command("import", "accounts", str(path), "--user", "ops", stdout=io.StringIO())

    timed("6. kizuna import accounts FILE (one pass)", command_line)
    assert Account.objects.count() == rows
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  peak memory of the process: {peak:,.0f} MB; load average now {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.rows)
        return
    for variant in ("original", "renamed"):
        started = time.perf_counter()
        path = generate(args.rows, variant)
        print(f"workbook {path.name}: ready in {time.perf_counter() - started:.1f} s")
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for database in databases:
        # One process per database: settings are read once per process.
        subprocess.run(  # noqa: S603 (this script, with arguments it parsed)
            [sys.executable, __file__, "--child", database, "--rows", str(args.rows)], check=True
        )


if __name__ == "__main__":
    main()
