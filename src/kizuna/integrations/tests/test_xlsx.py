"""Excel workbooks: values as Excel stores them, formulas with and without saved results,
merged cells and error values."""

from __future__ import annotations

import datetime

import pytest

from kizuna.customers.models import Account, Subscription
from kizuna.customers.tests.factories import AccountFactory
from kizuna.integrations.cells import CellError
from kizuna.integrations.tabular import FileProblem, SourceRow, inspect, pack_rows, unpack_rows
from kizuna.integrations.tests.files import errors_of, with_saved_formula_results, xlsx_bytes

pytestmark = pytest.mark.django_db


def test_first_sheet_is_read_with_its_name_and_rows() -> None:
    content = xlsx_bytes([["取引先ID", "会社名"], ["SF-1", "株式会社サクラ物流"]], title="取引先")
    inspection = inspect(content)
    assert inspection.layout.file_format == "xlsx"
    assert inspection.sheet_name == "取引先"
    assert inspection.headers == ["取引先ID", "会社名"]
    assert inspection.preview == [["SF-1", "株式会社サクラ物流"]]


def test_excel_dates_and_numbers_are_imported(import_file) -> None:
    AccountFactory.create(external_id="SF-1")
    content = xlsx_bytes(
        [
            ["契約ID", "取引先ID", "製品", "年額", "契約開始日", "契約終了日", "席数"],
            [
                "C-1",
                "SF-1",
                "Kizuna Cloud",
                1_200_000,
                datetime.date(2025, 4, 1),
                "2026/3/31",
                25.0,
            ],
        ]
    )
    job = import_file(content, "subscriptions", name="contracts.xlsx", apply=True)
    assert job.status == "applied", job.error_message
    contract = Subscription.objects.get(external_id="C-1")
    assert contract.start_date == datetime.date(2025, 4, 1)
    assert contract.end_date == datetime.date(2026, 3, 31)
    assert (contract.arr, contract.mrr, contract.seats) == (1_200_000, 100_000, 25)


def test_a_formula_with_a_saved_result_counts_with_that_result(import_file) -> None:
    content = xlsx_bytes([["取引先ID", "会社名", "従業員数"], ["SF-1", "株式会社サクラ", "=100*3"]])
    content = with_saved_formula_results(content, {"C2": "300"})
    job = import_file(content, name="formula.xlsx", apply=True)
    assert job.status == "applied", job.error_message
    assert Account.objects.get(external_id="SF-1").employees == 300


def test_a_formula_without_a_saved_result_is_refused_naming_the_cell() -> None:
    content = xlsx_bytes([["取引先ID", "会社名", "従業員数"], ["SF-1", "株式会社サクラ", "=100*3"]])
    with pytest.raises(FileProblem, match="Cells C2 hold formulas whose result was never saved"):
        inspect(content)


def test_merged_cells_are_refused_naming_the_range() -> None:
    content = xlsx_bytes(
        [["取引先ID", "会社名"], ["SF-1", "株式会社サクラ"], ["SF-2", "ミドリ精機"]], merge="A2:A3"
    )
    with pytest.raises(FileProblem, match=r"merged cells \(A2:A3\)"):
        inspect(content)


def test_an_excel_error_value_is_a_row_error(import_file) -> None:
    content = xlsx_bytes([["取引先ID", "会社名", "従業員数"], ["SF-1", "株式会社サクラ", "=1/0"]])
    content = with_saved_formula_results(content, {"C2": "#DIV/0!"}, cell_type="e")
    job = import_file(content, name="errors.xlsx")
    assert errors_of(job) == [
        (2, "従業員数", "The cell holds the Excel error #DIV/0! instead of a value.")
    ]


def test_a_damaged_workbook_is_refused() -> None:
    content = xlsx_bytes([["id"], ["1"]])[:-200]
    with pytest.raises(FileProblem, match="cannot be read as an Excel workbook"):
        inspect(content)


def test_rows_parsed_at_upload_keep_their_types() -> None:
    rows = [
        SourceRow(2, ("SF-1", 12, 1.5, True, None, datetime.datetime(2025, 4, 1, 9, 30)), 0),
        SourceRow(
            3,
            (datetime.date(2025, 4, 1), datetime.time(9, 30), CellError("#N/A"), "", "x", "{}"),
            1,
        ),
        SourceRow(4, (datetime.timedelta(hours=1), "株式会社", "", -1, 0.0, False), 0),
    ]
    assert list(unpack_rows(pack_rows(rows))) == rows
