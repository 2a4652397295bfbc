"""What each segment prefers: click-through by content type (managers and everyone who reads)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from kizuna.engagement import queries

WINDOWS = (30, 90, 180, 365)


@require_safe
def content_preferences(request: HttpRequest) -> HttpResponse:
    try:
        days = int(request.GET.get("days", 90))
    except ValueError:
        days = 90
    if days not in WINDOWS:
        days = 90
    return render(
        request,
        "engagement/content_preferences.html",
        {
            "section": "engagement-insights",
            "prefs": queries.preferences(days),
            "windows": WINDOWS,
            "min_sample": queries.MIN_SAMPLE,
        },
    )
