"""CSV files in the encodings and layouts Japanese files really use are read correctly."""

from __future__ import annotations

import codecs

import pytest

from kizuna.customers.models import Account
from kizuna.integrations import services
from kizuna.integrations.models import ImportJob
from kizuna.integrations.tabular import FileProblem, inspect
from kizuna.integrations.tests.files import csv_bytes

pytestmark = pytest.mark.django_db

ROWS = [
    ["取引先ID", "会社名", "フリガナ"],
    ["SF-001", "株式会社サクラ物流", "サクラブツリュウ"],
    ["SF-002", "髙橋①工業株式会社", "タカハシコウギョウ"],
]


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        (csv_bytes(ROWS), "utf-8"),
        (codecs.BOM_UTF8 + csv_bytes(ROWS), "utf-8-sig"),
        (csv_bytes(ROWS, encoding="cp932"), "cp932"),
        (codecs.BOM_UTF16_LE + csv_bytes(ROWS, encoding="utf-16-le"), "utf-16"),
    ],
    ids=["utf-8", "utf-8-bom", "shift_jis-cp932", "utf-16-bom"],
)
def test_each_encoding_imports_the_same_names(import_file, content: bytes, encoding: str) -> None:
    job = import_file(content, apply=True)
    assert job.encoding == encoding
    assert job.status == "applied"
    assert sorted(Account.objects.values_list("name", flat=True)) == [
        "株式会社サクラ物流",
        "髙橋①工業株式会社",
    ]


def test_plain_shift_jis_is_read_as_cp932() -> None:
    rows = [["取引先ID", "会社名"], ["SF-001", "株式会社サクラ物流"]]
    assert inspect(csv_bytes(rows, encoding="shift_jis")).preview == [
        ["SF-001", "株式会社サクラ物流"]
    ]


def test_tab_separated_file_is_recognised() -> None:
    inspection = inspect(csv_bytes(ROWS, delimiter="\t"))
    assert inspection.layout.delimiter == "\t"
    assert inspection.headers == ["取引先ID", "会社名", "フリガナ"]


def test_quoted_values_may_hold_commas_and_line_breaks() -> None:
    content = (
        '取引先ID,会社名,メモ\r\nSF-001,"株式会社サクラ, 物流","一行目\r\n二行目"\r\n'.encode()
    )
    inspection = inspect(content)
    assert inspection.rows_total == 1
    assert inspection.preview == [["SF-001", "株式会社サクラ, 物流", "一行目\r\n二行目"]]


def test_a_file_in_another_encoding_is_refused_and_nothing_is_stored(csm) -> None:
    # Latin-1, as old Western tools write it: é is a byte that neither UTF-8 nor Shift_JIS
    # allows there.
    content = "id,name\nSF-001,Société Générale\n".encode("latin-1")
    with pytest.raises(FileProblem, match="encoding is not supported: line 2"):
        services.upload(csm, "accounts", "latin1.csv", content)
    assert not ImportJob.objects.exists()


def test_binary_garbage_is_refused() -> None:
    garbage = bytes(range(256)) * 4
    with pytest.raises(FileProblem, match="not a text file"):
        inspect(garbage)


def test_an_old_xls_workbook_is_refused_with_advice() -> None:
    with pytest.raises(FileProblem, match=r"old Excel file \(\.xls\)"):
        inspect(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
