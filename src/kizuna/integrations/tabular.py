"""Reading uploaded files: CSV in the encodings Japanese files really use, and Excel .xlsx.

`inspect` reads a whole file once when it is uploaded and either describes it (format,
encoding, delimiter, header row, a preview, the number of rows) or raises `FileProblem` with a
message a person can act on. `read_rows` then yields its data rows for a dry run or an apply.

CSV: a byte-order mark decides (UTF-8 or UTF-16); otherwise the file must be valid UTF-8 or
else valid Shift_JIS (read as CP932, Windows' superset with ①, ㈱ and 髙). The delimiter is a
comma, a tab or a semicolon, whichever the header row uses most. Quoted values may hold
delimiters and line breaks; a quote that is never closed is an error, not a silently merged
row.

Excel: the first worksheet is read with openpyxl's workbook reader for shared strings,
styles and the date system, and with a streaming parser of its own for the cells — about
three times faster than iterating openpyxl's read-only cells, which matters at 100,000 rows.
Formulas count with the result Excel saved; a formula without a saved result, a merged range
and a sheet that is not a table are refused with the cells named.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, NamedTuple
from xml.etree.ElementTree import ParseError, fromstring, iterparse

from django.utils.translation import gettext as _
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.datetime import from_excel, from_ISO8601

from kizuna.integrations.cells import EXCEL_ERRORS, CellError, is_blank, text

MAX_ROWS = 500_000
PREVIEW_ROWS = 5
CSV_DELIMITERS = (",", "\t", ";")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Bytes that Python's CP932 codec accepts but that no Shift_JIS text contains.
_NOT_SHIFT_JIS = re.compile("[\x80\uf8f0-\uf8f3]")


class FileProblem(Exception):
    """The file as a whole cannot be imported; `message` says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Layout:
    """What is needed to read a file's rows again after `inspect`."""

    file_format: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ""


@dataclass(frozen=True)
class Inspection:
    layout: Layout
    headers: list[str]
    preview: list[list[str]]
    rows_total: int
    sheet_name: str = ""
    # The data rows as read, packed (see pack_rows) so later steps need not parse again.
    packed_rows: bytes = b""


class SourceRow(NamedTuple):
    """One data row: `number` as a spreadsheet shows it (the header is row 1), `values`
    aligned with the header, `overflow` the count of filled cells beyond the header's last
    column (a CSV row with too many values)."""

    number: int
    values: tuple[Any, ...]
    overflow: int = 0


def _blank(values: Sequence[Any]) -> bool:
    for value in values:
        if value is not None and (value.__class__ is not str or value.strip()):
            return False
    return True


def detect_format(content: bytes) -> str:
    if content.startswith(b"PK\x03\x04"):
        return "xlsx"
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(
            _(
                "This is an old Excel file (.xls) or a password-protected workbook. "
                "Open it in Excel and save it as an Excel workbook (.xlsx) without a "
                "password, or as CSV."
            )
        )
    return "csv"


def inspect(content: bytes) -> Inspection:
    """Read the whole file once: its layout, header row, first rows and number of rows."""
    if not content.strip():
        raise FileProblem(_("The file is empty."))
    file_format = detect_format(content)
    if file_format == "xlsx":
        workbook = _Workbook(content)
        rows = workbook.rows()
        layout = Layout("xlsx")
        sheet_name = workbook.sheet_name
    else:
        decoded, encoding = decode(content)
        layout = Layout("csv", encoding, sniff_delimiter(decoded))
        rows = _csv_rows(decoded, layout.delimiter)
        sheet_name = ""
    header_row = _header_row(rows)
    if header_row is None:
        raise FileProblem(_("The file has no rows: its first row must hold the column names."))
    headers = clean_headers(header_row)
    data_rows = list(_data_rows(rows, len(headers)))
    if not data_rows:
        raise FileProblem(_("The file has a header row but no data rows."))
    preview = [[text(value) for value in row.values] for row in data_rows[:PREVIEW_ROWS]]
    return Inspection(layout, headers, preview, len(data_rows), sheet_name, pack_rows(data_rows))


