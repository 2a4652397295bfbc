"""An invalid scorecard definition is refused with a message that says where, and nothing
is saved."""

from __future__ import annotations

import copy

import pytest

from kizuna.health import services
from kizuna.health.definition import DefinitionError
from kizuna.health.models import Scorecard, ScorecardVersion
from kizuna.health.tests.factories import (
    ARR_LINEAR,
    current,
    definition,
    group,
    measure,
    scorecard,
)

pytestmark = pytest.mark.django_db


def _valid() -> dict:
    return definition(
        group(
            "usage",
            measure(
                "login_rate",
                "usage.login_rate",
                {"kind": "linear", "from": 10, "to": 60},
                weight=60,
                params={"days": 30},
            ),
            measure("arr", "subscription.arr", ARR_LINEAR, weight=40),
            weight=70,
        ),
        group(
            "relationship",
            measure(
                "rating",
                "touchpoint.last_rating",
                {"kind": "choices", "points": {"very_good": 100, "poor": 0}},
            ),
            weight=30,
        ),
    )


def _refused(raw: dict) -> DefinitionError:
    with pytest.raises(DefinitionError) as refused:
        services.create_scorecard(None, name="Broken", definition=raw)
    assert not Scorecard.objects.exists()
    assert not ScorecardVersion.objects.exists()
    return refused.value


def test_a_valid_definition_is_saved() -> None:
    card = services.create_scorecard(None, name="Fine", definition=_valid())

    assert current(card).number == 1


def test_group_weights_not_adding_up_are_refused() -> None:
    raw = _valid()
    raw["groups"][1]["weight"] = 20

    error = _refused(raw)

    assert error.path == "groups"
    assert "add up to 90" in error.message


def test_measure_weights_not_adding_up_name_the_group() -> None:
    raw = _valid()
    raw["groups"][0]["measures"][1]["weight"] = 30

    error = _refused(raw)

    assert error.path == "groups[0].measures"
    assert "“Usage”" in error.message and "add up to 90" in error.message


def test_unknown_metric_is_refused_with_its_path() -> None:
    raw = _valid()
    raw["groups"][1]["measures"][0]["metric"]["metric"] = "survey.nps"

    error = _refused(raw)

    assert error.path == "groups[1].measures[0].metric.metric"
    assert "survey.nps" in error.message


def test_mapping_that_does_not_fit_the_metric_is_refused() -> None:
    raw = _valid()
    raw["groups"][1]["measures"][0]["mapping"] = {"kind": "linear", "from": 0, "to": 100}

    error = _refused(raw)

    assert error.path == "groups[1].measures[0].mapping.kind"
    assert "choices" in error.message


def test_bad_params_are_refused_with_their_path() -> None:
    raw = _valid()
    raw["groups"][0]["measures"][0]["metric"]["params"] = {"days": 0}

    error = _refused(raw)

    assert error.path == "groups[0].measures[0].metric.params.days"


def test_unknown_choice_is_refused() -> None:
    raw = _valid()
    raw["groups"][1]["measures"][0]["mapping"]["points"]["excellent"] = 100

    assert _refused(raw).path == "groups[1].measures[0].mapping.points.excellent"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (
            lambda raw: raw["groups"][0]["measures"][0]["mapping"].update({"kind": "curve"}),
            "groups[0].measures[0].mapping.kind",
        ),
        (
            lambda raw: raw["groups"][0]["measures"][0]["mapping"].update({"to": 10}),
            "groups[0].measures[0].mapping",
        ),
        (
            lambda raw: raw["groups"][0]["measures"][1].update({"key": "login_rate"}),
            "groups[0].measures[1].key",
        ),
        (lambda raw: raw["groups"][0].update({"key": "Usage!"}), "groups[0].key"),
        (lambda raw: raw["bands"].update({"red_below": 80}), "bands"),
        (lambda raw: raw["groups"][0]["measures"][0].pop("weight"), "groups[0].measures[0].weight"),
        (
            lambda raw: raw["groups"][0]["measures"][0]["metric"].update({"metric": "health.band"}),
            "groups[0].measures[0].metric.metric",
        ),
    ],
)
def test_other_mistakes_say_where(change, path: str) -> None:
    raw = copy.deepcopy(_valid())
    change(raw)

    assert _refused(raw).path == path


def test_an_invalid_new_version_leaves_the_scorecard_as_it_was() -> None:
    card = scorecard()
    raw = _valid()
    raw["groups"][1]["weight"] = 20

    with pytest.raises(DefinitionError):
        services.update_scorecard(None, card, definition=raw, name="Renamed")

    card.refresh_from_db()
    assert card.name == "Standard"
    assert card.versions.count() == 1


def test_a_weight_that_is_not_a_number_says_so() -> None:
    raw = _valid()
    raw["groups"][0]["measures"][0]["weight"] = "seventy"

    error = _refused(raw)

    assert (error.path, error.message) == ("groups[0].measures[0].weight", "Enter a number.")
