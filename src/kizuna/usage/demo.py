"""Demo product usage: 180 days of tracking events for the demo portfolio, in the shapes a CS
team meets — healthy and growing, stable, slowly declining, never really onboarded, seasonal
(month-end peaks), and churned customers fading out before their contract ended (most over
weeks or months, some abruptly) — then rolled up as the worker would. Half a year of history
is what lets a scorecard be backtested: the score a churned account had 60 or 90 days before
it left.

Deterministic: everything comes from one `random.Random(seed)` in a fixed order, and dates are
relative to today, so the same seed and portfolio give the same usage. Each account's product
users are its contacts plus, up to a share of its licensed seats, product-user contacts as an
identify call would have created them. Events are inserted in bulk through the same INSERT as
ingestion; the rollups are then built by the real rollup worker.
"""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min, Sum
from django.utils import timezone

from kizuna.customers.choices import LIVE_SUBSCRIPTION_STATUSES, LifecycleStage
from kizuna.customers.demo import GIVEN_NAMES, SURNAMES
from kizuna.customers.models import Account, Contact, Subscription
from kizuna.usage import rollups, services
from kizuna.usage.choices import DEFAULT_LOGIN_EVENTS, EventType
from kizuna.usage.models import Event, Source

DAYS = 180
MAX_USERS = 15
LOGIN_EVENT = DEFAULT_LOGIN_EVENTS[0]
SOURCE_NAME = "Kizuna Cloud（Web アプリ）"
# The product's features (track events), most used first, and its screens (page names).
FEATURES = (
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
)
PAGES = ("Dashboard", "Reports", "Customers", "Settings", "Billing")
WEEKEND = 0.12
PAGE_PATHS = {name: f"/{name.lower()}" for name in PAGES}
PAGE_URLS = {name: f"https://app.kizuna-cloud.example{path}" for name, path in PAGE_PATHS.items()}
LIBRARY = '{"library":{"name":"kizuna.js","version":"1.0.0"}}'


@dataclass(frozen=True)
class UsageResult:
    accounts: int
    product_users: int
    events: int


class Shape:
    """How active an account's users are on day `index` (0 = the first demo day), 0–1."""

    HEALTHY = "healthy"
    STABLE = "stable"
    DECLINING = "declining"
    NEVER_ONBOARDED = "never_onboarded"
    SEASONAL = "seasonal"
    CHURNING = "churning"


def _level(
    shape: str, index: int, day: datetime.date, start: int, days: int = DAYS, fade: int = 0
) -> float:
    if index < start:
        return 0.0
    age = index - start
    progress = index / max(1, days - 1)
    if shape == Shape.HEALTHY:
        level = 0.35 + 0.35 * progress
    elif shape == Shape.STABLE:
        level = 0.45
    elif shape == Shape.DECLINING:
        level = 0.55 * (1 - 0.75 * progress)
    elif shape == Shape.NEVER_ONBOARDED:
        # A burst at the start, then almost nothing.
        level = 0.5 * math.exp(-age / 6) + 0.01
    elif shape == Shape.CHURNING:
        # `fade` days before the contract ended (index `days`) usage starts to fall away.
        left = days - index
        level = 0.5 if left > fade else 0.5 * max(0.04, left / max(fade, 1)) ** 1.5
    else:  # seasonal: the month-end closing days are the busy ones
        next_month = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        to_month_end = (next_month - day).days
        level = 0.65 if to_month_end <= 4 or day.day <= 2 else 0.18
    if start and age < 14 and shape != Shape.NEVER_ONBOARDED:
        level *= 0.3 + 0.7 * age / 14  # onboarding ramp
    if day.weekday() >= 5:
        level *= WEEKEND
    return min(level, 0.95)


def _shape(rng: random.Random, stage: str) -> str:
    if stage == LifecycleStage.ONBOARDING:
        return rng.choices([Shape.HEALTHY, Shape.STABLE, Shape.NEVER_ONBOARDED], [5, 2, 3])[0]
    if stage == LifecycleStage.RENEWAL:
        return rng.choices(
            [Shape.HEALTHY, Shape.STABLE, Shape.DECLINING, Shape.SEASONAL], [3, 3, 4, 1]
        )[0]
    return rng.choices(
        [Shape.HEALTHY, Shape.STABLE, Shape.DECLINING, Shape.SEASONAL, Shape.NEVER_ONBOARDED],
        [5, 4, 3, 2, 1],
    )[0]


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: means here are small.
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _source() -> Source:
    source = Source.objects.filter(name=SOURCE_NAME).first()
    if source is None:
        source = services.create_source(None, SOURCE_NAME).source
    return source


