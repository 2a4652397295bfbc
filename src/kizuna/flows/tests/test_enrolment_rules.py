"""Who may enter: the audience, the re-entry rule, and the hold-out group."""

from __future__ import annotations

import datetime
import random

import pytest
from django.utils import timezone

from kizuna.customers.tests.factories import AccountFactory
from kizuna.flows import engine
from kizuna.flows.engine import Candidate
from kizuna.flows.models import Enrolment, StepRun
from kizuna.flows.tests.factories import cta_step, make_flow

pytestmark = pytest.mark.django_db

TRIGGER = {"type": "segment_entered", "segment": 1}


def test_an_account_enters_a_once_flow_only_once():
    account = AccountFactory.create()
    flow = make_flow(TRIGGER, [cta_step()])
    engine.enrol(flow, [Candidate(account.pk)])
    engine.run_due()
    assert engine.enrol(flow, [Candidate(account.pk)]) == []


def test_an_account_enters_again_after_the_given_days():
    account = AccountFactory.create()
    flow = make_flow(TRIGGER, [cta_step()], reentry={"mode": "again", "after_days": 30})
    engine.enrol(flow, [Candidate(account.pk)], timezone.now() - datetime.timedelta(days=40))
    engine.run_due()
    assert len(engine.enrol(flow, [Candidate(account.pk)])) == 1
    assert engine.enrol(flow, [Candidate(account.pk)]) == []


def test_the_audience_decides_who_enters_and_its_values_are_kept():
    inside = AccountFactory.create(tier="high")
    outside = AccountFactory.create(tier="tech")
    flow = make_flow(
        TRIGGER,
        [cta_step()],
        audience={"and": [{"metric": "account.tier", "op": "in", "value": ["high"]}]},
    )
    engine.enrol(flow, [Candidate(inside.pk), Candidate(outside.pk)])
    enrolment = Enrolment.objects.get()
    assert enrolment.account == inside
    assert enrolment.trigger["audience"][0]["value"] == "high"


def test_held_out_accounts_are_recorded_and_run_nothing(monkeypatch):
    accounts = AccountFactory.create_batch(40)
    flow = make_flow(TRIGGER, [cta_step()], holdout_percent=50)
    random.seed(7)
    engine.enrol(flow, [Candidate(account.pk) for account in accounts])
    held = Enrolment.objects.filter(holdout=True)
    assert 5 < held.count() < 35
    assert held.filter(status="held_out").count() == held.count()
    assert not StepRun.objects.filter(enrolment__holdout=True).exists()
    assert StepRun.objects.count() == 40 - held.count()
