from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from kizuna import __version__
from kizuna.core import navigation


def kizuna(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {
        "KIZUNA_VERSION": __version__,
        "DEFAULT_CURRENCY": settings.DEFAULT_CURRENCY,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["nav_main"] = navigation.for_user(user, "main")
        context["nav_settings"] = navigation.for_user(user, "settings")
    return context
