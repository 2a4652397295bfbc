"""`kizuna demo`: from nothing to a running Kizuna with a realistic portfolio."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import BooleanField, Func

from kizuna.core import audit
from kizuna.core.models import Role, User

DEMO_ACCOUNTS = 300


class Command(BaseCommand):
    help = (
        "Migrate the database, create an admin (credentials printed), load the demo portfolio "
        "of about 300 Japanese B2B SaaS accounts, then serve. Run again, it reuses what it made."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare everything, then exit."
        )
        parser.add_argument("--accounts", type=int, default=DEMO_ACCOUNTS)

    def handle(self, *args: Any, **options: Any) -> None:
        from kizuna.customers import demo
        from kizuna.customers.models import Account
        from kizuna.usage import demo as usage_demo

        self.stdout.write("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        credentials_path = settings.DATA_DIR / "demo-credentials.json"
        if credentials_path.exists():
            credentials = json.loads(credentials_path.read_text())
        else:
            credentials = {"username": "admin", "password": secrets.token_urlsafe(12)}
        password = credentials["password"]
        self._ensure_admin(credentials["username"], password)
        if not credentials_path.exists():
            credentials_path.write_text(json.dumps(credentials))
            credentials_path.chmod(0o600)

        if Account.objects.exists():
            self.stdout.write("Demo data already loaded: reusing it.")
            users = list(
                User.objects.exclude(username=credentials["username"])
                .order_by("role", "username")
                .values_list("username", flat=True)
            )
        else:
            self.stdout.write(f"Loading the demo portfolio ({options['accounts']} accounts)…")
            result = demo.generate(options["accounts"], password=password, stdout=self.stdout.write)
            create_demo_custom_fields()
            users = result.users
            self.stdout.write(f"Generating {usage_demo.DAYS} days of product usage…")
            usage_demo.generate(stdout=self.stdout.write)
            seed_health(self.stdout.write)
            seed_success(self.stdout.write)

        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Kizuna demo: {url}"))
        self.stdout.write(f"  admin user:  {credentials['username']}")
        self.stdout.write(f"  password:    {password}")
        if users:
            self.stdout.write(f"  other users (same password): {', '.join(users)}")
        self.stdout.write(f"  data directory: {settings.DATA_DIR}")
        self.stdout.write("")
        if not options["no_serve"]:
            call_command("serve", host=options["host"], port=options["port"], mail_catcher=True)

    def _ensure_admin(self, username: str, password: str) -> None:
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                username=username, defaults={"role": Role.ADMIN, "display_name": "管理者"}
            )
            if created or not user.check_password(password):
                user.set_password(password)
                user.role = Role.ADMIN
                user.is_active = True
                user.save()
                if created:
                    audit.record_create(None, user)


# Days of health history the demo fills in (the account page's trend chart): every day of
# the last two weeks ("changed since last week", the biggest movers), then one day a week —
# scoring a past day costs about as much as a full recompute.
HEALTH_HISTORY_DAYS = 90
HEALTH_DAILY_DAYS = 14
HEALTH_HISTORY_EVERY = 7


def seed_health(say: Any) -> None:
    """The seed templates (four stage scorecards, the churn-risk and upsell segments), every
    score, stage and segment computed, and health snapshots over the past
    `HEALTH_HISTORY_DAYS` days, so that trends and "changed since last week" have history."""
    import time

    from kizuna.core import recompute
    from kizuna.health import backtest, templates_seed

    started = time.perf_counter()
    say("Installing the seed scorecards and segments; computing health, stages and segments…")
    templates_seed.install()
    recompute.recompute()
    say(f"Filling in {HEALTH_HISTORY_DAYS} days of health history…")
    backtest.backfill_snapshots(
        HEALTH_HISTORY_DAYS, daily=HEALTH_DAILY_DAYS, every=HEALTH_HISTORY_EVERY
    )
    say(f"Health ready in {time.perf_counter() - started:.1f} s.")


def seed_success(say: Any) -> None:
    """Milestones ticked from the demo's usage, the CSMs' CTAs, the success flows with their
    history (after health: the flows' history is read from the health snapshots), and tech
    touch's campaigns, sent to a local mail catcher."""
    import random

    from kizuna.core import recompute
    from kizuna.engagement import demo as engagement_demo
    from kizuna.flows import demo as flows_demo
    from kizuna.milestones import demo as milestones_demo
    from kizuna.playbooks import demo as playbooks_demo

    milestones_demo.install(say)
    recompute.recompute()
    say("Creating the CSMs' CTAs…")
    playbooks_demo.seed(random.Random(20261122))
    engagement_demo.prepare(say)
    flows_demo.seed(say)
    engagement_demo.seed_history(say)


def create_demo_custom_fields() -> None:
    """Two custom fields a Japanese CS team typically adds, filled for part of the portfolio,
    and the qualitative fields of the seed templates (logo received, case study, payment
    delays), filled in line with what happened to the accounts: churned and struggling
    customers had more payment delays and gave fewer logos and case studies. Deterministic
    (drawn from the account id) and set-based: one UPDATE."""
    import datetime

    from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
    from django.db.models.functions import JSONObject
    from django.db.models.lookups import Exact, In, LessThan
    from django.utils import timezone

    from kizuna.customers.choices import LifecycleStage, Rating
    from kizuna.customers.models import Account, CustomFieldDefinition, Touchpoint

    CustomFieldDefinition.objects.get_or_create(
        key="paid_onboarding",
        defaults={
            "label_ja": "有償オンボーディング契約",
            "label_en": "Paid onboarding contract",
            "field_type": "boolean",
            "filterable": True,
            "position": 1,
        },
    )
    CustomFieldDefinition.objects.get_or_create(
        key="sales_channel",
        defaults={
            "label_ja": "販売チャネル",
            "label_en": "Sales channel",
            "field_type": "choice",
            "choices": ["直販", "代理店", "マーケットプレイス"],
            "filterable": True,
            "position": 2,
        },
    )
    group = F("id") % 4
    values: dict[str, Any] = {
        "paid_onboarding": JSONBoolean(In(group, [0, 3])),
        "sales_channel": Case(
            When(Exact(group, 1), then=Value("代理店")),
            When(Exact(group, 3), then=Value("マーケットプレイス")),
            default=Value("直販"),
        ),
    }
    since = timezone.now() - datetime.timedelta(days=120)
    poor_lately = Exists(
        Touchpoint.objects.filter(
            account=OuterRef("pk"), rating=Rating.POOR, occurred_at__gte=since
        )
    )
    for offset, (key, (churned, poor, others)) in enumerate(SEED_FIELD_CHANCES.items()):
        # A different pseudo-random draw (0–99) per field, from the id alone.
        draw = (F("id") * (7919 + 104 * offset) + 13 * offset) % 100
        chance = Case(
            When(Q(stage=LifecycleStage.CHURNED), then=Value(churned)),
            When(poor_lately, then=Value(poor)),
            default=Value(others),
        )
        values[key] = JSONBoolean(LessThan(draw, chance))
    Account.objects.update(custom_attributes=JSONObject(**values))


# Chance in % of each seed-004 field being "yes" for churned accounts, accounts with a poor
# touchpoint in the last four months, and the others.
SEED_FIELD_CHANCES = {
    "payment_delays": (45, 15, 4),
    "logo_received": (5, 15, 35),
    "case_study": (0, 4, 12),
}


class JSONBoolean(Func):
    """A condition as JSON true / false inside JSONObject (SQLite's json_object would store
    the 1 / 0 of a plain boolean, which a yes / no custom field does not read as yes / no)."""

    template = "(CASE WHEN %(expressions)s THEN true ELSE false END)"
    output_field = BooleanField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="json(CASE WHEN %(expressions)s THEN 'true' ELSE 'false' END)",
            **extra,
        )
