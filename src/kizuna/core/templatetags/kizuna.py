"""Template helpers used across Kizuna's pages."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import template
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import get_language

register = template.Library()

_SYMBOLS = {"JPY": "¥", "USD": "$", "EUR": "€"}


@register.filter
def money(value: Any, currency: str = "JPY") -> str:
    """¥1,234,567 — whole units for yen, two decimals for other currencies."""
    if value in (None, ""):
        return "—"
    amount = Decimal(value)
    symbol = _SYMBOLS.get(currency, currency + " ")
    if currency == "JPY":
        return f"{symbol}{amount:,.0f}"
    return f"{symbol}{amount:,.2f}"


@register.filter
def compact_money(value: Any) -> str:
    """Large yen amounts in the units people read: 1.2億 / 3,400万 in Japanese, ¥1.2M in English."""
    if value in (None, ""):
        return "—"
    amount = Decimal(value)
    if (get_language() or "ja").startswith("ja"):
        if amount >= 100_000_000:
            return f"¥{amount / 100_000_000:,.1f}億"
        if amount >= 10_000:
            return f"¥{amount / 10_000:,.0f}万"
        return f"¥{amount:,.0f}"
    if amount >= 1_000_000_000:
        return f"¥{amount / 1_000_000_000:,.1f}B"
    if amount >= 1_000_000:
        return f"¥{amount / 1_000_000:,.1f}M"
    if amount >= 1_000:
        return f"¥{amount / 1_000:,.0f}K"
    return f"¥{amount:,.0f}"


@register.filter
def days_until(value: datetime.date | None) -> int | None:
    if value is None:
        return None
    return (value - timezone.localdate()).days


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (None or "" removes one)."""
    request = context["request"]
    params: QueryDict = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def join_names(values: Any) -> str:
    """A list of names joined the way the current language writes lists (、 or , )."""
    separator = "、" if (get_language() or "ja").startswith("ja") else ", "
    return separator.join(str(value) for value in values)


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None
