"""Exports of each object type to CSV and Excel, with exactly the columns an import takes.

The header row names each column by its target (``external_id``, ``account_external_id``,
``owner``, ``custom.contract_plan``…), so an exported file imports again without a mapping:
unchanged rows are recognised as unchanged. Accounts also carry the fields Kizuna computes
(tier, ARR, MRR, next renewal), which an import ignores. Rows are read with one query,
streamed in chunks.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import IO, Any

from django.db import models
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from kizuna.customers.models import CustomFieldDefinition
from kizuna.integrations.models import ObjectType
from kizuna.integrations.targets import ACCOUNT_KEY, CUSTOM, spec_for

CHUNK = 2000


def columns(object_type: str, definitions: Sequence[CustomFieldDefinition]) -> list[str]:
    """The export's header: the import's targets, then the fields Kizuna computes (an
    account's tier, ARR, MRR and next renewal), which an import ignores."""
    spec = spec_for(object_type)
    return [target.name for target in spec.all_targets(definitions)] + list(spec.read_only)


def _lookup(object_type: str, name: str) -> str:
    """The ORM path that reads a column's value."""
    if name == ACCOUNT_KEY:
        return "account__external_id"
    if name in ("owner", "author"):
        return f"{name}__username"
    if name == "external_id" and object_type == ObjectType.TOUCHPOINTS:
        return "import_key__external_id"
    if name.startswith(CUSTOM):
        return "custom_attributes"
    return name


def rows(
    object_type: str,
    definitions: Sequence[CustomFieldDefinition],
    records: models.QuerySet[Any] | None = None,
) -> Iterator[list[Any]]:
    """The header row, then one row of typed values (str, int, Decimal, date, datetime in
    Kizuna's time zone without microseconds, bool) per record: `records` in their order,
    else every record of the type, oldest first."""
    header = columns(object_type, definitions)
    yield header
    lookups = list(dict.fromkeys(_lookup(object_type, name) for name in header))
    position = {lookup: index for index, lookup in enumerate(lookups)}
    if records is None:
        manager: models.Manager[Any] = spec_for(object_type).model._default_manager
        records = manager.order_by("pk")
    for record in records.values_list(*lookups).iterator(chunk_size=CHUNK):
        row: list[Any] = []
        for name in header:
            value = record[position[_lookup(object_type, name)]]
            if name.startswith(CUSTOM):
                value = (value or {}).get(name.removeprefix(CUSTOM))
            if isinstance(value, datetime.datetime):
                # Local time to the second, as people read it; an import compares moments
                # only as precisely as the file gives them.
                value = timezone.localtime(value).replace(tzinfo=None, microsecond=0)
            row.append(value)
        yield row


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(object_type: str, records: models.QuerySet[Any] | None = None) -> Iterator[str]:
    """The export as CSV lines, UTF-8 with a byte-order mark so that Excel reads Japanese."""
    definitions = list(CustomFieldDefinition.objects.all())
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows(object_type, definitions, records):
        yield writer.writerow([_csv_text(value) for value in row])


def write_xlsx(
    object_type: str, target: IO[bytes], records: models.QuerySet[Any] | None = None
) -> None:
    """Write the export as an .xlsx workbook to `target`, row by row (write-only mode)."""
    definitions = list(CustomFieldDefinition.objects.all())
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(ObjectType(object_type).label)[:31])
    for row in rows(object_type, definitions, records):
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    workbook.save(target)


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, str):
        # Text is always written as text: openpyxl would store "=…" as a formula, which
        # Excel would then run (formula injection).
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value
