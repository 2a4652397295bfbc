"""Managers list, preview, enable, disable and reorder stage rules."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from kizuna.customers.tests.factories import AccountFactory
from kizuna.lifecycle.models import StageRule
from kizuna.lifecycle.tests.factories import StageRuleFactory

pytestmark = pytest.mark.django_db

SOON = timezone.localdate() + datetime.timedelta(days=30)


def test_the_list_shows_how_many_accounts_each_rule_would_move_now(manager_client, no_rules):
    first = StageRuleFactory.create(priority=10, from_stages=["adoption"])
    second = StageRuleFactory.create(priority=20, from_stages=["adoption", "value"])
    AccountFactory.create(stage="adoption", next_renewal_date=SOON)  # the first rule's
    AccountFactory.create(stage="value", next_renewal_date=SOON)

    response = manager_client.get(reverse("lifecycle:rules"))

    assert response.context["rules"] == [(first, 1), (second, 1)]


def test_the_form_previews_without_saving(manager_client, no_rules):
    AccountFactory.create(stage="adoption", next_renewal_date=SOON)
    AccountFactory.create(stage="value", next_renewal_date=SOON)

    response = manager_client.post(
        reverse("lifecycle:rule_new"),
        {
            "name": "Renewal",
            "to_stage": "renewal",
            "from_stages": ["adoption"],
            "conditions": json.dumps(
                {"metric": "subscription.days_to_renewal", "op": "lte", "value": 90}
            ),
            "priority": "10",
            "preview": "1",
        },
    )

    assert response.context["preview"] == 1
    assert "1 account in these stages matches now." in response.content.decode()
    assert not StageRule.objects.exists()


def test_a_rule_can_be_disabled_and_enabled(manager_client, no_rules):
    rule = StageRuleFactory.create()

    manager_client.post(reverse("lifecycle:rule_enabled", args=[rule.pk]), {"enabled": "0"})
    rule.refresh_from_db()
    assert not rule.enabled

    manager_client.post(reverse("lifecycle:rule_enabled", args=[rule.pk]), {"enabled": "1"})
    rule.refresh_from_db()
    assert rule.enabled


def test_moving_a_rule_up_swaps_it_with_the_one_before(manager_client, no_rules):
    first = StageRuleFactory.create(priority=10)
    second = StageRuleFactory.create(priority=10)  # same priority: id decides
    third = StageRuleFactory.create(priority=30)

    manager_client.post(reverse("lifecycle:rule_move", args=[third.pk]), {"direction": "up"})

    order = list(StageRule.objects.order_by("priority", "id").values_list("pk", flat=True))
    assert order == [first.pk, third.pk, second.pk]
    assert list(StageRule.objects.order_by("priority").values_list("priority", flat=True)) == [
        10,
        20,
        30,
    ]


def test_deleting_a_rule_keeps_its_name_in_the_history(manager_client, no_rules):
    from kizuna.lifecycle import services
    from kizuna.lifecycle.models import StageChange

    rule = StageRuleFactory.create(name="Renewal coming up")
    AccountFactory.create(stage="adoption", next_renewal_date=SOON)
    services.apply_stage_rules()

    manager_client.post(reverse("lifecycle:rule_delete", args=[rule.pk]))

    change = StageChange.objects.get()
    assert (change.rule, change.moved_by) == (None, "Rule “Renewal coming up”")


def test_csms_cannot_open_the_rules(csm_client):
    assert csm_client.get(reverse("lifecycle:rules")).status_code == 403
