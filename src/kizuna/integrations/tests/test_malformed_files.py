"""A file that cannot be read as a table is refused as a whole, with a message that says
where and what to do; nothing is stored."""

from __future__ import annotations

import pytest

from kizuna.integrations.tabular import FileProblem, inspect
from kizuna.integrations.tests.files import csv_bytes, errors_of


def test_an_unclosed_quote_is_refused_naming_its_row() -> None:
    content = (
        '取引先ID,会社名\r\nSF-001,株式会社サクラ\r\nSF-002,"ミドリ精機\r\nSF-003,アオゾラ\r\n'
    )
    with pytest.raises(FileProblem, match=r"malformed at row 3 .*closing quote"):
        inspect(content.encode())


def test_a_quote_followed_by_text_is_refused() -> None:
    content = '取引先ID,会社名\r\nSF-001,"株式会社"サクラ\r\n'
    with pytest.raises(FileProblem, match="written twice"):
        inspect(content.encode())


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(FileProblem, match="empty"):
        inspect(b"  \r\n")


def test_a_header_without_rows_is_refused() -> None:
    with pytest.raises(FileProblem, match="no data rows"):
        inspect(csv_bytes([["取引先ID", "会社名"]]))


def test_two_columns_with_the_same_name_are_refused() -> None:
    with pytest.raises(FileProblem, match="Columns B and D are both called “会社名”"):
        inspect(csv_bytes([["取引先ID", "会社名", "業種", "会社名"], ["SF-1", "A", "", "B"]]))


def test_blank_lines_before_the_header_and_between_rows_are_skipped() -> None:
    inspection = inspect(b"\r\n,,\r\nid,name\r\nSF-1,A\r\n,\r\nSF-2,B\r\n")
    assert inspection.headers == ["id", "name"]
    assert inspection.rows_total == 2


@pytest.mark.django_db
def test_a_row_with_more_values_than_columns_is_an_error_row(import_file) -> None:
    content = csv_bytes([["id", "name"], ["SF-1", "株式会社サクラ"], ["SF-2", "ミドリ", "精機"]])
    job = import_file(content)
    assert job.error_count == 1
    assert "1 more value than the header row has columns" in errors_of(job)[0][2]
