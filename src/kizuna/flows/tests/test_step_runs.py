"""Steps run when due: waits, decisions with their time limits, conditions with the values
they saw, exit criteria."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.customers.tests.factories import AccountFactory
from kizuna.flows import engine
from kizuna.flows.engine import Candidate
from kizuna.flows.models import Enrolment, StepRun
from kizuna.flows.tests.factories import cta_step, make_flow
from kizuna.playbooks.models import Cta

pytestmark = pytest.mark.django_db

TRIGGER = {"type": "segment_entered", "segment": 1}
LATER = datetime.timedelta(days=3, minutes=1)


def enter(flow, account, now=None):
    return engine.enrol(flow, [Candidate(account.pk)], now)


def test_a_wait_holds_the_next_step_until_it_is_due():
    account = AccountFactory.create()
    flow = make_flow(
        TRIGGER, [{"id": "pause", "type": "wait", "delay": {"days": 3}, "next": "cta"}, cta_step()]
    )
    enter(flow, account)
    engine.run_due()
    assert not Cta.objects.exists()
    engine.run_due(now=timezone.now() + LATER)
    assert Cta.objects.filter(account=account).count() == 1


def test_business_hours_move_a_wait_to_the_next_opening_in_the_accounts_zone():
    from kizuna.flows.definition import WaitStep

    wait = WaitStep.model_validate(
        {"id": "w", "type": "wait", "business_hours": {"weekdays": [0, 1, 2, 3, 4]}}
    )
    zone = datetime.timezone(datetime.timedelta(hours=9))
    saturday_night = datetime.datetime(2026, 11, 21, 22, 0, tzinfo=zone)
    resumed = engine.resume_at(wait, saturday_night, zone)
    assert resumed == datetime.datetime(2026, 11, 23, 9, 0, tzinfo=zone)


def test_a_decision_takes_no_when_its_time_limit_expires():
    account = AccountFactory.create()
    flow = make_flow(
        TRIGGER,
        [
            {
                "id": "login",
                "type": "decision",
                "wait_for": {"kind": "event", "event": "Logged In"},
                "within": {"days": 3},
                "no": "cta",
            },
            cta_step(reason="No login in 3 days"),
        ],
    )
    enter(flow, account)
    engine.run_due()
    assert not Cta.objects.exists()
    engine.run_due(now=timezone.now() + LATER)
    run = StepRun.objects.get(step_id="login")
    assert run.outcome == "no"
    assert Cta.objects.get().reason == "No login in 3 days"


def test_a_decision_takes_yes_when_what_it_waits_for_happens():
    account = AccountFactory.create()
    flow = make_flow(
        TRIGGER,
        [
            {
                "id": "login",
                "type": "decision",
                "wait_for": {"kind": "event", "event": "Logged In"},
                "within": {"days": 3},
                "yes": "cta",
            },
            cta_step(reason="Came back"),
        ],
    )
    enter(flow, account)
    engine.resolve_waits({account.pk: {"event:Logged In"}}, timezone.now())
    engine.run_due()
    assert StepRun.objects.get(step_id="login").outcome == "yes"
    assert Cta.objects.get().reason == "Came back"


def test_a_condition_branches_and_keeps_the_values_it_saw():
    high = AccountFactory.create(tier="high")
    low = AccountFactory.create(tier="tech")
    flow = make_flow(
        TRIGGER,
        [
            {
                "id": "tier",
                "type": "condition",
                "condition": {"and": [{"metric": "account.tier", "op": "in", "value": ["high"]}]},
                "yes": "cta",
            },
            cta_step(reason="High touch"),
        ],
    )
    engine.enrol(flow, [Candidate(high.pk), Candidate(low.pk)])
    engine.run_due()
    assert list(Cta.objects.values_list("account_id", flat=True)) == [high.pk]
    seen = StepRun.objects.get(step_id="tier", enrolment__account=low).detail["condition"]
    assert seen[0]["value"] == "tech"
    assert seen[0]["matched"] is False


def test_meeting_the_exit_criteria_takes_the_account_out_before_the_next_step():
    account = AccountFactory.create(stage="onboarding")
    flow = make_flow(
        TRIGGER,
        [{"id": "pause", "type": "wait", "delay": {"days": 3}, "next": "cta"}, cta_step()],
        exit={"and": [{"metric": "account.stage", "op": "in", "value": ["churned"]}]},
    )
    enter(flow, account)
    engine.run_due()
    account.stage = "churned"
    account.save()
    engine.run_due(now=timezone.now() + LATER)
    enrolment = Enrolment.objects.get()
    assert enrolment.status == "exited"
    assert not Cta.objects.exists()


def test_the_recompute_step_applies_exit_criteria_to_changed_accounts():
    account = AccountFactory.create(stage="onboarding")
    flow = make_flow(
        TRIGGER,
        [{"id": "pause", "type": "wait", "delay": {"days": 3}, "next": "cta"}, cta_step()],
        exit={"and": [{"metric": "account.stage", "op": "in", "value": ["churned"]}]},
    )
    enter(flow, account)
    account.stage = "churned"
    account.save()
    from kizuna.core.conditions import Context

    assert engine.check_exits([account.pk], Context.now()) == 1
    assert StepRun.objects.get().status == "cancelled"


def test_a_completed_enrolment_records_its_end():
    account = AccountFactory.create()
    flow = make_flow(TRIGGER, [cta_step()])
    enter(flow, account)
    engine.run_due()
    enrolment = Enrolment.objects.get()
    assert enrolment.status == "completed"
    assert enrolment.finished_at is not None


def test_running_enrolments_finish_on_the_version_they_started_with():
    from kizuna.flows import services
    from kizuna.flows.tests.factories import definition

    first, second = AccountFactory.create_batch(2)
    wait = {"id": "pause", "type": "wait", "delay": {"days": 3}, "next": "cta"}
    flow = make_flow(TRIGGER, [wait, cta_step(reason="Version 1")])
    enter(flow, first)
    services.save_version(None, flow, definition(TRIGGER, [wait, cta_step(reason="Version 2")]))
    flow.refresh_from_db()
    enter(flow, second)
    engine.run_due(now=timezone.now() + LATER)
    assert Cta.objects.get(account=first).reason == "Version 1"
    assert Cta.objects.get(account=second).reason == "Version 2"
