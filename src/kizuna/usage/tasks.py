"""Background entry points of product usage."""

from __future__ import annotations

from django.tasks import task

from kizuna.usage import rollups


@task
def rollup_new_events() -> int:
    """Fold newly received events into the rollups (enqueued after ingest, and every minute),
    then recompute the scores, segments and stages of the accounts they moved — in the same
    task, so a band change is visible moments after the events that caused it."""
    from kizuna.core import recompute

    rolled = rollups.rollup_new_events()
    recompute.run_pending()
    return rolled


@task
def refresh_usage_windows() -> int:
    """Move every account's 30-day usage figures to today's window (just after midnight)."""
    return rollups.refresh_windows()
