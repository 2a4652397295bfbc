"""`kizuna createadmin`: create an admin, non-interactively if you like."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from kizuna.core import audit
from kizuna.core.models import Role, User


class Command(BaseCommand):
    help = (
        "Create an admin user. With --password it runs without questions; without it the "
        "password is asked for (twice). If the user exists, its password is reset and it "
        "becomes an admin."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", help="The password (prompted for when omitted).")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        if not username:
            raise CommandError("--username cannot be empty.")
        password = options["password"]
        if password is None:
            if not sys.stdin.isatty():
                raise CommandError("No --password given and no terminal to ask for one.")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords do not match.")
        user = User.objects.filter(username=username).first()
        try:
            password_validation.validate_password(password, user or User(username=username))
        except ValidationError as exc:
            raise CommandError("The password is too weak: " + " ".join(exc.messages)) from None
        with transaction.atomic():
            if user is None:
                user = User(username=username, email=options["email"], role=Role.ADMIN)
                user.set_password(password)
                user.save()
                audit.record_create(None, user)
                self.stdout.write(self.style.SUCCESS(f"Admin “{username}” created."))
            else:
                before = audit.snapshot(user)
                user.role = Role.ADMIN
                user.is_active = True
                if options["email"]:
                    user.email = options["email"]
                user.set_password(password)
                user.save()
                audit.record_update(None, user, before)
                self.stdout.write(self.style.SUCCESS(f"Admin “{username}” updated (new password)."))
