"""Stage rules move the accounts that match, only from their stages, by the first rule in
priority order, once per pass — and record why."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory
from kizuna.lifecycle import services
from kizuna.lifecycle.choices import StageChangeSource
from kizuna.lifecycle.models import StageChange, StageRule
from kizuna.lifecycle.tests.factories import StageRuleFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
RENEWAL_SOON = {"metric": "subscription.days_to_renewal", "op": "lte", "value": 90}


def _account(stage: str, renewal_in: int | None, **fields) -> Account:
    renewal = TODAY() + datetime.timedelta(days=renewal_in) if renewal_in is not None else None
    return AccountFactory.create(
        stage=stage,
        next_renewal_date=renewal,
        stage_entered_on=TODAY() - datetime.timedelta(days=100),
        **fields,
    )


def _stages() -> dict[int, str]:
    return dict(Account.objects.values_list("pk", "stage"))


def test_a_rule_moves_matching_accounts_only_from_its_stages(no_rules):
    StageRuleFactory.create(from_stages=["adoption", "value"], to_stage="renewal")
    adoption = _account("adoption", 60)
    value = _account("value", 30)
    onboarding = _account("onboarding", 60)  # matches, but not in a "from" stage
    far = _account("adoption", 200)  # in a "from" stage, does not match

    services.apply_stage_rules()

    assert _stages() == {
        adoption.pk: "renewal",
        value.pk: "renewal",
        onboarding.pk: "onboarding",
        far.pk: "adoption",
    }


def test_a_move_records_the_rule_and_the_values_it_saw(no_rules):
    rule = StageRuleFactory.create(name="Renewal coming up", description="90 days before")
    account = _account("adoption", 74)

    services.apply_stage_rules()

    change = StageChange.objects.get(account=account)
    assert (change.from_stage, change.to_stage, change.source) == (
        "adoption",
        "renewal",
        StageChangeSource.RULE,
    )
    assert (change.rule, change.rule_name, change.reason) == (
        rule,
        "Renewal coming up",
        "90 days before",
    )
    assert change.evaluation == [
        {
            "path": "",
            "description": "Days to renewal",
            "op": "lte",
            "expected": 90,
            "value": 74,
            "matched": True,
        }
    ]
    assert change.explanation == "✓ Days to renewal: 74 (is at most 90)"


def test_a_move_restarts_the_time_in_stage(no_rules):
    StageRuleFactory.create()
    account = _account("adoption", 10)

    services.apply_stage_rules()

    account.refresh_from_db()
    assert account.stage_entered_on == TODAY()


def test_the_first_rule_by_priority_wins(no_rules):
    StageRuleFactory.create(priority=20, to_stage="renewal")
    StageRuleFactory.create(
        priority=10,
        to_stage="churned",
        conditions={"metric": "subscription.days_to_renewal", "op": "lte", "value": 30},
    )
    soon = _account("adoption", 20)  # both rules match: the lower priority number wins
    later = _account("adoption", 60)  # only the renewal rule matches

    services.apply_stage_rules()

    assert _stages() == {soon.pk: "churned", later.pk: "renewal"}
    assert StageChange.objects.filter(account=soon).count() == 1


def test_an_account_moves_once_per_pass_even_when_a_rule_leads_on(no_rules):
    StageRuleFactory.create(priority=10, from_stages=["adoption"], to_stage="renewal")
    StageRuleFactory.create(priority=20, from_stages=["renewal"], to_stage="value")
    account = _account("adoption", 30)

    services.apply_stage_rules()

    assert _stages()[account.pk] == "renewal"
    assert StageChange.objects.filter(account=account).count() == 1


def test_running_the_rules_again_moves_nothing_more(no_rules):
    StageRuleFactory.create()
    _account("adoption", 30)
    services.apply_stage_rules()

    assert services.apply_stage_rules() == []
    assert StageChange.objects.count() == 1


def test_disabled_rules_do_not_run(no_rules):
    StageRuleFactory.create(enabled=False)
    account = _account("adoption", 30)

    services.apply_stage_rules()

    assert _stages()[account.pk] == "adoption"


def test_only_the_given_accounts_are_moved(no_rules):
    StageRuleFactory.create()
    chosen = _account("adoption", 30)
    other = _account("adoption", 30)

    services.apply_stage_rules([chosen.pk])

    assert _stages() == {chosen.pk: "renewal", other.pk: "adoption"}


def test_each_move_publishes_stage_changed(no_rules, published):
    StageRuleFactory.create()
    account = _account("adoption", 30)

    services.apply_stage_rules()

    moved = [event for event in published if event.type == "stage.changed"]
    assert [(event.instance.account_id, event.changes) for event in moved] == [
        (account.pk, {"stage": ["adoption", "renewal"]})
    ]


def test_a_failing_rule_is_recorded_and_the_others_still_run(no_rules):
    broken = StageRuleFactory.create(priority=10)
    # Saved directly, bypassing validation, as if the metric had since been removed.
    StageRule.objects.filter(pk=broken.pk).update(
        conditions={"metric": "gone.metric", "op": "gt", "value": 1}
    )
    StageRuleFactory.create(priority=20)
    account = _account("adoption", 30)

    services.apply_stage_rules()

    broken.refresh_from_db()
    assert "Unknown metric" in broken.last_error
    assert _stages()[account.pk] == "renewal"
