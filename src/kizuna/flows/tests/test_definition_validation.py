"""Invalid flows are refused with the step named, and nothing is saved."""

from __future__ import annotations

import pytest

from kizuna.flows import services
from kizuna.flows.definition import DefinitionError, validate
from kizuna.flows.models import SuccessFlow
from kizuna.flows.tests.factories import cta_step, definition

LOGIN = {"type": "event", "event": "$login"}


def test_a_decision_without_a_time_limit_is_refused_at_its_step():
    steps = [
        {"id": "wait-login", "type": "decision", "wait_for": {"kind": "event", "event": "x"}},
    ]
    with pytest.raises(DefinitionError) as error:
        validate(definition(LOGIN, steps))
    assert error.value.step == "wait-login"
    assert "time limit" in error.value.message


@pytest.mark.django_db
def test_an_action_missing_a_parameter_is_refused_at_its_step():
    steps = [{"id": "call", "type": "action", "action": "cta.create", "params": {"type": "risk"}}]
    with pytest.raises(DefinitionError) as error:
        validate(definition(LOGIN, steps))
    assert error.value.step == "call"
    assert "reason" in error.value.message


@pytest.mark.django_db
def test_a_loop_is_refused_with_the_path():
    steps = [
        {**cta_step("a"), "next": "b"},
        {"id": "b", "type": "wait", "delay": {"days": 1}, "next": "a"},
    ]
    with pytest.raises(DefinitionError) as error:
        validate(definition(LOGIN, steps))
    assert error.value.step == "b"
    assert "a → b → a" in error.value.message


@pytest.mark.django_db
def test_a_branch_to_a_missing_step_is_refused():
    with pytest.raises(DefinitionError) as error:
        validate(definition(LOGIN, [cta_step("a", next="nowhere")]))
    assert error.value.step == "a"
    assert "nowhere" in error.value.message


@pytest.mark.django_db
def test_a_step_nothing_leads_to_is_refused():
    with pytest.raises(DefinitionError) as error:
        validate(definition(LOGIN, [cta_step("a"), cta_step("orphan")]))
    assert error.value.step == "orphan"


def test_an_unknown_action_is_refused():
    steps = [{"id": "x", "type": "action", "action": "rocket.launch"}]
    with pytest.raises(DefinitionError) as error:
        validate(definition(LOGIN, steps))
    assert error.value.step == "x"


@pytest.mark.django_db
def test_a_condition_error_names_the_step_and_the_path():
    steps = [{"id": "check", "type": "condition", "condition": {"and": [{"metric": "nope"}]}}]
    with pytest.raises(DefinitionError) as error:
        validate(definition(LOGIN, steps))
    assert error.value.step == "check"
    assert "and[0]" in error.value.message


@pytest.mark.django_db
def test_a_refused_flow_saves_nothing():
    with pytest.raises(DefinitionError):
        services.create_flow(None, "Broken", definition(LOGIN, [cta_step("a", next="b")]))
    assert not SuccessFlow.objects.exists()


@pytest.mark.django_db
def test_a_valid_flow_is_saved_as_version_one():
    flow = services.create_flow(None, "Welcome", definition(LOGIN, [cta_step()]))
    assert flow.version is not None
    assert flow.version.number == 1
    assert flow.trigger_type == "event"
