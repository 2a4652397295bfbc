"""Building import files in tests: CSV bytes in any encoding, and .xlsx workbooks made with
openpyxl (optionally patched to hold what only Excel writes, such as saved formula results)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from kizuna.integrations.models import ImportJob


def csv_bytes(
    rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", delimiter: str = ","
) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[Any]], *, merge: str = "", title: str = "Sheet") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    if merge:
        sheet.merge_cells(merge)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_saved_formula_results(
    content: bytes, results: dict[str, str], *, cell_type: str = ""
) -> bytes:
    """The workbook with a saved result after the formula of each given cell, as Excel
    writes it (openpyxl writes formulas without results); `cell_type` sets the cells' t
    attribute (e.g. "e" for an error result)."""
    attribute = f' t="{cell_type}"' if cell_type else ""

    def patch(xml: str) -> str:
        for reference, value in results.items():
            pattern = rf'<c r="{reference}"[^>]*>\s*(<f>[^<]*</f>)(<v>[^<]*</v>|<v\s*/>)?'
            replacement = rf'<c r="{reference}"{attribute}>\1<v>{value}</v>'
            xml = re.sub(pattern, replacement, xml)
        return xml

    return _rewrite_sheet(content, patch)


def _rewrite_sheet(content: bytes, patch: Any) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = patch(data.decode("utf-8")).encode("utf-8")
            target.writestr(item, data)
    return output.getvalue()


def errors_of(job: ImportJob) -> list[tuple[int, str, str]]:
    """(row, column, message) of each row problem of a job, in order."""
    return list(
        job.row_errors.order_by("row_number", "id").values_list("row_number", "column", "message")
    )
