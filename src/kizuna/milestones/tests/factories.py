"""Milestones for tests, saved through the service."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from kizuna.milestones import services
from kizuna.milestones.models import Milestone


def employees_at_least(count: int) -> dict[str, Any]:
    return {
        "metric": "account.attribute",
        "params": {"field": "employees"},
        "op": "gte",
        "value": count,
    }


def milestone(
    key: str = "big_team",
    *,
    stage: str = "onboarding",
    condition: dict[str, Any] | None = None,
    target_days: int = 14,
    **fields: Any,
) -> Milestone:
    return services.create_milestone(
        None,
        stage=stage,
        key=key,
        name=fields.pop("name", key.replace("_", " ").capitalize()),
        condition=condition or employees_at_least(100),
        target_days=target_days,
        **fields,
    )


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)
