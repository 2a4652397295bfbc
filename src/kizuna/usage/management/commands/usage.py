"""`kizuna usage`: look after the usage rollups."""

from __future__ import annotations

import datetime
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max, Min

from kizuna.usage import rollups
from kizuna.usage.models import Event


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date such as 2025-01-31.") from None


class Command(BaseCommand):
    help = (
        "Usage rollups: `status` shows how far they are; `rollup` folds new events in now "
        "(the worker does this continuously); `rebuild --from DAY --to DAY` (or `--all`) "
        "recomputes those days from the raw events; `refresh` moves the 30-day figures to "
        "today."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("status", help="Show the rollup watermark and the backlog.")
        actions.add_parser("rollup", help="Fold every new event into the rollups now.")
        actions.add_parser("refresh", help="Recompute every account's 30-day figures.")
        rebuild = actions.add_parser("rebuild", help="Recompute days from the raw events.")
        rebuild.add_argument("--from", dest="first", help="First day, YYYY-MM-DD.")
        rebuild.add_argument("--to", dest="last", help="Last day, YYYY-MM-DD (default: first).")
        rebuild.add_argument("--all", action="store_true", help="Every day with events.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        started = time.monotonic()
        if action == "status":
            status = rollups.status()
            last_run = status["last_run_at"].isoformat() if status["last_run_at"] else "never"
            self.stdout.write(
                f"Rolled up to event {status['last_event_id']:,} of {status['newest_event_id']:,} "
                f"({status['behind']:,} waiting); last run {last_run}."
            )
            if status["last_error"]:
                self.stdout.write(f"Last error: {status['last_error']}")
        elif action == "rollup":
            count = rollups.rollup_new_events()
            self.stdout.write(f"Rolled up {count:,} events in {time.monotonic() - started:.1f} s.")
        elif action == "refresh":
            count = rollups.refresh_windows(only_active=False)
            self.stdout.write(f"Refreshed {count:,} accounts.")
        else:
            first, last = self._range(options)
            if first is None or last is None:
                self.stdout.write("No events: nothing to rebuild.")
                return
            count = rollups.rebuild(first, last)
            self.stdout.write(
                f"Rebuilt {first}…{last} from {count:,} events in "
                f"{time.monotonic() - started:.1f} s."
            )

    def _range(self, options: dict[str, Any]) -> tuple[datetime.date | None, datetime.date | None]:
        if options["all"]:
            if options["first"] or options["last"]:
                raise CommandError("Give either --all or --from/--to, not both.")
            bounds = Event.objects.aggregate(first=Min("day"), last=Max("day"))
            return bounds["first"], bounds["last"]
        if not options["first"]:
            raise CommandError("Give the days to rebuild: --from DAY [--to DAY], or --all.")
        first = _day(options["first"])
        last = _day(options["last"]) if options["last"] else first
        if last < first:
            raise CommandError("--to is before --from.")
        if (last - first).days > 3660:
            raise CommandError("Rebuild at most ten years at a time.")
        return first, last
