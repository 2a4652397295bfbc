"""A stage changed through the account form, the API or a rule is recorded exactly once."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory
from kizuna.lifecycle import services
from kizuna.lifecycle.choices import StageChangeSource
from kizuna.lifecycle.models import StageChange
from kizuna.lifecycle.tests.factories import StageRuleFactory

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.localdate() - datetime.timedelta(days=40)


def _form_data(account: Account, **changes: str) -> dict[str, str]:
    data = {
        "name": account.name,
        "name_kana": account.name_kana,
        "domain": account.domain,
        "industry": account.industry,
        "stage": account.stage,
    }
    data.update(changes)
    return data


def test_a_stage_changed_in_the_account_form_is_recorded_once(csm, csm_client):
    account = AccountFactory.create(stage="adoption", stage_entered_on=LONG_AGO)

    csm_client.post(
        reverse("customers:account_edit", args=[account.pk]), _form_data(account, stage="value")
    )

    change = StageChange.objects.get(account=account)
    assert (change.from_stage, change.to_stage, change.source, change.actor) == (
        "adoption",
        "value",
        StageChangeSource.EDIT,
        csm,
    )
    account.refresh_from_db()
    assert account.stage_entered_on == timezone.localdate()


def test_an_edit_that_keeps_the_stage_records_nothing(csm_client):
    account = AccountFactory.create(stage="adoption", stage_entered_on=LONG_AGO)

    csm_client.post(
        reverse("customers:account_edit", args=[account.pk]), _form_data(account, name="新社名")
    )

    account.refresh_from_db()
    assert account.stage_entered_on == LONG_AGO
    assert not StageChange.objects.exists()


def test_a_stage_changed_through_the_api_is_recorded_once(csm_client):
    account = AccountFactory.create(stage="adoption")

    response = csm_client.patch(
        f"/api/v1/accounts/{account.pk}",
        json.dumps({"stage": "renewal"}),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert StageChange.objects.filter(account=account, source=StageChangeSource.EDIT).count() == 1


def test_a_rule_move_is_not_recorded_again_as_an_edit(no_rules):
    StageRuleFactory.create()
    account = AccountFactory.create(
        stage="adoption", next_renewal_date=timezone.localdate() + datetime.timedelta(days=5)
    )

    services.apply_stage_rules()

    assert list(StageChange.objects.values_list("source", flat=True)) == [StageChangeSource.RULE]
    assert account.pk in set(StageChange.objects.values_list("account_id", flat=True))


def test_a_manual_move_is_not_recorded_again_as_an_edit(csm_client):
    account = AccountFactory.create(stage="adoption")

    csm_client.post(
        reverse("lifecycle:account_stage", args=[account.pk]), {"stage": "value", "reason": "x"}
    )

    assert list(StageChange.objects.values_list("source", flat=True)) == [StageChangeSource.MANUAL]
