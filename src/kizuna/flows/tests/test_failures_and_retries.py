"""Failing actions are retried with backoff, a flow that keeps failing is paused with its
reason, a crashed batch runs again exactly once, unavailable actions are skipped openly."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement import seed
from kizuna.engagement.tests.factories import SenderFactory
from kizuna.flows import actions, engine
from kizuna.flows.builtin import CreateCta
from kizuna.flows.engine import Candidate
from kizuna.flows.models import Enrolment, StepRun, SuccessFlow
from kizuna.flows.tests.factories import cta_step, make_flow
from kizuna.playbooks.models import Cta

pytestmark = pytest.mark.django_db

TRIGGER = {"type": "segment_entered", "segment": 1}


@pytest.fixture
def broken(monkeypatch):
    def fail(cls, params, run):
        raise ConnectionError("CRM unreachable")

    monkeypatch.setattr(CreateCta, "execute", classmethod(fail))


def test_a_failing_action_is_retried_later_with_the_error_recorded(broken):
    flow = make_flow(TRIGGER, [cta_step()])
    engine.enrol(flow, [Candidate(AccountFactory.create().pk)])
    engine.run_due()
    run = StepRun.objects.get()
    assert run.status == "scheduled"
    assert run.attempts == 1
    assert "CRM unreachable" in run.error
    assert run.due_at > timezone.now() + datetime.timedelta(seconds=50)


def test_a_run_fails_for_good_after_its_last_attempt(broken):
    flow = make_flow(TRIGGER, [cta_step()])
    engine.enrol(flow, [Candidate(AccountFactory.create().pk)])
    moment = timezone.now()
    for _attempt in range(engine.MAX_ATTEMPTS):
        engine.run_due(now=moment)
        moment += datetime.timedelta(hours=3)
    run = StepRun.objects.get()
    assert run.status == "failed"
    assert Enrolment.objects.get().status == "failed"


def test_a_flow_that_keeps_failing_is_paused_with_the_reason(broken):
    flow = make_flow(TRIGGER, [cta_step()])
    accounts = AccountFactory.create_batch(engine.PAUSE_AFTER_FAILURES)
    engine.enrol(flow, [Candidate(account.pk) for account in accounts])
    engine.run_due()
    flow.refresh_from_db()
    assert flow.status == "paused"
    assert "CRM unreachable" in flow.paused_reason


def test_a_batch_that_dies_midway_is_run_again_once(monkeypatch):
    flow = make_flow(TRIGGER, [cta_step()])
    accounts = AccountFactory.create_batch(4)
    engine.enrol(flow, [Candidate(account.pk) for account in accounts])
    real = engine._record_health

    def crash(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(engine, "_record_health", crash)
    with pytest.raises(SystemExit):
        engine.run_due()
    assert not Cta.objects.exists()
    assert StepRun.objects.filter(status="scheduled").count() == 4
    monkeypatch.setattr(engine, "_record_health", real)
    engine.run_due()
    engine.run_due()
    assert Cta.objects.count() == 4


def test_running_an_action_again_finds_the_cta_it_made():
    flow = make_flow(TRIGGER, [cta_step()])
    engine.enrol(flow, [Candidate(AccountFactory.create().pk)])
    engine.run_due()
    run = StepRun.objects.select_related("enrolment__account", "enrolment__version").get()
    run.status, run.due_at = "scheduled", timezone.now()
    run.save()
    engine.run_due()
    assert Cta.objects.count() == 1


def test_an_unavailable_action_is_skipped_and_says_why(unavailable_action):
    flow = make_flow(
        TRIGGER,
        [
            {
                "id": "mail",
                "type": "action",
                "action": unavailable_action,
                "params": {"template": "welcome"},
                "next": "cta",
            },
            cta_step(reason="Call instead"),
        ],
    )
    assert not actions.available(unavailable_action)
    engine.enrol(flow, [Candidate(AccountFactory.create().pk)])
    engine.run_due()
    mail = StepRun.objects.get(step_id="mail")
    assert mail.outcome == "skipped"
    assert "tech-touch" in mail.text
    assert Cta.objects.get().reason == "Call instead"


def test_a_decision_on_an_email_nobody_could_receive_takes_no_at_once():
    flow = make_flow(
        TRIGGER,
        [
            {
                "id": "mail",
                "type": "action",
                "action": "email.send",
                "params": {"template": "onboarding-programme"},
                "next": "opened",
            },
            {
                "id": "opened",
                "type": "decision",
                "wait_for": {"kind": "email_opened", "step": "mail"},
                "within": {"days": 2},
                "no": "cta",
            },
            cta_step(reason="Call: email not opened"),
        ],
    )
    seed.install()  # the shipped templates (a transactional test may have flushed them)
    SenderFactory.create(is_default=True)
    account = AccountFactory.create()
    ContactFactory.create(account=account, email="")
    engine.enrol(flow, [Candidate(account.pk)])
    engine.run_due()
    assert StepRun.objects.get(step_id="mail").detail["skipped"] == 1
    assert StepRun.objects.get(step_id="opened").outcome == "no"
    assert Cta.objects.get().reason == "Call: email not opened"


def test_a_paused_flows_runs_wait_and_go_on_when_it_is_live_again():
    from kizuna.flows import services

    flow = make_flow(TRIGGER, [cta_step()])
    engine.enrol(flow, [Candidate(AccountFactory.create().pk)])
    services.set_status(None, flow, "paused")
    engine.run_due()
    assert not Cta.objects.exists()
    services.set_status(None, SuccessFlow.objects.get(), "live")
    engine.run_due()
    assert Cta.objects.count() == 1


def test_an_unreachable_webhook_does_not_hold_back_the_next_step():
    from kizuna.api.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        name="CRM", url="http://127.0.0.1:9/hook", secret="s", event_types=[]
    )
    flow = make_flow(
        TRIGGER,
        [
            {
                "id": "hook",
                "type": "action",
                "action": "webhook.call",
                "params": {"endpoint": endpoint.pk},
                "next": "cta",
            },
            cta_step(),
        ],
    )
    with transaction.atomic():
        engine.enrol(flow, [Candidate(AccountFactory.create().pk)])
    engine.run_due()
    assert WebhookDelivery.objects.get().event_type == "flow.webhook"
    assert Cta.objects.count() == 1
