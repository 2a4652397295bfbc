"""Scorecards for tests: definitions built from a few measures, saved through the service."""

from __future__ import annotations

from typing import Any

from kizuna.health import services
from kizuna.health.models import Scorecard, ScorecardVersion


def measure(
    key: str,
    metric: str,
    mapping: dict[str, Any],
    *,
    weight: float = 100,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "label_ja": key,
        "label_en": key.replace("_", " ").capitalize(),
        "weight": weight,
        "metric": {"metric": metric, "params": params or {}},
        "mapping": mapping,
    }


def group(key: str, *measures: dict[str, Any], weight: float = 100) -> dict[str, Any]:
    return {
        "key": key,
        "label_ja": key,
        "label_en": key.capitalize(),
        "weight": weight,
        "measures": list(measures),
    }


def definition(
    *groups: dict[str, Any], red_below: float = 40, green_from: float = 70
) -> dict[str, Any]:
    return {"bands": {"red_below": red_below, "green_from": green_from}, "groups": list(groups)}


ARR_LINEAR = {"kind": "linear", "from": 0, "to": 2_000_000}


def arr_definition(**bands: float) -> dict[str, Any]:
    """One measure: ARR, 0 → 0 points, ¥2,000,000 → 100."""
    return definition(group("money", measure("arr", "subscription.arr", ARR_LINEAR)), **bands)


def current(card: Scorecard) -> ScorecardVersion:
    """The scorecard's current version (every saved scorecard has one)."""
    version = card.current_version
    assert version is not None
    return version


def scorecard(
    definition: dict[str, Any] | None = None, *, name: str = "Standard", **fields: Any
) -> Scorecard:
    return services.create_scorecard(
        None, name=name, definition=definition or arr_definition(), **fields
    )
