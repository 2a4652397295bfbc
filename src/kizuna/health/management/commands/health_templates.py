"""`kizuna health_templates`: load the seed templates (four stage scorecards, the churn-risk
and upsell-opportunity segments, the custom fields they read). Idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kizuna.health import templates_seed


class Command(BaseCommand):
    help = (
        "Load the seed templates: a health scorecard per lifecycle stage and the churn-risk "
        "and upsell-opportunity segments. What exists already is kept."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = templates_seed.install()
        except templates_seed.TemplateError as exc:
            raise CommandError(str(exc)) from exc
        for label, names in (
            ("Custom fields created", result.fields_created),
            ("Scorecards created", result.scorecards_created),
            ("Scorecards kept", result.scorecards_kept),
            ("Segments created", result.segments_created),
            ("Segments kept", result.segments_kept),
        ):
            if names:
                self.stdout.write(f"{label}: {', '.join(names)}")
        if result.segments_unavailable:
            self.stdout.write("Segments are not installed: the two segments were skipped.")
        if result.created:
            self.stdout.write(self.style.SUCCESS("Seed templates loaded; scores follow shortly."))
        else:
            self.stdout.write("The seed templates were already loaded; nothing changed.")
