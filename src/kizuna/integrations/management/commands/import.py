"""`kizuna import <object> FILE [--mapping FILE.json|NAME] [--dry-run] [--user USERNAME]`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from kizuna.core.models import Role, User
from kizuna.integrations import services
from kizuna.integrations.mapping import ColumnMap
from kizuna.integrations.models import ColumnMapping, ImportJob, ImportStatus, ObjectType
from kizuna.integrations.tabular import FileProblem
from kizuna.integrations.targets import ALIASES

SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = (
        "Import accounts, contacts, subscriptions, opportunities or touchpoints from a CSV or "
        ".xlsx file: a dry run first, then (without --dry-run) everything in one transaction. "
        "Exits with status 1 when the file has problems; nothing is changed then."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "object_type", choices=[*ObjectType.values, *ALIASES], help="What the file holds."
        )
        parser.add_argument("file", type=Path, help="The CSV or .xlsx file.")
        parser.add_argument(
            "--mapping",
            help=(
                "A JSON file of column name → field (as “Download JSON” of a saved mapping "
                "writes it), or the name of a saved mapping. Default: suggested from the "
                "column names."
            ),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; change nothing."
        )
        parser.add_argument(
            "--user",
            help="The user the changes are recorded under (default: the first active admin).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        object_type = ALIASES.get(options["object_type"], options["object_type"])
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        actor = self._actor(options["user"])
        columns = self._mapping(options["mapping"], object_type)
        try:
            job = services.upload(
                actor,
                object_type,
                path.name,
                content,
                language=translation.get_language(),
                columns=columns,
            )
        except FileProblem as exc:
            raise CommandError(exc.message) from None
        self._describe(job)
        if options["dry_run"]:
            services.start_dry_run(job, inline=True)
            self._report(job, applied=False)
            self._fail_on_problems(job)
            self.stdout.write("Dry run: nothing was changed.")
            return
        # Applying checks every row first and writes nothing if any has a problem, so a
        # separate dry run would only read the file twice.
        services.start_apply(job, actor, inline=True, without_dry_run=True)
        self._report(job, applied=job.status == ImportStatus.APPLIED)
        self._fail_on_problems(job)
        if job.status != ImportStatus.APPLIED:
            raise CommandError("Nothing was changed.")
        if job.created_count + job.updated_count == 0:
            self.stdout.write("Nothing to change.")

    def _fail_on_problems(self, job: ImportJob) -> None:
        if job.error_count or job.error_message:
            raise CommandError("Nothing was changed: fix the problems above and run again.")

    def _actor(self, username: str | None) -> User | None:
        if username:
            try:
                user = User.objects.get(username=username, is_active=True)
            except User.DoesNotExist:
                raise CommandError(f"There is no active user “{username}”.") from None
            if not user.can_write:
                raise CommandError(f"“{username}” is a viewer and may not import.")
            return user
        return User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()

    def _mapping(self, value: str | None, object_type: str) -> ColumnMap | None:
        if not value:
            return None
        path = Path(value)
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise CommandError(f"Cannot read the mapping {path}: {exc}") from None
        else:
            saved = ColumnMapping.objects.filter(object_type=object_type, name=value).first()
            if saved is None:
                raise CommandError(
                    f"“{value}” is neither a mapping file nor a saved {object_type} mapping."
                )
            data = saved.columns
        try:
            return ColumnMap.parse(data, object_type)
        except ValidationError as exc:
            raise CommandError("The mapping is not valid: " + " ".join(exc.messages)) from None

    def _describe(self, job: ImportJob) -> None:
        details = job.get_file_format_display()
        if job.encoding:
            details += f", {job.encoding}"
        if job.sheet_name:
            details += f", sheet “{job.sheet_name}”"
        self.stdout.write(f"{job.file_name}: {job.rows_total} rows ({details})")
        for column in job.headers:
            target = job.mapping.get(column)
            if column:
                self.stdout.write(f"  {column} → {target or '(not imported)'}")

    def _report(self, job: ImportJob, *, applied: bool) -> None:
        job.refresh_from_db()
        verb = ("created", "updated") if applied else ("to create", "to update")
        self.stdout.write(
            f"{job.created_count} {verb[0]}, {job.updated_count} {verb[1]}, "
            f"{job.unchanged_count} unchanged, {job.error_count} rows with errors"
        )
        for problem in job.error_message.splitlines():
            self.stderr.write(problem)
        for error in job.row_errors.order_by("row_number", "id")[:SHOWN_ERRORS]:
            where = f"row {error.row_number}" + (f", {error.column}" if error.column else "")
            value = f" “{error.value}”" if error.value else ""
            self.stderr.write(f"{where}{value}: {error.message}")
        if job.error_count > SHOWN_ERRORS:
            self.stderr.write(f"… see all problems on the import page (job {job.pk}).")
