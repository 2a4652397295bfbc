"""Template helpers of the usage pages."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """0.423 → "42%" (one decimal below 10%)."""
    if value is None:
        return "—"
    share = value * 100
    return f"{number_format(share, 1 if 0 < share < 10 else 0)}%"


@register.filter
def percent_number(value: float | None) -> int:
    """0.423 → 42, capped to 0–100, for bar widths and meters."""
    if value is None:
        return 0
    return max(0, min(100, round(value * 100)))
