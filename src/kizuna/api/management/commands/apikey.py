"""`kizuna apikey create NAME --role ROLE [--expires DAYS]`, `list` and `revoke PREFIX`."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kizuna.api import services
from kizuna.api.models import ApiKey
from kizuna.core.models import Role, User


class Command(BaseCommand):
    help = (
        "Manage REST API keys. `create` prints the new key once (only its hash is stored); "
        "`list` shows the keys; `revoke` refuses a key from now on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a key and print it.")
        create.add_argument("name", help="Who or what uses the key, e.g. 'Salesforce sync'.")
        create.add_argument(
            "--role",
            required=True,
            choices=Role.values,
            help="The key may do what a person with this role may do.",
        )
        create.add_argument(
            "--expires", type=int, metavar="DAYS", help="Expire after this many days."
        )
        create.add_argument(
            "--rate-limit",
            type=int,
            default=600,
            metavar="PER_MINUTE",
            help="Requests per minute (0: no limit). Default 600.",
        )
        create.add_argument(
            "--created-by", metavar="USERNAME", help="The admin recorded as the creator."
        )
        actions.add_parser("list", help="List the keys.")
        revoke = actions.add_parser("revoke", help="Revoke a key.")
        revoke.add_argument("prefix", help="The key's prefix, e.g. kz_1a2b3c4d or 1a2b3c4d.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options)
        elif action == "list":
            self._list()
        else:
            self._revoke(options["prefix"])

    def _create(self, options: dict[str, Any]) -> None:
        name = options["name"].strip()
        if not name or len(name) > 100:
            raise CommandError("The name must have 1 to 100 characters.")
        days = options["expires"]
        if days is not None and not 1 <= days <= 3650:
            raise CommandError("--expires must be between 1 and 3650 days.")
        if not 0 <= options["rate_limit"] <= 100_000:
            raise CommandError("--rate-limit must be between 0 and 100000.")
        creator = None
        if options["created_by"]:
            creator = User.objects.filter(username=options["created_by"]).first()
            if creator is None:
                raise CommandError(f"There is no user “{options['created_by']}”.")
        expires_at = timezone.now() + datetime.timedelta(days=days) if days else None
        key, token = services.create_api_key(
            creator,
            name=name,
            role=options["role"],
            expires_at=expires_at,
            rate_limit_per_minute=options["rate_limit"],
        )
        self.stderr.write(
            f"API key “{key.name}” created with role {key.role}. "
            "It is shown only this once; store it now."
        )
        # The key alone on stdout, so scripts can capture it: KEY=$(kizuna apikey create …)
        self.stdout.write(token)

    def _list(self) -> None:
        now = timezone.now()
        keys = ApiKey.objects.order_by("-created_at", "-id")
        if not keys:
            self.stdout.write("No API keys.")
            return
        for key in keys:
            last = key.last_used_at.isoformat(timespec="minutes") if key.last_used_at else "never"
            expires = key.expires_at.date().isoformat() if key.expires_at else "-"
            self.stdout.write(
                f"kz_{key.prefix}  {key.status_at(now):<8} {key.role:<8} "
                f"expires {expires:<10}  last used {last:<16}  {key.name}"
            )

    def _revoke(self, prefix: str) -> None:
        prefix = prefix.strip().removeprefix("kz_").split("_", 1)[0]
        key = ApiKey.objects.filter(prefix=prefix).first()
        if key is None:
            raise CommandError(f"No API key has the prefix “{prefix}”.")
        if key.revoked_at is not None:
            self.stdout.write(f"API key “{key.name}” was already revoked.")
            return
        services.revoke_api_key(None, key)
        self.stdout.write(f"API key “{key.name}” revoked.")
