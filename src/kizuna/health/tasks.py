"""Thin entry points for the background worker."""

from __future__ import annotations

from django.tasks import task


@task
def recompute_health() -> dict[str, str]:
    """Recompute every account after a scorecard changed: health, then the segments and
    flows that read it (all recompute steps, as the nightly run does)."""
    from kizuna.core import recompute

    return recompute.recompute().errors
