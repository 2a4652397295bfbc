"""`seed`: fill an empty database with a deterministic Japanese demo portfolio."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kizuna.core.models import User
from kizuna.customers import demo
from kizuna.customers.models import Account


class Command(BaseCommand):
    help = (
        "Fill an empty database with demo data: 6 CSMs, a manager and a viewer, and N Japanese "
        "B2B accounts with contacts, subscriptions, opportunities and six months of touchpoints. "
        "The same --seed on the same day gives the same data."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--accounts",
            type=int,
            default=300,
            help=f"Number of accounts to create, 1 to {demo.MAX_ACCOUNTS:,} (default: 300).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=42,
            help="Random seed; the same seed gives the same data (default: 42).",
        )
        parser.add_argument(
            "--password",
            help=(
                "Password for the demo users (sato.misaki, manager, viewer, …). "
                "Without it they are created unable to sign in until an admin sets one."
            ),
        )
        parser.add_argument(
            "--touchpoints-per-account",
            type=float,
            help="Average touchpoints per account (default: 15 up to 1,000 accounts, else 2).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        accounts: int = options["accounts"]
        per_account: float | None = options["touchpoints_per_account"]
        if not 1 <= accounts <= demo.MAX_ACCOUNTS:
            raise CommandError(f"--accounts must be between 1 and {demo.MAX_ACCOUNTS:,}.")
        if per_account is not None and per_account < 0:
            raise CommandError("--touchpoints-per-account cannot be negative.")
        existing = Account.objects.count()
        if existing:
            raise CommandError(
                f"The database already has {existing:,} accounts; "
                "seed only fills an empty database."
            )

        started = time.monotonic()
        verbose = options["verbosity"] >= 1
        result = demo.generate(
            accounts,
            seed=options["seed"],
            password=options["password"],
            touchpoints_per_account=per_account,
            stdout=self.stdout.write if verbose else None,
        )
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {result.accounts:,} accounts, {result.contacts:,} contacts, "
                f"{result.subscriptions:,} subscriptions, {result.opportunities:,} "
                f"opportunities and {result.touchpoints:,} touchpoints in {elapsed:.1f} s."
            )
        )
        self.stdout.write(f"Demo users: {', '.join(result.users)}")
        locked = [
            user.username
            for user in User.objects.filter(username__in=result.users).order_by("username")
            if not user.has_usable_password()
        ]
        if locked:
            self.stdout.write(
                f"{', '.join(locked)} cannot sign in until a password is set "
                "(django-admin changepassword USERNAME), or seed an empty database with "
                "--password."
            )
