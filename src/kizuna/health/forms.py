"""Forms of the health pages: a scorecard's settings (its definition is edited as rows, see
editor.py) and a CSM's override of a measure."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.customers.choices import LifecycleStage
from kizuna.health.definition import Definition


def segment_choices() -> list[tuple[str, str]]:
    """Segments to pick from, when the segments app is installed."""
    if not apps.is_installed("kizuna.segments"):
        return []
    segment = apps.get_model("segments", "Segment")
    return [
        (str(pk), name) for pk, name in segment.objects.order_by("name").values_list("pk", "name")
    ]


class ScorecardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    stage = forms.ChoiceField(
        label=_("Lifecycle stage"),
        required=False,
        choices=[("", _("Default: every stage")), *list(LifecycleStage.choices)],
        help_text=_("The scorecard scores accounts in this stage."),
    )
    segment_id = forms.TypedChoiceField(
        label=_("Segment"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Optionally, only accounts in this segment."),
    )
    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=0,
        max_value=1_000_000,
        initial=100,
        help_text=_("When two scorecards fit an account equally well, the lower number wins."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    note = forms.CharField(
        label=_("What changed"),
        required=False,
        max_length=300,
        help_text=_("Kept in the version history."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["segment_id"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Any segment")), *segment_choices()]


class OverrideForm(forms.Form):
    """Points for one measure, with why and until when."""

    measure_key = forms.ChoiceField(label=_("Measure"))
    points = forms.FloatField(label=_("Points"), min_value=0, max_value=100)
    expires_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    comment = forms.CharField(
        label=_("Why"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, definition: Definition | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["measure_key"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (measure.key, f"{group.label()} › {measure.label()}")
            for group, measure in (definition.measures() if definition else [])
        ]
        self.fields["expires_on"].initial = timezone.localdate() + datetime.timedelta(days=30)

    def expires_at(self) -> datetime.datetime:
        """The end of the chosen day, in Kizuna's time zone."""
        day: datetime.date = self.cleaned_data["expires_on"]
        return timezone.make_aware(
            datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
        )
