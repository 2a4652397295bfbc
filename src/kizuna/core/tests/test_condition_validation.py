"""A condition tree is validated as a whole, and an invalid one is refused with where it is
wrong."""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.core import conditions
from kizuna.customers.models import CustomFieldDefinition

pytestmark = pytest.mark.django_db


def error_of(tree: Any) -> conditions.ConditionError:
    with pytest.raises(conditions.ConditionError) as caught:
        conditions.parse(tree)
    return caught.value


def test_a_valid_tree_parses_into_its_leaves():
    tree = {
        "and": [
            {"metric": "usage.logins", "params": {"days": 30}, "op": "gte", "value": 5},
            {"not": {"metric": "account.tier", "op": "in", "value": ["tech"]}},
        ]
    }

    parsed = conditions.parse(tree)

    assert [leaf.path for leaf in parsed.leaves()] == ["and[0]", "and[1].not"]


def test_an_unknown_metric_is_named_with_its_path():
    error = error_of({"or": [{"metric": "usage.logins", "op": "gt", "value": 1}, {"metric": "x"}]})

    assert error.path == "or[1].metric"
    assert "x" in error.message


def test_a_parameter_out_of_range_is_refused():
    error = error_of({"metric": "usage.logins", "params": {"days": 0}, "op": "gt", "value": 1})

    assert error.path == "params.days"


def test_an_unknown_parameter_is_refused():
    error = error_of({"metric": "usage.logins", "params": {"dayz": 3}, "op": "gt", "value": 1})

    assert error.path == "params.dayz"


def test_an_operator_that_does_not_fit_the_type_is_refused():
    error = error_of({"metric": "account.tier", "op": "gte", "value": "high"})

    assert error.path == "op"
    assert "in, not_in" in error.message


def test_a_choice_that_does_not_exist_is_refused():
    error = error_of({"metric": "account.stage", "op": "in", "value": ["onboarding", "later"]})

    assert error.path == "value[1]"


def test_a_number_operator_needs_a_number():
    error = error_of({"metric": "subscription.arr", "op": "gte", "value": "lots"})

    assert error.path == "value"


def test_between_needs_an_ordered_pair():
    error = error_of({"metric": "subscription.arr", "op": "between", "value": [10, 5]})

    assert error.path == "value"


def test_a_custom_field_must_exist():
    error = error_of({"metric": "account.custom_field", "params": {"field": "nope"}, "op": "empty"})

    assert error.path == "params"


def test_a_custom_fields_type_decides_its_operators():
    CustomFieldDefinition.objects.create(
        key="logo", label_ja="ロゴ", label_en="Logo", field_type="boolean"
    )

    error = error_of(
        {"metric": "account.custom_field", "params": {"field": "logo"}, "op": "gte", "value": 1}
    )

    assert error.path == "op"


def test_mixing_a_group_with_a_leaf_is_refused():
    error = error_of({"and": [], "metric": "usage.logins"})

    assert "and" in error.message


def test_depth_is_limited():
    tree: dict[str, Any] = {"metric": "account.tier", "op": "in", "value": ["high"]}
    for _ in range(conditions.tree.MAX_DEPTH + 1):
        tree = {"not": tree}

    assert "nested" in error_of(tree).message


def test_what_a_tree_depends_on_comes_from_its_metrics():
    parsed = conditions.parse(
        {
            "or": [
                {"metric": "usage.logins", "op": "gt", "value": 1},
                {"metric": "touchpoint.last_rating", "op": "in", "value": ["poor"]},
            ]
        }
    )

    assert parsed.depends_on() == {"usage", "touchpoint"}
