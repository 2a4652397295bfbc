"""Forms of the segment pages. They validate; services.py saves."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kizuna.core.conditions.forms import ConditionField
from kizuna.segments import services
from kizuna.segments.choices import SegmentKind
from kizuna.segments.models import Segment

MAX_UPLOAD = 20 * 1024 * 1024


class SegmentForm(forms.ModelForm[Segment]):
    """Name, description, kind (fixed once created), the condition tree of a dynamic
    segment, active."""

    conditions = ConditionField(
        label=_("Conditions"),
        required=False,
        help_text=_("Accounts that meet these conditions are members; recomputed as data changes."),
    )

    class Meta:
        model = Segment
        fields = ["name", "kind", "description", "conditions", "is_active"]
        widgets = {
            "kind": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = _("The kind of a segment cannot change.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind") or self.instance.kind
        if kind == SegmentKind.STATIC:
            cleaned["conditions"] = {}
            return cleaned
        if "conditions" in self.errors:
            return cleaned
        tree = cleaned.get("conditions")
        probe = Segment(pk=self.instance.pk, name=cleaned.get("name") or "", kind=kind)
        try:
            services.check_definition(kind, tree or None, probe)
        except services.InvalidSegment as exc:
            where = _("at %s: ") % exc.path if exc.path else ""
            self.add_error("conditions", ValidationError(f"{where}{exc.message}"))
        return cleaned

    def save_through_services(self, actor: Any) -> Segment:
        """Create or update through services.py (audit, version, recompute)."""
        data = self.cleaned_data
        if self.instance.pk:
            return services.update_segment(
                actor,
                Segment.objects.get(pk=self.instance.pk),
                name=data["name"],
                description=data["description"],
                conditions=data["conditions"],
                is_active=data["is_active"],
            )
        return services.create_segment(
            actor,
            name=data["name"],
            kind=data["kind"],
            conditions=data["conditions"] if data["kind"] == SegmentKind.DYNAMIC else None,
            description=data["description"],
            is_active=data["is_active"],
        )


class ImportForm(forms.Form):
    """Accounts for a static segment: a CSV or Excel file with a column of external ids,
    or ids pasted one per line."""

    file = forms.FileField(
        label=_("CSV or Excel file"),
        required=False,
        help_text=_("A column headed “external_id” (or the first column) of CRM ids."),
    )
    ids = forms.CharField(
        label=_("Or paste CRM ids"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "SF-00001\nSF-00002"}),
    )
    replace = forms.BooleanField(
        label=_("Replace the members: remove those not in the list"), required=False
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        text = cleaned.get("ids") or ""
        if upload is None and not text.strip():
            raise ValidationError(_("Choose a file or paste ids."))
        if upload is not None and text.strip():
            raise ValidationError(_("Choose a file or paste ids, not both."))
        if upload is not None and upload.size > MAX_UPLOAD:
            raise ValidationError(_("The file is larger than 20 MB."))
        return cleaned

    def external_ids(self) -> list[str]:
        """The ids to import; raises services.InvalidSegment when the file is unreadable."""
        upload = self.cleaned_data.get("file")
        if upload is not None:
            return services.read_id_file(upload.read())
        return services.parse_id_list(self.cleaned_data.get("ids") or "")