# --- Rows as read, packed ---------------------------------------------------------------
#
# A file is parsed once, when it is uploaded; the dry run and the apply read its rows from
# this compact form (compressed JSON, values tagged where JSON has no type for them), which
# takes a fraction of the time of parsing a large workbook again.


def pack_rows(rows: Sequence[SourceRow]) -> bytes:
    encoded = json.dumps(
        [[row.number, row.values, row.overflow] for row in rows],
        default=_pack_value,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return zlib.compress(encoded.encode("utf-8"), 1)


def unpack_rows(packed: bytes) -> Iterator[SourceRow]:
    for number, values, overflow in json.loads(zlib.decompress(packed), object_hook=_unpack_value):
        yield SourceRow(number, tuple(values), overflow)


def _pack_value(value: Any) -> dict[str, Any]:
    if isinstance(value, datetime.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"date": value.isoformat()}
    if isinstance(value, datetime.time):
        return {"time": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"seconds": value.total_seconds()}
    if isinstance(value, CellError):
        return {"error": value.code}
    raise TypeError(f"cannot pack a cell of type {type(value).__name__}")


def _unpack_value(tagged: dict[str, Any]) -> Any:
    ((kind, value),) = tagged.items()
    if kind == "datetime":
        return datetime.datetime.fromisoformat(value)
    if kind == "date":
        return datetime.date.fromisoformat(value)
    if kind == "time":
        return datetime.time.fromisoformat(value)
    if kind == "seconds":
        return datetime.timedelta(seconds=value)
    return CellError(value)


def read_rows(content: bytes, layout: Layout) -> Iterator[SourceRow]:
    """The data rows (blank rows skipped), for a file `inspect` accepted."""
    if layout.file_format == "xlsx":
        rows = _Workbook(content).rows()
    else:
        decoded, _encoding = decode(content, layout.encoding)
        rows = _csv_rows(decoded, layout.delimiter)
    header_row = _header_row(rows)
    if header_row is None:
        return
    yield from _data_rows(rows, len(clean_headers(header_row)))


def _header_row(rows: Iterator[tuple[int, list[Any]]]) -> list[Any] | None:
    """The first row that is not blank: it holds the column names."""
    for _number, values in rows:
        if not _blank(values):
            return values
    return None


def _data_rows(rows: Iterator[tuple[int, list[Any]]], width: int) -> Iterator[SourceRow]:
    count = 0
    for number, values in rows:
        overflow = 0
        if len(values) > width:
            overflow = sum(1 for value in values[width:] if not is_blank(value))
            values = values[:width]
        elif len(values) < width:
            values = values + [None] * (width - len(values))
        if not overflow and _blank(values):
            continue
        row = SourceRow(number, tuple(values), overflow)
        count += 1
        if count > MAX_ROWS:
            raise FileProblem(
                _("The file has more than %(limit)s rows; split it into smaller files.")
                % {"limit": f"{MAX_ROWS:,}"}
            )
        yield row


def clean_headers(values: list[Any]) -> list[str]:
    """Header names as text, one line each; two columns with the same name are refused
    because a mapping names columns by their header."""
    headers = [" ".join(text(value).split()) for value in values]
    while headers and not headers[-1]:
        headers.pop()
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        if header in seen:
            raise FileProblem(
                _(
                    "Columns %(first)s and %(second)s are both called “%(name)s”. "
                    "Give each column its own name in the first row."
                )
                % {
                    "first": column_letter(seen[header]),
                    "second": column_letter(index),
                    "name": header,
                }
            )
        seen[header] = index
    return headers


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how spreadsheets name columns."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


# --- CSV --------------------------------------------------------------------------------


def decode(content: bytes, encoding: str = "") -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read with.

    With `encoding` given (a second read of an inspected file) that encoding is used.
    """
    if encoding:
        body = content[len(codecs.BOM_UTF8) :] if encoding == "utf-8-sig" else content
        codec = "utf-8" if encoding == "utf-8-sig" else encoding
        return body.decode(codec), encoding
    if content.startswith(codecs.BOM_UTF8):
        try:
            return content[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise FileProblem(_undecodable(content, exc.start + len(codecs.BOM_UTF8))) from None
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _check_text(content.decode("utf-16")), "utf-16"
        except UnicodeDecodeError as exc:
            raise FileProblem(_undecodable(content, exc.start)) from None
    if b"\x00" in content:
        raise _binary()
    try:
        return _check_text(content.decode("utf-8")), "utf-8"
    except UnicodeDecodeError as exc:
        first_error = exc.start
    try:
        decoded = content.decode("cp932")
    except UnicodeDecodeError:
        raise FileProblem(_undecodable(content, first_error)) from None
    if _NOT_SHIFT_JIS.search(decoded):
        raise FileProblem(_undecodable(content, first_error))
    return _check_text(decoded), "cp932"


def _check_text(decoded: str) -> str:
    decoded = decoded.removesuffix("\x1a")  # the end-of-file mark of old DOS tools
    match = _CONTROL.search(decoded)
    if match:
        raise _binary(decoded.count("\n", 0, match.start()) + 1)
    return decoded


def _binary(line: int | None = None) -> FileProblem:
    if line is None:
        return FileProblem(
            _("This is not a text file: it holds binary data. Upload a CSV or .xlsx file.")
        )
    return FileProblem(
        _(
            "This is not a text file: line %(line)d holds binary data (control characters). "
            "Upload a CSV or .xlsx file."
        )
        % {"line": line}
    )


def _undecodable(content: bytes, position: int) -> str:
    line = content.count(b"\n", 0, position) + 1
    return _(
        "The file's encoding is not supported: line %(line)d cannot be read as UTF-8 or as "
        "Shift_JIS. In Excel choose “Save as” → “CSV UTF-8 (comma delimited)”, or save the "
        "file as .xlsx."
    ) % {"line": line}


def sniff_delimiter(decoded: str) -> str:
    first_line = decoded.split("\n", 1)[0]
    counts = {delimiter: first_line.count(delimiter) for delimiter in CSV_DELIMITERS}
    best = max(CSV_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _csv_rows(decoded: str, delimiter: str) -> Iterator[tuple[int, list[Any]]]:
    reader = csv.reader(io.StringIO(decoded, newline=""), delimiter=delimiter, strict=True)
    number = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileProblem(_malformed(str(exc), reader.line_num, number + 1)) from None
        number += 1
        yield number, list(values)


def _malformed(reason: str, line: int, row: int) -> str:
    if "unexpected end of data" in reason:
        detail = _(
            'a quoted value starts there but its closing quote (") is missing, so the rest '
            "of the file would be read as one value"
        )
    elif "expected after" in reason:
        detail = _(
            'a closing quote (") is followed by other characters; a quote inside a value '
            'must be written twice ("")'
        )
    else:
        detail = reason
    return _("The CSV file is malformed at row %(row)d (line %(line)d): %(detail)s.") % {
        "row": row,
        "line": line,
        "detail": detail,
    }


# --- Excel ------------------------------------------------------------------------------

MAX_SHEET_BYTES = 2_000_000_000


def _column_index(reference: str) -> int:
    index = 0
    for char in reference:
        if char.isdigit():
            break
        index = index * 26 + ord(char) - 64
    return index - 1


_LETTERS = [column_letter(index) for index in range(702)]  # A … ZZ


def _is_column(reference: str, column: int) -> bool:
    """Whether a cell reference such as "C12" is in the given column (the usual case of
    consecutive cells, checked without parsing the letters)."""
    if column >= len(_LETTERS):
        return False
    letters = _LETTERS[column]
    return (
        reference.startswith(letters)
        and len(reference) > len(letters)
        and reference[len(letters)].isdigit()
    )


def _number(raw: str) -> int | float:
    if "." in raw or "E" in raw or "e" in raw:
        return float(raw)
    return int(raw)


class _Workbook:
    """The first worksheet of an .xlsx file, read row by row."""

    def __init__(self, content: bytes) -> None:
        try:
            reader = ExcelReader(io.BytesIO(content), read_only=True, data_only=True)
            reader.read_manifest()
            reader.read_strings()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            sheets = [
                (sheet, rel)
                for sheet, rel in reader.parser.find_sheets()
                if "worksheet" in rel.Type and rel.target in reader.valid_files
            ]
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, ParseError):
            raise FileProblem(
                _("This file cannot be read as an Excel workbook (.xlsx): it may be damaged.")
            ) from None
        if not sheets:
            raise FileProblem(_("The workbook has no worksheet."))
        sheet, rel = sheets[0]
        self.sheet_name: str = sheet.name
        self._archive: zipfile.ZipFile = reader.archive
        self._path: str = rel.target
        if self._archive.getinfo(self._path).file_size > MAX_SHEET_BYTES:
            raise FileProblem(_("The worksheet is too large to import; split the file."))
        self._strings: list[str] = [str(item) for item in reader.shared_strings]
        self._date_styles: set[int] = set(reader.wb._date_formats)
        self._duration_styles: set[int] = set(reader.wb._timedelta_formats)
        self._epoch = reader.wb.epoch

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """Every row of the sheet in order (with its number), then the checks that need the
        whole sheet: merged ranges and formulas without a saved result."""
        merged: list[str] = []
        unsaved: list[str] = []
        number = 0
        try:
            with self._archive.open(self._path) as source:
                for element in _row_elements(source, merged):
                    reference = element.get("r")
                    number = int(reference) if reference else number + 1
                    yield number, self._cells(element, number, unsaved)
        except ParseError:
            raise FileProblem(
                _("The worksheet “%(sheet)s” cannot be read: the file may be damaged.")
                % {"sheet": self.sheet_name}
            ) from None
        if merged:
            raise FileProblem(
                _(
                    "The worksheet “%(sheet)s” has merged cells (%(ranges)s). Unmerge them "
                    "so that every row has its own value in every column, then upload again."
                )
                % {"sheet": self.sheet_name, "ranges": _first(merged)}
            )
        if unsaved:
            raise FileProblem(
                _(
                    "Cells %(cells)s hold formulas whose result was never saved in the file "
                    "(it was written by a program that does not calculate). Open it in Excel "
                    "and save it again, or replace the formulas by their values."
                )
                % {"cells": _first(unsaved)}
            )

    def _cells(self, row: Any, number: int, unsaved: list[str]) -> list[Any]:
        # The namespace of this row's elements (the main one; strict Open XML uses another).
        namespace = row.tag[:-3]
        tags = _Tags(
            namespace + "c", namespace + "v", namespace + "f", namespace + "is", namespace + "t"
        )
        values: list[Any] = []
        for cell in row.iterfind(tags.cell):
            reference = cell.get("r")
            column = len(values)
            if reference and not _is_column(reference, column):
                column = _column_index(reference)
            while len(values) < column:
                values.append(None)
            value = self._value(cell, tags)
            if value is _UNSAVED:
                unsaved.append(reference or f"{column_letter(column)}{number}")
                value = None
            if len(values) == column:
                values.append(value)
            else:
                values[column] = value
        return values

    def _value(self, cell: Any, tags: _Tags) -> Any:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(tags.inline)
            if inline is None:
                return None
            # The usual inline string is one <t>; runs and phonetic guides take the long way.
            if len(inline) == 1 and inline[0].tag == tags.text:
                return inline[0].text or ""
            return _rich_text(inline)
        value = cell.find(tags.value)
        raw: str | None = value.text if value is not None else None
        if raw is None:
            if cell.find(tags.formula) is None:
                return None
            # A formula with an empty result element: Excel's empty text result (t="str"),
            # or no result at all (openpyxl writes <v/>).
            return "" if kind == "str" and value is not None else _UNSAVED
        if kind == "s":
            return self._strings[int(raw)]
        if kind == "n":
            try:
                number = _number(raw)
            except ValueError:
                return CellError(raw) if raw in EXCEL_ERRORS else raw
            style = cell.get("s")
            if style is not None and int(style) in self._date_styles:
                try:
                    return from_excel(
                        number, self._epoch, timedelta=int(style) in self._duration_styles
                    )
                except (OverflowError, ValueError):
                    return CellError("#VALUE!")
            return number
        if kind == "b":
            return raw == "1"
        if kind == "e":
            return CellError(raw)
        if kind == "d":
            return from_ISO8601(raw)
        # "str": the text result of a formula.
        return CellError(raw) if raw in EXCEL_ERRORS else raw


@dataclass(frozen=True)
class _Tags:
    cell: str
    value: str
    formula: str
    inline: str
    text: str


_ROOT_TAG = re.compile(rb"<([\w.-]+:)?worksheet\b[^>]*>")
_SHEET_DATA_TAG = re.compile(rb"<([\w.-]+:)?sheetData\b[^>]*?(/?)>")
_MERGE_REF = re.compile(rb"<(?:[\w.-]+:)?mergeCell\b[^>]*?\bref=\"([^\"]+)\"")
READ_CHUNK = 4 * 1024 * 1024


def _row_elements(source: IO[bytes], merged: list[str]) -> Iterator[Any]:
    """The <row> elements of a worksheet, and its merged ranges appended to `merged`.

    The sheet is read in chunks of whole rows, each parsed in one call to ElementTree's C
    parser inside a copy of the worksheet's start tag (for its namespace declarations).
    Walking a parsed chunk costs far less than one Python step per XML event of iterparse.
    A sheet laid out unlike Excel's and openpyxl's output falls back to iterparse.
    """
    head = source.read(READ_CHUNK)
    root = _ROOT_TAG.search(head)
    data = _SHEET_DATA_TAG.search(head, root.end()) if root else None
    if root is None or data is None:
        yield from _iterparse_rows(head, source, merged)
        return
    if data.group(2):  # <sheetData/>: no rows
        _scan_merges(head[data.end() :] + source.read(), merged)
        return
    prefix = root.group(1) or b""
    opening = root.group(0) + data.group(0)
    closing = b"</" + (data.group(1) or b"") + b"sheetData></" + prefix + b"worksheet>"
    row_end = b"</" + (data.group(1) or b"") + b"row>"
    data_end = b"</" + (data.group(1) or b"") + b"sheetData>"
    buffer = head[data.end() :]
    while True:
        finished = buffer.find(data_end)
        if finished >= 0:
            yield from _parse_rows(opening + buffer[:finished] + closing)
            _scan_merges(buffer[finished:] + source.read(), merged)
            return
        cut = buffer.rfind(row_end)
        if cut >= 0:
            cut += len(row_end)
            yield from _parse_rows(opening + buffer[:cut] + closing)
            buffer = buffer[cut:]
        chunk = source.read(READ_CHUNK)
        if not chunk:
            raise ParseError("the worksheet ends inside its rows")
        buffer += chunk


def _parse_rows(document: bytes) -> Iterator[Any]:
    # Expat ≥ 2.4 (bundled with Python 3.12) refuses entity expansion attacks and ElementTree
    # never fetches external entities, which openpyxl relies on too.
    root = fromstring(document)  # noqa: S314
    yield from root[0]


def _scan_merges(tail: bytes, merged: list[str]) -> None:
    merged.extend(match.decode("ascii", "replace") for match in _MERGE_REF.findall(tail))


def _iterparse_rows(head: bytes, source: IO[bytes], merged: list[str]) -> Iterator[Any]:
    stream = io.BufferedReader(_Prepended(head, source))
    for _event, element in iterparse(stream):  # noqa: S314
        tag = element.tag
        if tag.endswith("}row"):
            yield element
            element.clear()
        elif tag.endswith("}mergeCell"):
            merged.append(element.get("ref", ""))


class _Prepended(io.RawIOBase):
    """A stream that first returns `head`, then the rest of `source`."""

    def __init__(self, head: bytes, source: IO[bytes]) -> None:
        self.head = head
        self.source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            count = min(len(buffer), len(self.head))
            buffer[:count] = self.head[:count]
            self.head = self.head[count:]
            return count
        data = self.source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Unsaved:
    pass


_UNSAVED = _Unsaved()


def _rich_text(element: Any) -> str:
    """The text of an inline string: plain or in runs, without phonetic (furigana) runs."""
    parts: list[str] = []
    for child in element:
        tag = child.tag
        if tag.endswith("}t"):
            parts.append(child.text or "")
        elif tag.endswith("}r"):
            parts.extend(run.text or "" for run in child if run.tag.endswith("}t"))
    return "".join(parts)


def _first(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += " " + _("and %(count)d more") % {"count": len(items) - limit}
    return shown
