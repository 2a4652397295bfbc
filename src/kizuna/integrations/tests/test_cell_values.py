"""Cells are read the many ways people write money, numbers, dates, yes/no and choices."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django import forms

from kizuna.customers.choices import Industry
from kizuna.integrations import cells


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("¥1,200,000", "1200000"),
        ("１，２００，０００円", "1200000"),
        ("1200000.5", "1200000.5"),
        ("50名", "50"),
        (1200000, 1200000),
        (1234.56, Decimal("1234.56")),
    ],
)
def test_numbers(raw, expected) -> None:
    assert cells.number(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "2025-04-01",
        "2025/4/1",
        "2025.04.01",
        "2025年4月1日",
        "２０２５／０４／０１",
        "20250401",
        "令和7年4月1日",
        "R7.4.1",
        "2025/04/01 0:00:00",
        datetime.datetime(2025, 4, 1),
        45748,
    ],
)
def test_dates(raw) -> None:
    assert cells.date(raw) == datetime.date(2025, 4, 1)


def test_an_unreadable_date_is_left_for_the_form_to_refuse() -> None:
    assert cells.date("来月") == "来月"
    assert cells.date("2025/13/40") == "2025/13/40"


def test_date_and_time() -> None:
    assert cells.date_time("2025/4/1 14:30") == datetime.datetime(2025, 4, 1, 14, 30)
    assert cells.date_time("2025年4月1日") == datetime.datetime(2025, 4, 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("はい", True),
        ("○", True),
        ("TRUE", True),
        (1, True),
        ("いいえ", False),
        ("×", False),
        ("no", False),
        ("", False),
    ],
)
def test_yes_and_no(raw, expected) -> None:
    assert cells.boolean(raw) is expected


def test_anything_else_is_not_yes() -> None:
    with pytest.raises(cells.CellProblem, match="“maybe” is not yes or no"):
        cells.boolean("maybe")


def test_choices_by_code_or_label_in_either_language() -> None:
    read = cells.ChoiceReader(forms.ChoiceField(choices=Industry.choices))
    assert read("software") == "software"
    assert read("Software & IT") == "software"
    assert read("ソフトウェア・IT") == "software"
    assert read("宇宙") == "宇宙"


def test_choices_by_a_part_or_beginning_of_a_label_that_fits_one_choice() -> None:
    read = cells.ChoiceReader(forms.ChoiceField(choices=Industry.choices))
    assert read("医療") == "healthcare"
    assert read("保険") == "finance"
    assert read("Retail") == "retail"
    assert read("M") == "M"  # too short to mean anything
    assert read("Media &") == "media"


def test_a_website_address_becomes_a_domain() -> None:
    assert cells.domain("https://www.example.co.jp/about/") == "www.example.co.jp"
    assert cells.domain("ｅｘａｍｐｌｅ．ｊｐ") == "example.jp"


def test_cells_print_as_people_typed_them() -> None:
    assert cells.text(1200.0) == "1200"
    assert cells.text(datetime.datetime(2025, 4, 1)) == "2025-04-01"
    assert cells.text("  株式会社サクラ ") == "株式会社サクラ"
