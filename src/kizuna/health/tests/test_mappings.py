"""Each mapping kind turns a measure's value into 0–100 points, in SQL, for all accounts."""

from __future__ import annotations

import pytest

from kizuna.core.conditions import Context
from kizuna.customers.models import Account, CustomFieldDefinition
from kizuna.customers.tests.factories import AccountFactory, TouchpointFactory
from kizuna.health.models import ScorecardVersion
from kizuna.health.scoring import score_queryset
from kizuna.health.tests.conftest import account_with_arr
from kizuna.health.tests.factories import definition, group, measure

pytestmark = pytest.mark.django_db


def _points(mapping: dict, metric: str, accounts: list[Account], **params) -> list[float | None]:
    draft = ScorecardVersion(
        definition=definition(group("g", measure("m", metric, mapping, params=params)))
    )
    rows = dict(
        score_queryset(
            draft, Account.objects.filter(pk__in=[a.pk for a in accounts]), Context.now()
        ).values_list("pk", "p_m")
    )
    return [rows[account.pk] for account in accounts]


def test_linear_maps_between_thresholds_and_clamps_outside() -> None:
    accounts = [account_with_arr(arr) for arr in (0, 500_000, 1_000_000, 3_000_000)]

    points = _points(
        {"kind": "linear", "from": 500_000, "to": 1_500_000}, "subscription.arr", accounts
    )

    assert points == [0.0, 0.0, 50.0, 100.0]


def test_linear_from_above_to_means_lower_is_better() -> None:
    accounts = [account_with_arr(arr) for arr in (0, 1_000_000, 2_500_000)]

    points = _points({"kind": "linear", "from": 2_000_000, "to": 0}, "subscription.arr", accounts)

    assert points == [100.0, 50.0, 0.0]


def test_bands_give_the_points_of_the_highest_band_reached() -> None:
    accounts = [account_with_arr(arr) for arr in (0, 1_000_000, 1_999_999, 2_000_000)]
    bands = {
        "kind": "bands",
        "bands": [
            {"min": 500_000, "points": 20},
            {"min": 1_000_000, "points": 60},
            {"min": 2_000_000, "points": 100},
        ],
    }

    # Below every band: the first band's points.
    assert _points(bands, "subscription.arr", accounts) == [20.0, 60.0, 60.0, 100.0]


def test_choices_give_points_per_value_and_no_data_for_others() -> None:
    ratings = ["very_good", "poor", None]
    accounts = []
    for rating in ratings:
        account = AccountFactory.create()
        if rating:
            TouchpointFactory.create(account=account, rating=rating)
        accounts.append(account)
    mapping = {"kind": "choices", "points": {"very_good": 100, "good": 70, "poor": 0}}

    assert _points(mapping, "touchpoint.last_rating", accounts) == [100.0, 0.0, None]


def test_boolean_gives_points_for_yes_and_no() -> None:
    CustomFieldDefinition.objects.create(
        key="logo", label_ja="ロゴ", label_en="Logo", field_type="boolean"
    )
    yes = AccountFactory.create(custom_attributes={"logo": True})
    no = AccountFactory.create(custom_attributes={"logo": False})
    unknown = AccountFactory.create(custom_attributes={})
    mapping = {"kind": "boolean", "true": 100, "false": 30}

    points = _points(mapping, "account.custom_field", [yes, no, unknown], field="logo")

    assert points == [100.0, 30.0, None]


def test_score_and_band_follow_the_bands_of_the_definition() -> None:
    accounts = [account_with_arr(arr) for arr in (600_000, 1_000_000, 1_600_000)]
    draft = ScorecardVersion(
        definition=definition(
            group(
                "g",
                measure("arr", "subscription.arr", {"kind": "linear", "from": 0, "to": 2_000_000}),
            ),
            red_below=40,
            green_from=80,
        )
    )

    rows = list(
        score_queryset(
            draft, Account.objects.filter(pk__in=[a.pk for a in accounts]), Context.now()
        )
        .order_by("arr")
        .values_list("score", "band")
    )

    assert rows == [(30.0, "red"), (50.0, "yellow"), (80.0, "green")]
