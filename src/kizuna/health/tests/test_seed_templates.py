"""The seed-004 templates: four stage scorecards built from the churn-risk and upsell
signals, and the "churn risk" / "upsell opportunity" segments — installed idempotently,
valid, and computing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.core import recompute
from kizuna.customers.models import Account, CustomFieldDefinition
from kizuna.customers.services import refresh_rollups
from kizuna.customers.tests.factories import (
    AccountFactory,
    ContactFactory,
    SubscriptionFactory,
    TouchpointFactory,
)
from kizuna.health import services, templates_seed
from kizuna.health.models import Scorecard
from kizuna.health.tests.factories import scorecard
from kizuna.segments.models import Segment, SegmentMembership
from kizuna.usage.tests.helpers import at, store

pytestmark = pytest.mark.django_db


def test_install_creates_the_fields_four_stage_scorecards_and_two_segments() -> None:
    result = templates_seed.install()
    assert sorted(result.fields_created) == [
        "case_study",
        "logo_received",
        "paid_onboarding",
        "payment_delays",
    ]
    assert sorted(Scorecard.objects.values_list("stage", flat=True)) == [
        "adoption",
        "onboarding",
        "renewal",
        "value",
    ]
    assert set(Segment.objects.values_list("name", flat=True)) == {"解約リスク", "アップセル機会"}
    labels = CustomFieldDefinition.objects.get(key="payment_delays")
    assert (labels.label_ja, labels.label_en) == ("支払遅延実績あり", "Payment delays on record")


def test_installing_twice_changes_nothing() -> None:
    templates_seed.install()
    again = templates_seed.install()
    assert again.created == 0
    assert len(again.scorecards_kept) == 4
    assert len(again.segments_kept) == 2
    assert Scorecard.objects.count() == 4
    assert Segment.objects.count() == 2
    assert all(card.versions.count() == 1 for card in Scorecard.objects.all())


def test_every_template_definition_is_valid_with_the_signals_of_the_seed() -> None:
    templates_seed.install()
    for template in templates_seed.SCORECARDS:
        parsed = services.validate_definition(template.definition)
        metrics = {measure.metric.metric for _group, measure in parsed.measures()}
        assert "usage.login_rate" in metrics
        assert "touchpoint.last_rating" in metrics
        assert sum(group.weight for group in parsed.groups) == 100
        assert "Email click rate can be added" in template.description


def test_the_stages_weigh_different_signals() -> None:
    weights = {
        template.stage: {group["key"]: group["weight"] for group in template.definition["groups"]}
        for template in templates_seed.SCORECARDS
    }
    assert weights["onboarding"]["financial"] > weights["value"]["financial"]
    assert weights["renewal"]["engagement"] > weights["adoption"]["engagement"]


def test_a_stage_that_has_its_own_scorecard_keeps_it() -> None:
    own = scorecard(name="Our renewal health", stage="renewal")
    result = templates_seed.install()
    assert "ヘルススコア：更新" in result.scorecards_kept
    assert list(Scorecard.objects.filter(stage="renewal")) == [own]


def test_a_field_of_another_type_stops_the_install_with_nothing_saved() -> None:
    CustomFieldDefinition.objects.create(
        key="logo_received", label_ja="ロゴ", label_en="Logo", field_type="text"
    )
    with pytest.raises(templates_seed.TemplateError, match="logo_received"):
        templates_seed.install()
    assert not Scorecard.objects.exists()
    assert not Segment.objects.exists()
    assert CustomFieldDefinition.objects.count() == 1


def _customer(users_now: int, users_before: int, **fields: object) -> Account:
    """10 seats; `users_now` users active in the last 30 days, `users_before` in the 30
    days before."""
    today = timezone.localdate()
    account = AccountFactory.create(stage="value", **fields)
    SubscriptionFactory.create(
        account=account, seats=10, start_date=today - datetime.timedelta(days=400)
    )
    refresh_rollups([account.pk])  # as saving the contract through the services would
    events = []
    for n in range(max(users_now, users_before)):
        user_id = f"a{account.pk}-{n}"
        ContactFactory.create(account=account, product_user_id=user_id)
        if n < users_now:
            events.append((user_id, "Logged In", at(3)))
        if n < users_before:
            events.append((user_id, "Logged In", at(40)))
    store(events)
    return account


def _members(name: str) -> set[int]:
    return set(
        SegmentMembership.objects.filter(segment__name=name, exited_at__isnull=True).values_list(
            "account_id", flat=True
        )
    )


def test_the_segments_compute_on_the_signals() -> None:
    quiet = _customer(1, 6)
    growing = _customer(9, 5)
    growing_but_late_payer = _customer(9, 5, custom_attributes={"payment_delays": True})
    steady = _customer(6, 6)
    few_users = _customer(2, 2)
    few_users_unhappy = _customer(2, 2)
    TouchpointFactory.create(account=few_users_unhappy, rating="poor")
    templates_seed.install()
    recompute.recompute()
    assert quiet.pk in _members("解約リスク")  # logins and users falling
    assert few_users_unhappy.pk in _members("解約リスク")
    assert steady.pk not in _members("解約リスク")
    assert few_users.pk not in _members("解約リスク")
    assert _members("アップセル機会") == {growing.pk}
    assert growing_but_late_payer.pk not in _members("解約リスク")


def test_the_demo_fills_the_seed_fields_as_yes_or_no_leaning_on_churn() -> None:
    from kizuna.core.management.commands.demo import create_demo_custom_fields

    churned = [AccountFactory.create(stage="churned") for _n in range(40)]
    others = [AccountFactory.create(stage="value") for _n in range(40)]
    create_demo_custom_fields()
    values = dict(Account.objects.values_list("pk", "custom_attributes"))
    assert all(
        isinstance(values[a.pk][key], bool)
        for a in churned + others
        for key in ("payment_delays", "logo_received", "case_study", "paid_onboarding")
    )
    delays_churned = sum(values[a.pk]["payment_delays"] for a in churned)
    delays_others = sum(values[a.pk]["payment_delays"] for a in others)
    assert delays_churned > delays_others
    assert Account.objects.filter(custom_attributes__payment_delays=True).count() == (
        delays_churned + delays_others
    )
