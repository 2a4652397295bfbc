"""Testing a flow before it goes live: a dry run for one account, a simulation over history."""

from __future__ import annotations

import pytest

from kizuna.customers.tests.factories import AccountFactory
from kizuna.flows import engine, services
from kizuna.flows.definition import validate
from kizuna.flows.tests.factories import cta_step, definition
from kizuna.playbooks.models import Cta
from kizuna.segments import services as segments
from kizuna.segments.choices import SegmentKind

pytestmark = pytest.mark.django_db

TIER_CHECK = {
    "id": "tier",
    "type": "condition",
    "condition": {"and": [{"metric": "account.tier", "op": "in", "value": ["high"]}]},
    "yes": "cta",
    "no": "wait",
}
WAIT = {"id": "wait", "type": "wait", "delay": {"days": 2}}


def test_a_dry_run_says_what_would_happen_and_does_nothing():
    account = AccountFactory.create(tier="high")
    flow_def = validate(definition({"type": "stage_changed"}, [TIER_CHECK, cta_step(), WAIT]))
    result = services.dry_run(flow_def, account)
    assert [step.step_id for step in result.steps] == ["tier", "cta"]
    assert result.steps[0].branch == "yes"
    assert result.steps[0].detail[0]["value"] == "high"
    assert "Would create" in result.steps[1].text
    assert not Cta.objects.exists()


def test_a_dry_run_follows_the_other_branch_for_another_account():
    account = AccountFactory.create(tier="tech")
    flow_def = validate(definition({"type": "stage_changed"}, [TIER_CHECK, cta_step(), WAIT]))
    steps = services.dry_run(flow_def, account).steps
    assert [step.step_id for step in steps] == ["tier", "wait"]
    assert "Would wait until" in steps[1].text


def test_a_dry_run_marks_steps_whose_capability_is_missing(unavailable_action):
    account = AccountFactory.create()
    mail = {
        "id": "mail",
        "type": "action",
        "action": unavailable_action,
        "params": {"template": "x"},
    }
    steps = services.dry_run(validate(definition({"type": "stage_changed"}, [mail])), account).steps
    assert steps[0].warning


def test_a_simulation_counts_entrants_and_ctas_from_history():
    segment = segments.create_segment(None, name="VIP", kind=SegmentKind.STATIC)
    high = AccountFactory.create_batch(3, tier="high")
    low = AccountFactory.create_batch(2, tier="tech")
    segments.add_members(None, segment, [account.pk for account in high + low])
    flow_def = validate(
        definition(
            {"type": "segment_entered", "segment": segment.pk}, [TIER_CHECK, cta_step(), WAIT]
        )
    )
    result = services.simulate(flow_def, 30)
    assert result.entered == 5
    assert result.reached == {"tier": 5, "cta": 3, "wait": 2}
    assert result.ctas == 3
    assert not Cta.objects.exists()


def test_a_simulation_refuses_a_silly_window():
    flow_def = validate(definition({"type": "stage_changed"}, [cta_step()]))
    with pytest.raises(services.ValidationError):
        services.simulate(flow_def, 0)


def test_going_live_without_steps_is_refused():
    flow = services.create_flow(None, "Empty", definition({"type": "stage_changed"}, []))
    with pytest.raises(services.ValidationError):
        services.set_status(None, flow, "live")
    assert engine.definition_of(flow.versions.get()).steps == []
