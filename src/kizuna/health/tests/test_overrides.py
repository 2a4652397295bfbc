"""A CSM's override replaces a measure's computed points until it expires or is removed;
it needs a comment and an expiry."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kizuna.core.conditions import Context
from kizuna.core.models import AuditEntry, User
from kizuna.health import services
from kizuna.health.models import HealthScore, MeasureOverride
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import scorecard

pytestmark = pytest.mark.django_db


def _override(csm: User, account, **changes: Any) -> MeasureOverride:
    values: dict[str, Any] = {
        "measure_key": "arr",
        "points": 90,
        "comment": "契約拡大が決定済み",
        "expires_at": timezone.now() + datetime.timedelta(days=30),
    }
    values.update(changes)
    return services.set_override(csm, account, **values)


def test_override_replaces_the_computed_points_at_once(csm: User) -> None:
    scorecard()
    account = account_with_arr(200_000)  # 10 points computed

    _override(csm, account)

    row = HealthScore.objects.get(account=account)
    assert row.score == 90.0 and row.band == "green"
    assert row.measures["arr"]["override"] == 90.0
    assert AuditEntry.objects.filter(object_type="health.measureoverride").exists()


def test_an_expired_override_no_longer_counts(csm: User) -> None:
    scorecard()
    account = account_with_arr(200_000)
    override = _override(csm, account)
    MeasureOverride.objects.filter(pk=override.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    services.recompute_scores([account.pk], Context.now())

    assert HealthScore.objects.get(account=account).score == 10.0


def test_removing_an_override_ends_it_and_rescores(csm: User) -> None:
    scorecard()
    account = account_with_arr(200_000)
    override = _override(csm, account)

    services.remove_override(csm, override)

    override.refresh_from_db()
    assert override.expires_at <= timezone.now()
    assert HealthScore.objects.get(account=account).score == 10.0


def test_a_new_override_ends_the_live_one(csm: User) -> None:
    scorecard()
    account = account_with_arr(200_000)
    first = _override(csm, account, points=90)

    _override(csm, account, points=60)

    first.refresh_from_db()
    assert first.expires_at <= timezone.now()
    assert HealthScore.objects.get(account=account).score == 60.0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"comment": "  "}, "comment"),
        ({"expires_at": timezone.now() - datetime.timedelta(days=1)}, "expires_at"),
        ({"points": 120}, "points"),
        ({"measure_key": "nps"}, "measure_key"),
    ],
)
def test_an_invalid_override_is_refused_and_nothing_saved(csm: User, changes, field) -> None:
    scorecard()
    account = account_with_arr(200_000)

    with pytest.raises(ValidationError) as refused:
        _override(csm, account, **changes)

    assert field in refused.value.message_dict
    assert not MeasureOverride.objects.exists()
