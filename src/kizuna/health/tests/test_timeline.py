"""Band changes appear on the account timeline, from the daily snapshots."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.customers import timeline
from kizuna.health.models import HealthSnapshot
from kizuna.health.tests.conftest import account_with_arr

pytestmark = pytest.mark.django_db


def test_days_whose_band_differs_from_the_day_before_are_on_the_timeline() -> None:
    account = account_with_arr(1_000_000)
    today = timezone.localdate()
    for days_ago, band, score in [
        (4, "green", 75),
        (3, "green", 72),
        (2, "yellow", 60),
        (1, "yellow", 55),
        (0, "red", 35),
    ]:
        HealthSnapshot.objects.create(
            account=account, day=today - datetime.timedelta(days=days_ago), score=score, band=band
        )

    entries = timeline.timeline(account, sources=["health"])

    assert [entry.title for entry in entries] == ["Health: Yellow → Red", "Health: Green → Yellow"]
    assert entries[0].detail == "Score 35"
