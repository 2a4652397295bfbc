"""The sidebar, assembled from what each app registers (in its AppConfig.ready), so a new
app adds its pages without editing the layout."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    group: str  # "main" or "settings"
    section: str  # matched against the page's `section` to mark the current page
    label: str | Promise
    url_name: str
    allowed: Callable[[Any], bool]
    order: int = 100

    @property
    def url(self) -> str:
        return reverse(self.url_name)


ITEMS: list[NavItem] = []


def register(
    group: str,
    section: str,
    label: str | Promise,
    url_name: str,
    *,
    allowed: Callable[[Any], bool] = lambda user: True,
    order: int = 100,
) -> None:
    if any(item.url_name == url_name for item in ITEMS):
        return  # ready() may run more than once in tests
    ITEMS.append(NavItem(group, section, label, url_name, allowed, order))
    ITEMS.sort(key=lambda item: (item.group, item.order))


def for_user(user: Any, group: str) -> list[NavItem]:
    return [item for item in ITEMS if item.group == group and item.allowed(user)]