def generate(
    seed: int = 42, *, days: int = DAYS, stdout: Callable[[str], None] | None = None
) -> UsageResult:
    """Add `days` days of usage to every demo account and build the rollups.

    Refuses to run twice: demo events are recognised by their message ids."""
    say = stdout or (lambda _message: None)
    if Event.objects.filter(message_id__startswith="demo-").exists():
        raise ValueError("The demo usage is already loaded.")
    rng = random.Random(seed)
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    source = _source()
    accounts = list(Account.objects.order_by("id").values_list("id", "stage", "domain"))
    seats = dict(
        Subscription.objects.filter(status__in=LIVE_SUBSCRIPTION_STATUSES)
        .values("account_id")
        .annotate(total=Sum("seats"))
        .values_list("account_id", "total")
    )
    # Churned accounts stop using the product when their last contract ended.
    end_dates = dict(
        Subscription.objects.filter(account__stage=LifecycleStage.CHURNED)
        .values("account_id")
        .annotate(end=Max("end_date"))
        .values_list("account_id", "end")
    )
    # Usage starts with the account's first contract.
    starts = dict(
        Subscription.objects.values("account_id")
        .annotate(start=Min("start_date"))
        .values_list("account_id", "start")
    )
    contacts: dict[int, list[tuple[int, str]]] = {}
    for contact_id, account_id, user_id in (
        Contact.objects.filter(product_user_id__isnull=False)
        .order_by("id")
        .values_list("id", "account_id", "product_user_id")
    ):
        contacts.setdefault(account_id, []).append((contact_id, user_id or ""))

    with transaction.atomic():
        new_users = _add_product_users(rng, accounts, seats, contacts)
        say(f"{new_users:,} product users added; generating {days} days of events…")
        serial = 0
        rows: list[tuple[Any, ...]] = []
        total = 0
        now = timezone.now()
        # Times are built as naive UTC and turned into the database's value once each.
        utc = datetime.UTC
        sqlite = connection.vendor == "sqlite"
        day_values = {}
        midnights = {}
        for index in range(days):
            day = first + datetime.timedelta(days=index)
            day_values[day] = connection.ops.adapt_datefield_value(day)
            midnight = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
            midnights[day] = midnight.astimezone(utc).replace(tzinfo=None)
        limit = now.astimezone(utc).replace(tzinfo=None)
        source_id = source.pk
        for account_id, stage, _domain in accounts:
            people = contacts.get(account_id, [])
            if not people:
                continue
            shape = _shape(rng, stage)
            start = max(0, (starts.get(account_id, first) - first).days)
            stop = days
            fade = 0
            if stage == LifecycleStage.CHURNED:
                end = end_dates.get(account_id)
                stop = max(0, min(days, (end - first).days)) if end else 0
                shape = Shape.CHURNING
                # Most fade out over months; about one in five looks fine until weeks before.
                fade = rng.randint(10, 25) if rng.random() < 0.2 else rng.randint(45, 150)
            favourites = rng.sample(FEATURES, k=rng.randint(2, len(FEATURES) - 2))
            last_favourite = len(favourites) - 1
            intensity = rng.uniform(0.5, 1.2)
            for index in range(start, stop):
                day = first + datetime.timedelta(days=index)
                level = _level(shape, index, day, start, stop, fade) * intensity
                midnight = midnights[day]
                day_value = day_values[day]
                for contact_id, user_id in people:
                    if rng.random() >= level:
                        continue
                    # Office hours, 8:00–19:00 local.
                    at = midnight + datetime.timedelta(seconds=8 * 3600 + rng.random() * 39_600)
                    events = [(EventType.TRACK, LOGIN_EVENT)]
                    events += [
                        (EventType.PAGE, rng.choice(PAGES)) for _ in range(_poisson(rng, 1.0))
                    ]
                    events += [
                        (
                            EventType.TRACK,
                            favourites[min(int(rng.expovariate(0.6)), last_favourite)],
                        )
                        for _ in range(_poisson(rng, 1.2))
                    ]
                    for kind, name in events:
                        serial += 1
                        at += datetime.timedelta(seconds=20 + rng.random() * 220)
                        if at > limit:
                            break
                        stamp: Any = str(at) if sqlite else at.replace(tzinfo=utc)
                        page = kind == EventType.PAGE
                        rows.append(
                            (
                                f"demo-{serial:09d}",
                                source_id,
                                kind,
                                name,
                                user_id,
                                "",
                                contact_id,
                                account_id,
                                stamp,
                                day_value,
                                stamp,
                                "{}",
                                LIBRARY,
                                PAGE_URLS[name] if page else "",
                                PAGE_PATHS[name] if page else "",
                                name if page else "",
                            )
                        )
            if len(rows) >= 20_000:
                total += services._insert(rows)
                rows = []
        total += services._insert(rows)
    say(f"{total:,} events inserted; building the rollups…")
    rollups.rollup_new_events()
    return UsageResult(accounts=len(accounts), product_users=new_users, events=total)


def _add_product_users(
    rng: random.Random,
    accounts: list[tuple[int, str, str]],
    seats: dict[int, int],
    contacts: dict[int, list[tuple[int, str]]],
) -> int:
    """Product-user contacts, as identify calls would have created them: about 60–95% of the
    licensed seats, at most MAX_USERS per account (the demo stays quick)."""
    new: list[Contact] = []
    for account_id, _stage, domain in accounts:
        existing = contacts.get(account_id, [])
        wanted = min(MAX_USERS, round(seats.get(account_id, 0) * rng.uniform(0.6, 0.95)))
        for number in range(len(existing), wanted):
            surname, given = rng.choice(SURNAMES), rng.choice(GIVEN_NAMES)
            new.append(
                Contact(
                    account_id=account_id,
                    name=f"{surname.text} {given.text}",
                    name_kana=f"{surname.kana} {given.kana}",
                    email=f"{given.slug}.{surname.slug}{number}@{domain or 'example.jp'}",
                    title="",
                    product_user_id=f"demo-user-{account_id}-{number}",
                )
            )
    Contact.objects.bulk_create(new, batch_size=2_000)
    created = {contact.product_user_id for contact in new}
    for contact in (
        Contact.objects.filter(product_user_id__in=created)
        .order_by("id")
        .values_list("id", "account_id", "product_user_id")
    ):
        contacts.setdefault(contact[1], []).append((contact[0], contact[2] or ""))
    return len(new)
