"""In-app guidance (issue 6): the server-side decision for a page view.

    .venv/bin/python bench/bench_inapp.py --accounts 100000 --views 5000

A database of its own (bench/.data/inapp-sqlite/, or PostgreSQL with --postgres) with
`--accounts` accounts, one contact each, usage rollups for a third of the contacts, segment
memberships and flow assignments for some accounts, seeded once (bulk inserts) and reused.
Each run makes 50 live messages with mixed targeting (everyone, segment, flow; page
patterns; "Nth event"; the three frequencies) and times `POST /v1/inapp/decide` through
Django's test client (the whole view: body parsing, write key, decision, JSON) for `--views`
page views of random contacts on random pages, some right after a tracked event.
Goal: p95 ≤ 20 ms. Prints p50/p95/max.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "inapp-sqlite"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/kizuna_bench_inapp"
PAGES = ["/", "/reports/", "/reports/42/edit", "/settings/", "/settings/billing", "/help/"]
EVENTS = ["Signed In", "Report Created", "Report Exported", "Invite Sent"]


def setup(postgres: bool) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    os.environ["KIZUNA_DATA_DIR"] = str(DATA)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
    if postgres:
        os.environ["KIZUNA_DATABASE_URL"] = POSTGRES_URL
    else:
        os.environ.pop("KIZUNA_DATABASE_URL", None)
    sys.path.insert(0, str(HERE.parent / "src"))
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]


def seed(accounts: int) -> None:
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from kizuna.customers.models import Account, Contact
    from kizuna.segments.models import Segment, SegmentMembership
    from kizuna.usage.models import ContactDailyUsage

    call_command("migrate", interactive=False, verbosity=0)
    if Account.objects.filter(external_id__startswith="B-").count() >= accounts:
        return
    print(f"seeding {accounts:,} accounts and contacts …", flush=True)
    random.seed(7)
    today = timezone.localdate()
    with transaction.atomic():
        Account.objects.bulk_create(
            [Account(name=f"Bench {n}", external_id=f"B-{n}") for n in range(accounts)],
            batch_size=5000,
        )
        ids = dict(
            Account.objects.filter(external_id__startswith="B-").values_list("external_id", "id")
        )
        Contact.objects.bulk_create(
            [
                Contact(account_id=ids[f"B-{n}"], name=f"User {n}", product_user_id=f"bu-{n}")
                for n in range(accounts)
            ],
            batch_size=5000,
        )
        contacts = list(
            Contact.objects.filter(product_user_id__startswith="bu-").values_list(
                "id", "account_id"
            )
        )
        rows = []
        for contact_id, account_id in contacts[: len(contacts) // 3]:
            for event in random.sample(EVENTS, 2):
                for days in range(0, 30, 7):
                    rows.append(
                        ContactDailyUsage(
                            account_id=account_id,
                            contact_id=contact_id,
                            day=today - datetime.timedelta(days=days),
                            type="track",
                            event=event,
                            count=random.randint(1, 3),
                        )
                    )
        ContactDailyUsage.objects.bulk_create(rows, batch_size=5000)
        segments = [Segment.objects.create(name=f"Bench segment {n}") for n in range(5)]
        now = timezone.now()
        SegmentMembership.objects.bulk_create(
            [
                SegmentMembership(
                    segment=random.choice(segments), account_id=account_id, entered_at=now
                )
                for _contact, account_id in random.sample(contacts, len(contacts) // 4)
            ],
            batch_size=5000,
        )


def messages() -> None:
    from kizuna.engagement import inapp
    from kizuna.engagement.choices import Frequency, InAppAudience, InAppKind, InAppStatus
    from kizuna.engagement.models import InAppAssignment, InAppMessage
    from kizuna.segments.models import Segment

    InAppMessage.objects.filter(key__startswith="bench-").delete()
    segments = list(Segment.objects.filter(name__startswith="Bench segment"))
    random.seed(11)
    made = []
    for n in range(50):
        audience = [InAppAudience.EVERYONE, InAppAudience.SEGMENT, InAppAudience.FLOW][n % 3]
        made.append(
            InAppMessage.objects.create(
                key=f"bench-{n}",
                name=f"Bench {n}",
                kind=[InAppKind.BANNER, InAppKind.MODAL, InAppKind.POPUP, InAppKind.TOUR][n % 4],
                status=InAppStatus.LIVE,
                title_ja=f"お知らせ {n}",
                body_ja="新しい機能をお試しください。",
                title_en=f"News {n}",
                steps=[{"selector": "#a", "title_ja": "ここ", "body_ja": "説明"}],
                audience=audience,
                segment=random.choice(segments) if audience == InAppAudience.SEGMENT else None,
                url_pattern=random.choice(["", "/settings*", "/reports/*", "/"]),
                event_name=random.choice(["", "", *EVENTS]),
                event_count=random.randint(1, 5),
                frequency=[Frequency.ONCE, Frequency.UNTIL_DISMISSED, Frequency.EVERY_N_DAYS][
                    n % 3
                ],
                priority=random.randint(1, 100),
            )
        )
    from kizuna.customers.models import Account

    account_ids = list(
        Account.objects.filter(external_id__startswith="B-").values_list("id", flat=True)[:20000]
    )
    flow_messages = [m for m in made if m.audience == InAppAudience.FLOW]
    InAppAssignment.objects.bulk_create(
        [
            InAppAssignment(
                message=random.choice(flow_messages), account_id=account_id, source_key=f"bench:{i}"
            )
            for i, account_id in enumerate(random.sample(account_ids, 5000))
        ],
        batch_size=5000,
    )
    inapp.forget_cached_messages()


def run(views: int, accounts: int) -> list[float]:
    from django.test import Client

    from kizuna.usage import services

    key = services.create_source(None, "Bench in-app").write_key
    client = Client()
    random.seed(3)
    timings = []
    for n in range(views + 50):
        user = random.randrange(accounts)
        body = {
            "writeKey": key,
            "userId": f"bu-{user}",
            "anonymousId": f"a-{user}",
            "groupId": f"B-{user}",
            "url": f"https://app.example.jp{random.choice(PAGES)}",
            "language": "ja",
            "event": [random.choice(EVENTS)] if random.random() < 0.3 else [],
        }
        raw = json.dumps(body)
        start = time.perf_counter()
        response = client.post("/v1/inapp/decide", raw, content_type="text/plain")
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.content
        if n >= 50:  # the first requests warm the caches
            timings.append(elapsed)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--views", type=int, default=5000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    setup(args.postgres)
    seed(args.accounts)
    messages()
    timings = sorted(run(args.views, args.accounts))
    p95 = timings[int(len(timings) * 0.95) - 1]
    from django.db import connection

    print(
        f"{connection.vendor}: {args.views:,} page views, {args.accounts:,} accounts, 50 live "
        f"messages: p50 {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms, "
        f"max {timings[-1]:.2f} ms (goal p95 ≤ 20 ms)"
    )


if __name__ == "__main__":
    main()
