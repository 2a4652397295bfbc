from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from kizuna import __version__


def kizuna(request: HttpRequest) -> dict[str, Any]:
    return {"KIZUNA_VERSION": __version__, "DEFAULT_CURRENCY": settings.DEFAULT_CURRENCY}
