"""Turning what a spreadsheet cell holds into what a form field accepts.

Files written by people and by other systems spell the same value many ways: ¥1,200,000,
１２００, 2025/4/1, 2025年4月1日, 令和7年4月1日, an Excel date serial, はい / いいえ, ○ / ×,
a choice's Japanese or English label instead of its code. This module only *reads* those
spellings; whether the value is acceptable is decided afterwards by the form, so the rules
stay in one place. A value it cannot read is passed on unchanged for the form to reject with
its usual message.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import translation
from django.utils.translation import gettext as _

# Cells that Excel shows as an error instead of a value.
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
)
EXCEL_EPOCH = datetime.datetime(1899, 12, 30)


@dataclass(frozen=True)
class CellError:
    """An Excel error value (#N/A, #REF!, …) found in a cell."""

    code: str

    def __str__(self) -> str:
        return self.code


class CellProblem(ValueError):
    """A cell whose content cannot be read as the kind of value its field needs."""


def normalize_key(text: str) -> str:
    """The form used to compare header names, choice labels and user names: NFKC, case
    folded, without spaces and the punctuation people vary (・, _, -, /, &, brackets, *)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_\-‐―/・.&＆()\[\]{}*※:：「」『』【】]+", "", text)


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str:
    """A cell as text: numbers without a trailing ".0", dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value).strip()


def _nfkc(value: Any) -> str:
    return unicodedata.normalize("NFKC", text(value)).strip()


_MONEY_NOISE = re.compile(r"[,\s¥$€]|JPY|USD|EUR|円")
_COUNT_UNITS = re.compile(r"(名|人|席|件|社|ID|ライセンス|ユーザー|users?|seats?)$", re.IGNORECASE)


def number(value: Any) -> Any:
    """¥1,200,000 → "1200000"; １２ → "12"; 50名 → "50"; Excel numbers stay numbers."""
    if isinstance(value, bool):
        return text(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float: 1234.56, not
        # 1234.5599999999999.
        return Decimal(repr(value))
    cleaned = _MONEY_NOISE.sub("", _nfkc(value))
    return _COUNT_UNITS.sub("", cleaned)


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_ERA = re.compile(
    r"^(令和|平成|昭和|R|H|S)\s*(\d{1,2}|元)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$",
    re.IGNORECASE,
)
_ERA_START = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988, "昭和": 1925, "s": 1925}
_TIME = re.compile(r"^(\d{1,2})[:時](\d{1,2})(?:[:分](\d{1,2})秒?)?分?$")


def _parse_date(raw: str) -> datetime.date | None:
    if match := _DATE.match(raw):
        year, month, day = (int(part) for part in match.groups())
    elif match := _ERA.match(raw):
        era, year_text, month_text, day_text = match.groups()
        year = _ERA_START[era.lower()] + (1 if year_text == "元" else int(year_text))
        month, day = int(month_text), int(day_text)
    elif len(raw) == 8 and raw.isdigit():
        year, month, day = int(raw[:4]), int(raw[4:6]), int(raw[6:])
    else:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _split_date_time(raw: str) -> tuple[str, str]:
    date_part, _sep, time_part = re.sub(r"\s+|T", " ", raw, count=1).partition(" ")
    return date_part.strip(), time_part.strip()


def _from_serial(value: float) -> datetime.datetime | None:
    # Excel's day numbers: 1 is 1900-01-01 (with its 1900 leap-year quirk, hence the epoch).
    if not 1 <= value < 2958466:
        return None
    return EXCEL_EPOCH + datetime.timedelta(days=value)


def date(value: Any) -> Any:
    """A date from an Excel date, an Excel day number, or text such as 2025/4/1,
    2025-04-01, 2025年4月1日, 20250401 or 令和7年4月1日 (a time after the date is ignored)."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        moment = _from_serial(float(value))
        return moment.date() if moment else value
    raw = _nfkc(value)
    if not raw:
        return ""
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        pass
    date_part, _time_part = _split_date_time(raw)
    return _parse_date(date_part) or _parse_date(raw) or raw


def date_time(value: Any) -> Any:
    """A moment from an Excel date and time or from text such as 2025/4/1 14:30; a date
    alone means midnight. Without an offset it is read in Kizuna's time zone."""
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value)) or value
    raw = _nfkc(value)
    if not raw:
        return ""
    try:
        return datetime.datetime.fromisoformat(raw)
    except ValueError:
        pass
    date_part, time_part = _split_date_time(raw)
    day = _parse_date(date_part)
    if day is None:
        return raw
    if not time_part:
        return datetime.datetime.combine(day, datetime.time())
    match = _TIME.match(time_part)
    if not match:
        return raw
    hour, minute, second = (int(part or 0) for part in match.groups())
    try:
        return datetime.datetime.combine(day, datetime.time(hour, minute, second))
    except ValueError:
        return raw


