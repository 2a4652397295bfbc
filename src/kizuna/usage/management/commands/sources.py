"""`kizuna sources`: data sources and their write keys from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from kizuna.usage import services
from kizuna.usage.models import Source


class Command(BaseCommand):
    help = (
        "Manage the data sources that send tracking calls. `create NAME` prints the new "
        "source's write key (shown only this once); `list` shows every source; `disable`, "
        "`enable` and `rotate` take a source's id or name."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="Create a source and print its write key.")
        create.add_argument("name", help="What sends the data, e.g. “Web app”.")
        actions.add_parser("list", help="List the sources.")
        for action, text in (
            ("disable", "Refuse the source's calls from now on."),
            ("enable", "Accept the source's calls again."),
            ("rotate", "Give the source a new write key (printed) and retire the old one."),
        ):
            sub = actions.add_parser(action, help=text)
            sub.add_argument("source", help="The source's id or exact name.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            try:
                issued = services.create_source(None, options["name"])
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            self.stderr.write(
                f"Created source {issued.source.pk} “{issued.source.name}”. Its write key "
                "(shown only now):"
            )
            self.stdout.write(issued.write_key)
            return
        if action == "list":
            sources = list(Source.objects.order_by("id"))
            if not sources:
                self.stdout.write("No data sources yet: `kizuna sources create NAME`.")
            for source in sources:
                state = "enabled " if source.enabled else "disabled"
                last = source.last_event_at.isoformat() if source.last_event_at else "never"
                self.stdout.write(
                    f"{source.pk:>4}  {state}  {source.key_prefix}…  last event {last}  "
                    f"{source.name}"
                )
            return
        source = self._find(options["source"])
        if action == "rotate":
            issued = services.rotate_key(None, source)
            self.stderr.write(f"New write key for “{source.name}” (the old one no longer works):")
            self.stdout.write(issued.write_key)
            return
        services.set_enabled(None, source, action == "enable")
        self.stdout.write(f"“{source.name}” is {action}d.")

    def _find(self, reference: str) -> Source:
        matches = list(Source.objects.filter(name=reference))
        if reference.isdigit():
            matches = list(Source.objects.filter(pk=int(reference))) or matches
        if not matches:
            raise CommandError(f"There is no data source {reference!r}: see `kizuna sources list`.")
        if len(matches) > 1:
            raise CommandError(f"Several sources are named {reference!r}: give its id instead.")
        return matches[0]
