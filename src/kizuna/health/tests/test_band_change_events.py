"""A band change is published as a health.changed domain event (webhooks, flows); a score
that moves within its band is not."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from kizuna.api.webhooks import EVENT_TYPES
from kizuna.core import events
from kizuna.core.conditions import Context
from kizuna.customers import services as customer_services
from kizuna.customers.models import Account, Subscription
from kizuna.health import services
from kizuna.health.models import HealthScore
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import scorecard

pytestmark = pytest.mark.django_db


@pytest.fixture
def published() -> Iterator[list[events.DomainEvent]]:
    seen: list[events.DomainEvent] = []

    def listen(batch: Sequence[events.DomainEvent]) -> None:
        seen.extend(event for event in batch if event.type == "health.changed")

    events.subscribe(listen)
    yield seen
    events._SUBSCRIBERS.remove(listen)


def _set_arr(account: Account, arr: int) -> None:
    Subscription.objects.filter(account=account).update(arr=arr)
    customer_services.refresh_rollups()


def test_a_band_change_is_published_with_old_and_new(published) -> None:
    scorecard()
    account = account_with_arr(1_600_000)
    services.recompute_scores(None, Context.now())
    published.clear()

    _set_arr(account, 200_000)
    services.recompute_scores(None, Context.now())

    assert len(published) == 1
    event = published[0]
    assert event.object_id == account.pk
    assert event.changes == {"band": ["green", "red"], "score": ["80", "10"]}
    row = HealthScore.objects.get(account=account)
    assert (row.previous_band, row.previous_score, row.band) == ("green", 80.0, "red")
    assert row.band_changed_at is not None


def test_first_score_counts_as_a_change_from_no_score(published) -> None:
    scorecard()
    account_with_arr(1_600_000)

    services.recompute_scores(None, Context.now())

    assert [event.changes["band"] for event in published] == [["none", "green"]]


def test_a_move_within_the_band_publishes_nothing(published) -> None:
    scorecard()
    account = account_with_arr(1_600_000)
    services.recompute_scores(None, Context.now())
    published.clear()

    _set_arr(account, 1_800_000)
    services.recompute_scores(None, Context.now())

    assert published == []
    assert HealthScore.objects.get(account=account).score == 90.0


def test_health_changed_is_a_webhook_event_type() -> None:
    account = account_with_arr(1_600_000)
    scorecard()
    services.recompute_scores(None, Context.now())

    event_type = EVENT_TYPES["health.changed"]
    [payload] = event_type.serialize([HealthScore.objects.get(account=account)])

    assert str(event_type.group) == "Health"
    assert payload["account_id"] == account.pk
    assert payload["band"] == "green" and payload["previous_band"] == "none"
