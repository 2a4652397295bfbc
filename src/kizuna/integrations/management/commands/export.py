"""`kizuna export <object> FILE` — FILE ending in .csv or .xlsx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kizuna.integrations import exports
from kizuna.integrations.models import ObjectType
from kizuna.integrations.targets import ALIASES


class Command(BaseCommand):
    help = (
        "Export accounts, contacts, subscriptions, opportunities or touchpoints to CSV "
        "(UTF-8 with BOM) or .xlsx, with the columns `kizuna import` takes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("object_type", choices=[*ObjectType.values, *ALIASES])
        parser.add_argument("file", type=Path, help="Where to write; .csv or .xlsx.")

    def handle(self, *args: Any, **options: Any) -> None:
        object_type = ALIASES.get(options["object_type"], options["object_type"])
        path: Path = options["file"]
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise CommandError("The file name must end in .csv or .xlsx.")
        try:
            if suffix == ".csv":
                with path.open("w", encoding="utf-8", newline="") as handle:
                    handle.writelines(exports.csv_lines(object_type))
            else:
                with path.open("wb") as handle:
                    exports.write_xlsx(object_type, handle)
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}.") from None
        self.stdout.write(f"Wrote {path}.")
