"""Time fires some flows: a date relative to a field, or a schedule."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.customers.tests.factories import AccountFactory
from kizuna.flows import triggers
from kizuna.flows.definition import ScheduleTrigger
from kizuna.flows.models import Enrolment, SuccessFlow
from kizuna.flows.tests.factories import cta_step, make_flow

pytestmark = pytest.mark.django_db


def test_ninety_days_before_renewal_enrols_once():
    today = timezone.localdate()
    due = AccountFactory.create(next_renewal_date=today + datetime.timedelta(days=90))
    AccountFactory.create(next_renewal_date=today + datetime.timedelta(days=120))
    make_flow({"type": "date", "field": "renewal", "offset_days": -90}, [cta_step()])
    assert triggers.enrol_by_date(today) == 1
    assert Enrolment.objects.get().account == due
    assert triggers.enrol_by_date(today) == 0


def test_a_missed_day_is_caught_up():
    today = timezone.localdate()
    AccountFactory.create(next_renewal_date=today + datetime.timedelta(days=88))
    make_flow({"type": "date", "field": "renewal", "offset_days": -90}, [cta_step()])
    assert triggers.enrol_by_date(today) == 1


def test_days_after_the_stage_began():
    today = timezone.localdate()
    AccountFactory.create(stage_entered_on=today - datetime.timedelta(days=14))
    make_flow({"type": "date", "field": "stage_entered", "offset_days": 14}, [cta_step()])
    assert triggers.enrol_by_date(today) == 1


def test_a_schedule_enrols_its_audience_when_due_and_plans_the_next_run():
    AccountFactory.create_batch(2, tier="high")
    AccountFactory.create(tier="tech")
    flow = make_flow(
        {"type": "schedule", "every": "day", "at": "09:00"},
        [cta_step()],
        audience={"and": [{"metric": "account.tier", "op": "in", "value": ["high"]}]},
        reentry={"mode": "again", "after_days": 1},
    )
    now = timezone.now()
    assert triggers.enrol_on_schedule(now) == 0  # plans the first run
    SuccessFlow.objects.filter(pk=flow.pk).update(next_run_at=now - datetime.timedelta(minutes=1))
    assert triggers.enrol_on_schedule(now) == 2
    next_run = SuccessFlow.objects.get(pk=flow.pk).next_run_at
    assert next_run is not None
    assert next_run > now


def test_a_weekly_schedule_lands_on_its_weekday():
    trigger = ScheduleTrigger.model_validate({"type": "schedule", "every": "week", "weekday": 0})
    moment = timezone.make_aware(datetime.datetime(2026, 11, 22, 10, 0))  # a Sunday
    assert triggers.next_schedule(trigger, moment).weekday() == 0
