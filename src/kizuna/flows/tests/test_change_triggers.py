"""Segment entries and exits, band changes and stage changes enrol accounts as they happen,
in the transaction of the change."""

from __future__ import annotations

import pytest

from kizuna.customers.tests.factories import AccountFactory
from kizuna.flows import engine
from kizuna.flows.engine import Candidate
from kizuna.flows.models import Enrolment
from kizuna.flows.tests.factories import cta_step, make_flow
from kizuna.lifecycle import services as lifecycle
from kizuna.playbooks.models import Cta
from kizuna.segments import services as segments
from kizuna.segments.choices import SegmentKind

pytestmark = pytest.mark.django_db


def test_entering_a_segment_enrols_the_account():
    segment = segments.create_segment(None, name="VIP", kind=SegmentKind.STATIC)
    make_flow({"type": "segment_entered", "segment": segment.pk}, [cta_step(reason="Welcome VIP")])
    account = AccountFactory.create()
    segments.add_members(None, segment, [account.pk])
    engine.run_due()
    assert Cta.objects.get(account=account).reason == "Welcome VIP"


def test_leaving_a_segment_enrols_only_exit_flows():
    segment = segments.create_segment(None, name="VIP", kind=SegmentKind.STATIC)
    make_flow({"type": "segment_entered", "segment": segment.pk}, [cta_step("a")])
    left = make_flow({"type": "segment_exited", "segment": segment.pk}, [cta_step("b")])
    account = AccountFactory.create()
    segments.add_members(None, segment, [account.pk])
    segments.remove_members(None, segment, [account.pk])
    assert Enrolment.objects.filter(flow=left).count() == 1
    assert Enrolment.objects.count() == 2


def test_a_stage_change_fires_flows_for_that_stage_only():
    make_flow({"type": "stage_changed", "to": ["renewal"]}, [cta_step(reason="Renewal")])
    account = AccountFactory.create(stage="value")
    lifecycle.set_stage(None, account, "adoption", "test")
    assert not Enrolment.objects.exists()
    lifecycle.set_stage(None, account, "renewal", "test")
    assert Enrolment.objects.get().trigger == {
        "type": "stage_changed",
        "from": "adoption",
        "to": "renewal",
    }


def test_a_band_change_to_red_fires(monkeypatch):
    from kizuna.core import events
    from kizuna.health.models import HealthScore

    make_flow({"type": "health_band_changed", "to": ["red"]}, [cta_step(reason="Turned red")])
    account = AccountFactory.create()
    score = HealthScore(account=account)
    events.publish(
        events.DomainEvent(
            type="health.changed",
            instance=score,
            object_id=account.pk,
            changes={"band": ["green", "red"], "score": ["80", "30"]},
        )
    )
    assert Enrolment.objects.get().trigger["to"] == "red"


def test_a_segment_entry_answers_a_decision_waiting_for_it():
    segment = segments.create_segment(None, name="Active", kind=SegmentKind.STATIC)
    flow = make_flow(
        {"type": "stage_changed"},
        [
            {
                "id": "active",
                "type": "decision",
                "wait_for": {"kind": "segment_entered", "segment": segment.pk},
                "within": {"days": 7},
                "yes": "cta",
            },
            cta_step(reason="Now active"),
        ],
    )
    account = AccountFactory.create()
    engine.enrol(flow, [Candidate(account.pk)])
    segments.add_members(None, segment, [account.pk])
    engine.run_due()
    assert Cta.objects.get().reason == "Now active"


def test_an_overdue_milestone_fires_and_a_reached_one_answers_a_decision():
    import datetime

    from django.utils import timezone

    from kizuna.core import recompute
    from kizuna.milestones.tests.factories import milestone

    late = milestone("big_team", target_days=3)
    account = AccountFactory.create(
        stage="onboarding",
        employees=10,
        stage_entered_on=timezone.localdate() - datetime.timedelta(days=10),
    )
    make_flow(
        {"type": "milestone_overdue", "milestone": late.pk},
        [
            {
                "id": "reached",
                "type": "decision",
                "wait_for": {"kind": "milestone_reached", "milestone": late.pk},
                "within": {"days": 7},
                "yes": "cta",
            },
            cta_step(reason="Milestone reached after all"),
        ],
    )
    recompute.recompute([account.pk])
    enrolment = Enrolment.objects.get(account=account)
    assert enrolment.trigger == {"type": "milestone_overdue", "milestone": late.pk}
    account.employees = 500
    account.save()
    recompute.recompute([account.pk])
    engine.run_due()
    assert Cta.objects.get(account=account).reason == "Milestone reached after all"