_TRUE = frozenset(
    {"true", "t", "yes", "y", "on", "1", "はい", "有", "あり", "○", "〇", "◯", "✓", "✔"}
)
_FALSE = frozenset({"false", "f", "no", "n", "off", "0", "いいえ", "無", "なし", "×", "✕", "-"})


def boolean(value: Any) -> bool:
    """Yes or no, as people write it; anything else is a CellProblem (a checkbox would
    otherwise read any text as yes)."""
    if isinstance(value, bool):
        return value
    if is_blank(value):
        return False
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    key = _nfkc(value).casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellProblem(
        _("“%(value)s” is not yes or no: use yes/no, true/false, 1/0 or はい/いいえ.")
        % {"value": text(value)}
    )


_LABEL_PARTS = re.compile(r"\s*[・&/、,]\s*|\s+and\s+")


class ChoiceReader:
    """Reads a choice by its code or by its label in Japanese or English — whole, or by a
    part or beginning that fits only one choice: 医療 for 医療・ヘルスケア, Retail for
    Retail & e-commerce."""

    def __init__(self, field: forms.ChoiceField) -> None:
        self.lookup: dict[str, str] = {}
        self.labels: list[tuple[str, str]] = []
        self.parts: dict[str, set[str]] = {}
        choices = list(cast(Iterable[tuple[Any, Any]], field.choices))
        for language in ("en", "ja"):
            with translation.override(language):
                for code, label in choices:
                    if code in ("", None):
                        continue
                    self.lookup.setdefault(normalize_key(str(label)), str(code))
                    self.labels.append((normalize_key(str(label)), str(code)))
                    for part in _LABEL_PARTS.split(str(label)):
                        self.parts.setdefault(normalize_key(part), set()).add(str(code))
        for code, _label in choices:
            if code not in ("", None):
                self.lookup[normalize_key(str(code))] = str(code)

    def __call__(self, value: Any) -> str:
        raw = text(value)
        if not raw:
            return ""
        # Files repeat the same few spellings; each is looked up once.
        found = self.lookup.get(raw)
        if found is None:
            found = self.lookup[raw] = self._find(normalize_key(raw)) or raw
        return found

    def _find(self, key: str) -> str | None:
        if key in self.lookup:
            return self.lookup[key]
        if len(key) < 2:
            return None
        codes = self.parts.get(key) or {
            code for label, code in self.labels if label.startswith(key)
        }
        return next(iter(codes)) if len(codes) == 1 else None


_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def domain(value: Any) -> str:
    """example.co.jp from https://example.co.jp/about as well as from example.co.jp."""
    raw = _nfkc(value)
    if _URL.match(raw):
        raw = _URL.sub("", raw)
        raw = raw.split("/", 1)[0]
    return raw.rstrip("/")


class CellReader:
    """Reads the cells of one form field. Built once per import, used for every row."""

    def __init__(self, field: forms.Field, *, normalised: bool = False, is_domain: bool = False):
        self.read = self._reader(field, normalised=normalised, is_domain=is_domain)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, CellError):
            raise CellProblem(
                _("The cell holds the Excel error %(code)s instead of a value.")
                % {"code": value.code}
            )
        return self.read(value)

    @staticmethod
    def _reader(field: forms.Field, *, normalised: bool, is_domain: bool) -> Any:
        if isinstance(field, forms.BooleanField):
            return boolean
        if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
            return number
        if isinstance(field, forms.DateTimeField):
            return date_time
        if isinstance(field, forms.DateField):
            return date
        if isinstance(field, forms.ChoiceField):
            return ChoiceReader(field)
        if is_domain:
            return domain
        if normalised or isinstance(field, forms.EmailField):
            return _nfkc
        return text
