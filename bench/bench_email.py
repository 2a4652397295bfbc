"""Tech-touch email (issue 6): queue, cap-check, render and hand to SMTP, emails per second.

    .venv/bin/python bench/bench_email.py --contacts 100000 --emails 100000

Goal of issue 6: >= 500 emails/s overall, from `queue_emails` (the frequency cap and the
de-duplication rule checked for every contact) to the mail server's "250 OK".

A database of its own (SQLite in bench/.data/email/) holds `--contacts` contacts, one per
account, each account with an active subscription; it is made once and reused. Each run
empties the messages, creates a personalised template (contact, account, subscription and
sender variables, a tracked link), queues `--emails` messages through
`sending.queue_emails` in `--queue-batch` calls (as a campaign does), then runs the worker
(`sending.send_due`, batches of `--send-batch`) against a local SMTP sink that accepts and
discards every message. The sink is aiosmtpd in a separate process, so it does not take
the worker's CPU. `send_rate` is set to 10,000/s so the throttle does not limit the run.

Printed: seconds and emails/s for queueing, for sending, and overall.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / ".data" / "email"
PREFIX = "[bench] "


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sink(port: int, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    from aiosmtpd.controller import Controller

    class Discard:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            return "250 2.0.0 Ok: discarded"

    controller = Controller(Discard(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def _setup() -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["KIZUNA_DATA_DIR"] = str(DATA_DIR)
    os.environ.pop("KIZUNA_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
    os.environ.setdefault("KIZUNA_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _seed(contacts: int) -> list[int]:
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from kizuna.customers.models import Account, Contact, Subscription

    have = Contact.objects.count()
    if have < contacts:
        print(f"{PREFIX}creating {contacts - have:,} contacts (once; reused afterwards)")
        today = timezone.localdate()
        batch = 5000
        for start in range(have, contacts, batch):
            end = min(start + batch, contacts)
            accounts = Account.objects.bulk_create(
                [
                    Account(name=f"株式会社ベンチ{n}", domain=f"bench{n}.example.jp")
                    for n in range(start, end)
                ]
            )
            Subscription.objects.bulk_create(
                [
                    Subscription(
                        account=account,
                        product="Kizuna Cloud",
                        plan="Business",
                        seats=50,
                        mrr=Decimal(150_000),
                        arr=Decimal(1_800_000),
                        start_date=today - datetime.timedelta(days=200),
                        end_date=today + datetime.timedelta(days=165),
                        status="active",
                    )
                    for account in accounts
                ]
            )
            Contact.objects.bulk_create(
                [
                    Contact(
                        account=account,
                        name=f"山田 太郎{n}",
                        email=f"taro{n}@bench{n}.example.jp",
                        language="en" if n % 5 == 0 else "ja",
                    )
                    for n, account in zip(range(start, end), accounts, strict=True)
                ]
            )
    return list(Contact.objects.order_by("id").values_list("id", flat=True)[:contacts])


def _template():  # type: ignore[no-untyped-def]
    import hashlib
    import uuid

    from kizuna.engagement.models import (
        EmailTemplate,
        EmailTemplateVersion,
        MessageCategory,
        SenderIdentity,
    )

    category, _ = MessageCategory.objects.get_or_create(
        key="bench-news", defaults={"name_ja": "お知らせ", "name_en": "News"}
    )
    sender, _ = SenderIdentity.objects.get_or_create(
        name="Bench",
        defaults={
            "from_name": "空色レポート カスタマーサクセス",
            "from_email": "cs@sorairo.example.jp",
            "organisation": "株式会社空色",
            "postal_address": "〒100-0001 東京都千代田区千代田1-1",
            "inquiries": "support@sorairo.example.jp",
        },
    )
    run = uuid.uuid4().hex[:8]
    template = EmailTemplate.objects.create(
        key=f"bench-{run}", name=f"ベンチ {run}", category=category, sender=sender
    )
    fields = {
        "subject_ja": "{{ account.name }} 様 — {{ subscription.plan }} プランのご案内",
        "html_ja": (
            '<p>{{ contact.name|default:"ご担当者" }} 様</p>'
            "<p>{{ account.name }} 様の {{ subscription.product }} は"
            " {{ subscription.renewal_date }} に更新を迎えます。</p>"
            '<p><a href="https://example.jp/guide">ガイドを見る</a></p>'
            "<p>{{ sender.organisation }}</p>"
        ),
        "text_ja": (
            '{{ contact.name|default:"ご担当者" }} 様\n'
            "{{ account.name }} 様の {{ subscription.product }} は"
            " {{ subscription.renewal_date }} に更新を迎えます。\n"
            "ガイド: https://example.jp/guide\n"
        ),
        "subject_en": "{{ account.name }}: your {{ subscription.plan }} plan",
        "html_en": (
            '<p>Dear {{ contact.name|default:"customer" }},</p>'
            "<p>{{ subscription.product }} renews on {{ subscription.renewal_date }}.</p>"
            '<p><a href="https://example.jp/guide">Read the guide</a></p>'
        ),
        "text_en": (
            'Dear {{ contact.name|default:"customer" }},\n'
            "{{ subscription.product }} renews on {{ subscription.renewal_date }}.\n"
            "Guide: https://example.jp/guide\n"
        ),
    }
    digest = hashlib.sha256(("\x00".join(fields.values()) + run).encode()).hexdigest()
    template.current = EmailTemplateVersion.objects.create(
        template=template, number=1, content_hash=digest, **fields
    )
    template.save(update_fields=["current"])
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--queue-batch", type=int, default=10_000)
    parser.add_argument("--send-batch", type=int, default=1000)
    options = parser.parse_args()

    port = _free_port()
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(port, ready), daemon=True)
    sink.start()
    if not ready.wait(15):
        sys.exit("The SMTP sink did not start.")

    _setup()
    from django.conf import settings

    from kizuna.engagement import sending
    from kizuna.engagement.models import EmailEvent, EmailMessage, EngagementSettings

    settings.ENGAGEMENT_SMTP = {
        "host": "127.0.0.1",
        "port": port,
        "username": "",
        "password": "",
        "starttls": False,
        "timeout": 30,
    }
    contact_ids = _seed(max(options.contacts, options.emails))[: options.emails]
    EmailEvent.objects.all().delete()
    EmailMessage.objects.all().delete()
    EngagementSettings.objects.update_or_create(
        pk=1, defaults={"send_rate": 10_000, "cap_messages": 2, "cap_days": 7}
    )
    template = _template()

    print(f"{PREFIX}{len(contact_ids):,} emails, SMTP sink on 127.0.0.1:{port} (own process)")
    started = time.perf_counter()
    queued = 0
    for start in range(0, len(contact_ids), options.queue_batch):
        result = sending.queue_emails(
            template,
            contact_ids[start : start + options.queue_batch],
            source="campaign",
            key_prefix=f"bench:{template.pk}",
            team="Marketing",
        )
        queued += result.queued
    queue_seconds = time.perf_counter() - started
    print(
        f"{PREFIX}queue + cap check: {queued:,} queued in {queue_seconds:.1f} s "
        f"({queued / queue_seconds:,.0f}/s)"
    )

    send_started = time.perf_counter()
    sent = 0
    while True:
        report = sending.send_due(limit=options.send_batch)
        sent += report.sent
        if report.error:
            sys.exit(f"The worker stopped: {report.error}")
        if report.claimed == 0:
            break
    send_seconds = time.perf_counter() - send_started
    total = time.perf_counter() - started
    print(
        f"{PREFIX}render + compose + SMTP: {sent:,} sent in {send_seconds:.1f} s "
        f"({sent / send_seconds:,.0f}/s)"
    )
    print(f"{PREFIX}overall: {sent:,} emails in {total:.1f} s = {sent / total:,.0f} emails/s")
    sink.terminate()


if __name__ == "__main__":
    main()
