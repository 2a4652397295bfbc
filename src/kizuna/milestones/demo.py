"""Milestones of the demo: the default ones (seed 004). Call `install()` after the demo's
usage exists; the demo's recompute then ticks them (and marks the overdue ones)."""

from __future__ import annotations

from collections.abc import Callable

from kizuna.milestones import services


def install(stdout: Callable[[str], None] | None = None) -> int:
    """Create the default milestones that are missing (idempotent); returns how many."""
    created = services.install_defaults()
    if stdout is not None:
        stdout(f"{created} milestones added.")
    return created
