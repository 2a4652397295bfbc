"""Panels other apps add to the account page (usage, health, segments, …).

Each panel is loaded by HTMX after the page, from a URL of its own app that takes the
account id, so the account page's queries stay pinned whatever panels exist, and a slow or
failing panel never holds the page back.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class Panel:
    key: str
    title: str | Promise
    url_name: str  # reversed with the account id
    column: str  # "main" (left, wide) or "side" (right)
    order: int


PANELS: dict[str, Panel] = {}


def register(key: str, title: str | Promise, url_name: str, *, column: str, order: int) -> None:
    if column not in ("main", "side"):
        raise ValueError(f"A panel goes in the 'main' or 'side' column, not {column!r}.")
    PANELS[key] = Panel(key, title, url_name, column, order)


def for_column(column: str) -> list[Panel]:
    return sorted(
        (panel for panel in PANELS.values() if panel.column == column),
        key=lambda panel: (panel.order, panel.key),
    )
