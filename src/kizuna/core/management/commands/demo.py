"""`kizuna demo`: from nothing to a running Kizuna with a realistic portfolio."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

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
            call_command("serve", host=options["host"], port=options["port"])

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


def create_demo_custom_fields() -> None:
    """Two custom fields a Japanese CS team typically adds, filled for part of the portfolio."""
    from django.db.models import F

    from kizuna.customers.models import Account, CustomFieldDefinition

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
    # Spread the values by id so the demo is the same every time (one UPDATE per group).
    groups = [
        {"paid_onboarding": True, "sales_channel": "直販"},
        {"paid_onboarding": False, "sales_channel": "代理店"},
        {"paid_onboarding": False, "sales_channel": "直販"},
        {"paid_onboarding": True, "sales_channel": "マーケットプレイス"},
    ]
    for remainder, values in enumerate(groups):
        Account.objects.alias(group=F("id") % len(groups)).filter(group=remainder).update(
            custom_attributes=values
        )
