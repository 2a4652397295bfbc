"""The lifecycle in the REST API: stage rules, an account's stage and tier history, moving
a stage by hand, the board's figures — with the roles of the UI."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kizuna.api.tests.conftest import ApiClient
from kizuna.customers import services as customer_services
from kizuna.customers.tests.factories import AccountFactory, SubscriptionFactory
from kizuna.lifecycle.models import StageChange, StageRule
from kizuna.lifecycle.tests.factories import StageRuleFactory

pytestmark = pytest.mark.django_db

RENEWAL_SOON = {"metric": "subscription.days_to_renewal", "op": "lte", "value": 90}


def test_a_manager_creates_reads_updates_and_deletes_a_rule(api: ApiClient, no_rules):
    created = api.post(
        "/api/v1/stage-rules",
        {
            "name": "Renewal coming up",
            "from_stages": ["value", "adoption"],
            "to_stage": "renewal",
            "conditions": RENEWAL_SOON,
        },
    )
    assert created.status_code == 201, created.json()
    rule_id = created.json()["id"]
    assert created.json()["from_stages"] == ["adoption", "value"]

    assert api.get(f"/api/v1/stage-rules/{rule_id}").json()["name"] == "Renewal coming up"
    updated = api.patch(f"/api/v1/stage-rules/{rule_id}", {"enabled": False, "priority": 5})
    assert (updated.json()["enabled"], updated.json()["priority"]) == (False, 5)
    assert api.get("/api/v1/stage-rules").json()["count"] == 1

    assert api.delete(f"/api/v1/stage-rules/{rule_id}").status_code == 204
    assert not StageRule.objects.exists()


def test_a_csm_cannot_change_rules(csm_api: ApiClient, no_rules):
    response = csm_api.post(
        "/api/v1/stage-rules",
        {"name": "x", "from_stages": ["value"], "to_stage": "renewal", "conditions": RENEWAL_SOON},
    )

    assert response.status_code == 403
    assert not StageRule.objects.exists()


def test_a_csm_moves_a_stage_by_hand(csm_api: ApiClient):
    account = AccountFactory.create(stage="onboarding")

    response = csm_api.post(
        f"/api/v1/accounts/{account.pk}/stage", {"stage": "adoption", "reason": "研修完了"}
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["from_stage"], body["to_stage"], body["source"], body["reason"]) == (
        "onboarding",
        "adoption",
        "manual",
        "研修完了",
    )
    account.refresh_from_db()
    assert account.stage == "adoption"


def test_moving_to_the_current_stage_is_refused(csm_api: ApiClient):
    account = AccountFactory.create(stage="value")

    response = csm_api.post(
        f"/api/v1/accounts/{account.pk}/stage", {"stage": "value", "reason": "x"}
    )

    assert response.status_code == 422
    assert "stage" in response.json()["error"]["fields"]
    assert not StageChange.objects.exists()


def test_a_viewer_cannot_move_a_stage(viewer_api: ApiClient):
    account = AccountFactory.create(stage="value")

    response = viewer_api.post(
        f"/api/v1/accounts/{account.pk}/stage", {"stage": "renewal", "reason": "x"}
    )

    assert response.status_code == 403


def test_an_accounts_stage_history_lists_rule_moves_with_their_values(api: ApiClient, no_rules):
    StageRuleFactory.create(name="Renewal coming up")
    account = AccountFactory.create(
        stage="adoption", next_renewal_date=timezone.localdate() + datetime.timedelta(days=12)
    )
    from kizuna.lifecycle import services

    services.apply_stage_rules()

    body = api.get(f"/api/v1/accounts/{account.pk}/stage-history").json()
    assert body["count"] == 1
    change = body["results"][0]
    assert (change["source"], change["rule_name"]) == ("rule", "Renewal coming up")
    assert change["evaluation"][0]["value"] == 12


def test_an_accounts_tier_history_gives_the_reason(api: ApiClient):
    account = AccountFactory.create()
    SubscriptionFactory.create(account=account, arr=Decimal(2_400_000))
    customer_services.refresh_rollups([account.pk])

    body = api.get(f"/api/v1/accounts/{account.pk}/tier-history").json()

    assert [(row["from_tier"], row["to_tier"], row["arr"]) for row in body["results"]] == [
        ("tech", "low", "2400000.00")
    ]
    assert body["results"][0]["reason"].startswith("ARR ¥2,400,000 ≥ ¥1,200,000")


def test_history_of_an_unknown_account_is_404(api: ApiClient):
    assert api.get("/api/v1/accounts/999999/stage-history").status_code == 404


def test_the_board_gives_the_figures_per_stage(api: ApiClient):
    AccountFactory.create(stage="adoption", arr=Decimal(1_000_000))
    AccountFactory.create(stage="adoption", arr=Decimal(3_000_000))

    body = api.get("/api/v1/lifecycle/board").json()

    stages = {row["stage"]: row for row in body["stages"]}
    assert (body["accounts"], stages["adoption"]["accounts"], stages["adoption"]["arr"]) == (
        2,
        2,
        "4000000.00",
    )
    assert stages["adoption"]["median_days"] == 0
