"""Closing records the outcome once and publishes cta.closed; snoozing puts a CTA aside."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.api.models import WebhookDelivery
from kizuna.api.tests.factories import WebhookEndpointFactory
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory
from kizuna.playbooks import queries, services
from kizuna.playbooks.choices import CtaStatus, Outcome
from kizuna.playbooks.tests.factories import CtaFactory

pytestmark = pytest.mark.django_db

TOMORROW = datetime.timedelta(days=1)


def test_open_cta_publishes_cta_created(received: list) -> None:
    cta, _ = services.open_cta(account_id=AccountFactory.create().pk, type="risk", reason="x")

    assert [(event.type, event.object_id) for event in received] == [("cta.created", cta.pk)]


def test_closing_publishes_cta_closed_with_the_outcome(received: list) -> None:
    user = UserFactory.create()
    cta = CtaFactory.create()

    services.close_cta(user, cta, outcome=Outcome.RESOLVED, note="Called, fixed.")

    cta.refresh_from_db()
    assert (cta.status, cta.outcome, cta.outcome_note) == ("done", "resolved", "Called, fixed.")
    assert cta.closed_by_id == user.pk and cta.closed_at is not None
    assert [event.type for event in received] == ["cta.closed"]
    assert received[0].actor_id == user.pk


def test_a_closed_cta_cannot_be_closed_again(received: list) -> None:
    cta = CtaFactory.create()
    services.close_cta(None, cta, outcome=Outcome.RESOLVED)

    with pytest.raises(services.InvalidCta) as refused:
        services.close_cta(None, cta, status=CtaStatus.CANCELLED, outcome=Outcome.NOT_NEEDED)

    assert refused.value.code == "conflict"
    assert len(received) == 1


def test_closing_needs_an_outcome() -> None:
    cta = CtaFactory.create()

    with pytest.raises(services.InvalidCta):
        services.close_cta(None, cta, outcome="")

    cta.refresh_from_db()
    assert cta.status == CtaStatus.OPEN


def test_the_events_become_webhook_deliveries() -> None:
    WebhookEndpointFactory.create(event_types=["cta.created", "cta.closed"])
    cta, _ = services.open_cta(account_id=AccountFactory.create().pk, type="risk", reason="x")
    services.close_cta(None, cta, outcome=Outcome.RESOLVED)

    deliveries = list(WebhookDelivery.objects.order_by("id"))

    assert [delivery.event_type for delivery in deliveries] == ["cta.created", "cta.closed"]
    assert deliveries[1].payload["data"]["object"]["outcome"] == "resolved"


def test_snooze_hides_a_cta_until_its_day(received: list) -> None:
    owner = UserFactory.create()
    cta = CtaFactory.create(owner=owner)
    today = timezone.localdate()

    services.snooze(owner, cta, today + TOMORROW)

    assert cta.status == CtaStatus.SNOOZED
    assert not queries.work(queries.WorkFilter(), owner).exists()
    assert (
        queries.work(queries.WorkFilter(), owner)
        .model.objects.filter(queries.awake(today + TOMORROW))
        .exists()
    )
    assert received == []  # snoozing is not a webhook event


def test_snooze_until_today_is_refused() -> None:
    cta = CtaFactory.create()

    with pytest.raises(services.InvalidCta):
        services.snooze(None, cta, timezone.localdate())


def test_waking_snoozed_ctas_is_one_update() -> None:
    cta = CtaFactory.create(status=CtaStatus.SNOOZED, snoozed_until=timezone.localdate())

    assert services.wake_snoozed() == 1

    cta.refresh_from_db()
    assert (cta.status, cta.snoozed_until) == (CtaStatus.OPEN, None)


def test_reopen_clears_the_outcome() -> None:
    cta = CtaFactory.create()
    services.close_cta(None, cta, outcome=Outcome.RESOLVED)

    services.reopen(None, cta)

    cta.refresh_from_db()
    assert (cta.status, cta.outcome, cta.closed_at) == (CtaStatus.OPEN, "", None)


def test_reopen_is_refused_when_another_open_cta_asks_the_same() -> None:
    closed = CtaFactory.create(reason="No login", status=CtaStatus.DONE)
    CtaFactory.create(account=closed.account, reason="No login")

    with pytest.raises(services.InvalidCta) as refused:
        services.reopen(None, closed)

    assert refused.value.code == "conflict"


def test_toggle_task_ticks_and_unticks() -> None:
    from kizuna.playbooks.tests.factories import CtaTaskFactory

    user = UserFactory.create()
    task = CtaTaskFactory.create()

    services.toggle_task(user, task)
    assert task.done_at is not None and task.done_by_id == user.pk
    services.toggle_task(user, task)
    assert task.done_at is None
