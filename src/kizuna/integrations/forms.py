"""Forms of the import pages: the upload, the column mapping of a file, a saved mapping."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kizuna.integrations.mapping import ColumnMap
from kizuna.integrations.models import ColumnMapping, ImportJob, ObjectType
from kizuna.integrations.services import MAX_UPLOAD_BYTES
from kizuna.integrations.targets import Target

IGNORE = ("", _("— do not import —"))


def _target_choices(targets: Sequence[Target]) -> list[tuple[str, Any]]:
    return [IGNORE, *((target.name, target.label) for target in targets)]


class UploadForm(forms.Form):
    object_type = forms.ChoiceField(label=_("What the file holds"), choices=ObjectType.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8, UTF-8 with BOM or Shift_JIS; comma or tab separated) or Excel .xlsx "
            "(the first sheet). The first row holds the column names."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,.xlsx,.xlsm"}),
    )
    saved_mapping = forms.ModelChoiceField(
        label=_("Saved mapping"),
        queryset=ColumnMapping.objects.all(),
        required=False,
        empty_label=_("Suggest from the column names"),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than %(size)d MB; split it into smaller files.")
                % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        saved: ColumnMapping | None = cleaned.get("saved_mapping")
        if saved is not None and saved.object_type != cleaned.get("object_type"):
            self.add_error(
                "saved_mapping",
                _("This mapping is for %(object)s.") % {"object": saved.get_object_type_display()},
            )
        return cleaned


class MappingForm(forms.Form):
    """One choice of target per column of the file, plus an optional name to save it as."""

    save_as = forms.CharField(
        label=_("Save this mapping as"),
        max_length=100,
        required=False,
        help_text=_("Give it a name to reuse it for the next file with these columns."),
    )

    def __init__(
        self, *args: Any, job: ImportJob, targets: Sequence[Target], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.job = job
        self.columns: list[tuple[str, str, list[str]]] = []
        samples = list(zip(*job.preview, strict=False)) if job.preview else []
        for index, header in enumerate(job.headers):
            if not header:
                continue
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header,
                choices=_target_choices(targets),
                required=False,
                initial=job.mapping.get(header, ""),
            )
            values = [value for value in (samples[index] if index < len(samples) else ()) if value]
            self.columns.append((name, header, values[:3]))

    def rows(self) -> list[tuple[forms.BoundField, str, list[str]]]:
        """(the field, the column name, up to three sample values) for the template."""
        return [(self[name], header, values) for name, header, values in self.columns]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen = {header: cleaned.get(name) or "" for name, header, _values in self.columns}
        try:
            cleaned["column_map"] = ColumnMap.parse(chosen, self.job.object_type)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        return cleaned


class ColumnMappingForm(forms.ModelForm[ColumnMapping]):
    """A saved mapping: its name and one row per column (with empty rows to add more)."""

    EXTRA_ROWS = 3

    class Meta:
        model = ColumnMapping
        fields = ["name"]

    def __init__(self, *args: Any, targets: Sequence[Target], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pairs = list((self.instance.columns or {}).items())
        count = len(pairs) + self.EXTRA_ROWS
        if self.is_bound:
            count = max(count, int(self.data.get("rows", count) or count))
        self.row_count = count
        for index in range(count):
            column, target = pairs[index] if index < len(pairs) else ("", "")
            self.fields[f"column_{index}"] = forms.CharField(
                label=_("Column name"), max_length=255, required=False, initial=column
            )
            self.fields[f"target_{index}"] = forms.ChoiceField(
                label=_("Field"), choices=_target_choices(targets), required=False, initial=target
            )

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"column_{i}"], self[f"target_{i}"]) for i in range(self.row_count)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen: dict[str, str] = {}
        for index in range(self.row_count):
            column = (cleaned.get(f"column_{index}") or "").strip()
            target = cleaned.get(f"target_{index}") or ""
            if column and target:
                chosen[column] = target
            elif target and not column:
                self.add_error(f"column_{index}", _("Enter the column name."))
        try:
            self.instance.columns = ColumnMap.parse(chosen, self.instance.object_type).as_json()
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        return cleaned
