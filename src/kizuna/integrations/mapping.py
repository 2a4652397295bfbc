"""Column mappings: which column of a file fills which field, validated, and suggested from
the header names (Japanese or English)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from kizuna.customers.models import CustomFieldDefinition
from kizuna.integrations.cells import normalize_key
from kizuna.integrations.models import ObjectType
from kizuna.integrations.targets import Target, spec_for

MAX_COLUMN_NAME = 255
# Marks people add to header names that say nothing about the field.
_HEADER_NOISE = re.compile(r"(必須|任意|required|optional|半角|全角)")


def _definitions(definitions: Sequence[CustomFieldDefinition] | None) -> list[Any]:
    if definitions is not None:
        return list(definitions)
    return list(CustomFieldDefinition.objects.all())


@dataclass(frozen=True)
class ColumnMap:
    """A validated mapping of column names to target names for one object type.

    The JSON form (`ColumnMapping.columns`, `ImportJob.mapping`, the `--mapping` file of the
    command line) is an object of column name → target name, for example
    ``{"取引先ID": "external_id", "会社名": "name", "担当CSM": "owner"}``. A column mapped to
    "" or left out is ignored. The command line also accepts that object under a "columns"
    key, as the "Download JSON" of a saved mapping writes it.
    """

    object_type: str
    columns: dict[str, str]

    @classmethod
    def parse(
        cls,
        data: Any,
        object_type: str,
        definitions: Sequence[CustomFieldDefinition] | None = None,
    ) -> ColumnMap:
        """Validate `data`; raise ValidationError with every problem found."""
        if isinstance(data, dict) and isinstance(data.get("columns"), dict):
            data = data["columns"]
        if not isinstance(data, dict):
            raise ValidationError(_("A mapping is a JSON object of column name → field name."))
        known = {
            target.name: target
            for target in spec_for(object_type).all_targets(_definitions(definitions))
        }
        errors: list[str] = []
        columns: dict[str, str] = {}
        used: dict[str, str] = {}
        for column, target in data.items():
            if not isinstance(column, str) or not column.strip():
                errors.append(_("A column name cannot be empty."))
                continue
            if len(column) > MAX_COLUMN_NAME:
                errors.append(
                    _("The column name “%(column)s…” is too long.") % {"column": column[:40]}
                )
                continue
            if target in (None, ""):
                continue
            if not isinstance(target, str) or target not in known:
                errors.append(
                    _("Column “%(column)s”: “%(field)s” is not a field of %(object)s.")
                    % {
                        "column": column,
                        "field": target,
                        "object": ObjectType(object_type).label,
                    }
                )
                continue
            if target in used:
                errors.append(
                    _("Columns “%(first)s” and “%(second)s” both fill “%(field)s”.")
                    % {"first": used[target], "second": column, "field": known[target].label}
                )
                continue
            used[target] = column
            columns[column.strip()] = target
        if errors:
            raise ValidationError(errors)
        return cls(object_type, columns)

    def as_json(self) -> dict[str, str]:
        return dict(self.columns)

    def bound(self, headers: Sequence[str]) -> list[tuple[int, str, str]]:
        """(column index, column name, target name) for each mapped column in the file."""
        positions = {header: index for index, header in enumerate(headers) if header}
        return [
            (positions[column], column, target)
            for column, target in self.columns.items()
            if column in positions
        ]

    def missing(self, headers: Sequence[str]) -> list[str]:
        """Mapped column names the file does not have (a saved mapping for another file)."""
        present = set(headers)
        return [column for column in self.columns if column not in present]


def _spellings(target: Target) -> list[list[str]]:
    """The spellings that suggest `target`, strongest first: its own name (as exports
    write it), its labels in Japanese and English, then its other names."""
    labels = []
    for language in ("ja", "en"):
        with translation.override(language):
            labels.append(str(target.label))
    return [[target.name], labels, list(target.aliases)]


def suggest(
    headers: Sequence[str],
    object_type: str,
    definitions: Sequence[CustomFieldDefinition] | None = None,
) -> dict[str, str]:
    """A mapping suggested from the header names, e.g. 会社名 → name, 担当CSM → owner,
    契約開始日 → start_date, and a custom field by its key or either label.

    Each column gets at most one field and each field at most one column. A column named
    exactly like a field wins over one that only matches a label, which wins over one that
    matches another name: in a file with both ``id`` and ``external_id``, ``external_id``
    fills the external ID.
    """
    strength: dict[str, tuple[int, str]] = {}
    for target in spec_for(object_type).all_targets(_definitions(definitions)):
        for level, names in enumerate(_spellings(target)):
            for name in names:
                key = normalize_key(name)
                if key and (key not in strength or strength[key][0] > level):
                    strength[key] = (level, target.name)
    candidates: list[tuple[int, int, str, str]] = []
    for position, header in enumerate(headers):
        if not header:
            continue
        key = normalize_key(header)
        found = strength.get(key) or strength.get(_HEADER_NOISE.sub("", key))
        if found:
            candidates.append((found[0], position, header, found[1]))
    suggested: dict[str, str] = {}
    for _level, _position, header, field_name in sorted(candidates):
        if field_name not in suggested.values():
            suggested[header] = field_name
    return {header: suggested[header] for header in headers if header in suggested}
