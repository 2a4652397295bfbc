"""Forms of the campaign pages: the campaign itself (content, audience, sender, when, the A/B
test settings), its variants (a formset: blank rows are ignored), and scheduling."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.engagement import campaigns
from kizuna.engagement.choices import IfInconclusive, WinnerCriterion
from kizuna.engagement.models import Campaign, EmailTemplate, SenderIdentity
from kizuna.segments.models import Segment

MANUAL = "manual"
SCHEDULED = "scheduled"


def _sendable_templates() -> Any:
    return EmailTemplate.objects.filter(archived=False, current__isnull=False).order_by(
        "name", "id"
    )


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    template = forms.ModelChoiceField(
        label=_("Email template"), queryset=EmailTemplate.objects.none()
    )
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=Segment.objects.none())
    sender = forms.ModelChoiceField(
        label=_("Sender"),
        queryset=SenderIdentity.objects.all(),
        required=False,
        empty_label=_("The template's sender"),
    )
    team = forms.CharField(label=_("Team"), max_length=100, required=False)
    delivery = forms.ChoiceField(
        label=_("When"),
        choices=[
            (MANUAL, _("When I press Send on the campaign page")),
            (SCHEDULED, _("At a date and time")),
        ],
        initial=MANUAL,
        widget=forms.RadioSelect,
    )
    send_at = forms.DateTimeField(
        label=_("Send at"), required=False, widget=DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )
    test_share = forms.IntegerField(
        label=_("Share of the audience in the test (%)"),
        initial=20,
        help_text=_("Used when there are variants; the rest receives the winner."),
    )
    winner_criterion = forms.ChoiceField(
        label=_("Winner criterion"),
        choices=WinnerCriterion.choices,
        initial=WinnerCriterion.OPEN_RATE,
    )
    test_hours = forms.IntegerField(
        label=_("Pick the winner after (hours)"), initial=24, min_value=1
    )
    if_inconclusive = forms.ChoiceField(
        label=_("When the difference is not significant"),
        choices=IfInconclusive.choices,
        initial=IfInconclusive.BEST,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = _sendable_templates()  # type: ignore[attr-defined]
        self.fields["segment"].queryset = Segment.objects.order_by("name")  # type: ignore[attr-defined]
        # The audience below the field follows the segment (and the template's category).
        audience = {
            "hx-get": reverse("engagement:campaign_audience"),
            "hx-trigger": "change",
            "hx-target": "#campaign-audience",
            "hx-swap": "outerHTML",
            # A newer choice aborts the count still on its way, so answers never cross.
            "hx-sync": "closest form:replace",
        }
        self.fields["segment"].widget.attrs.update(audience, **{"hx-include": "[name=template]"})
        self.fields["template"].widget.attrs.update(audience, **{"hx-include": "[name=segment]"})

    @staticmethod
    def initial_from(campaign: Campaign) -> dict[str, Any]:
        return {
            "name": campaign.name,
            "description": campaign.description,
            "template": campaign.template_id,
            "segment": campaign.segment_id,
            "sender": campaign.sender_id,
            "team": campaign.team,
            "delivery": SCHEDULED if campaign.scheduled_at else MANUAL,
            "send_at": timezone.localtime(campaign.scheduled_at) if campaign.scheduled_at else None,
            "test_share": campaign.test_share,
            "winner_criterion": campaign.winner_criterion,
            "test_hours": campaign.test_hours,
            "if_inconclusive": campaign.if_inconclusive,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("delivery") == SCHEDULED:
            when = data.get("send_at")
            if when is None:
                self.add_error("send_at", _("Choose the date and time to send at."))
            elif when <= timezone.now():
                self.add_error("send_at", _("Choose a time in the future."))
        return data


class VariantForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=20, required=False)
    weight = forms.IntegerField(label=_("Weight"), initial=1, required=False)
    subject_ja = forms.CharField(label=_("Subject (Japanese)"), max_length=300, required=False)
    subject_en = forms.CharField(label=_("Subject (English)"), max_length=300, required=False)
    template = forms.ModelChoiceField(
        label=_("Content"),
        queryset=EmailTemplate.objects.none(),
        required=False,
        empty_label=_("The campaign's template"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = _sendable_templates()  # type: ignore[attr-defined]

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not any(
            [
                (data.get("label") or "").strip(),
                (data.get("subject_ja") or "").strip(),
                (data.get("subject_en") or "").strip(),
                data.get("template"),
            ]
        )


BLANK_ROWS = 3


def variant_formset(data: Any = None, campaign: Campaign | None = None) -> Any:
    initial = []
    if campaign is not None:
        initial = [
            {
                "label": variant.label,
                "weight": variant.weight,
                "subject_ja": variant.subject_ja,
                "subject_en": variant.subject_en,
                "template": variant.template_id,
            }
            for variant in campaigns.variants_of(campaign)
        ]
    formset = formset_factory(
        VariantForm, extra=max(BLANK_ROWS - len(initial), 1), max_num=campaigns.MAX_VARIANTS
    )
    return formset(data, initial=initial, prefix="variants")


def build_spec(form: CampaignForm, formset: Any) -> tuple[campaigns.CampaignSpec, list[Any]]:
    """The campaign as typed, and the variant forms in the order their specs have (so an
    error about ``variants.2`` can be shown on the right row)."""
    data = form.cleaned_data
    filled = [row for row in formset.forms if not row.is_blank()]
    variants = [
        campaigns.VariantSpec(
            label=row.cleaned_data.get("label") or "",
            weight=row.cleaned_data.get("weight")
            if row.cleaned_data.get("weight") is not None
            else 1,
            subject_ja=row.cleaned_data.get("subject_ja") or "",
            subject_en=row.cleaned_data.get("subject_en") or "",
            template=row.cleaned_data.get("template"),
        )
        for row in filled
    ]
    spec = campaigns.CampaignSpec(
        name=data["name"],
        description=data.get("description") or "",
        template=data["template"],
        segment=data["segment"],
        sender=data.get("sender"),
        team=data.get("team") or "",
        test_share=data["test_share"],
        winner_criterion=data["winner_criterion"],
        test_hours=data["test_hours"],
        if_inconclusive=data["if_inconclusive"],
        variants=variants,
    )
    return spec, filled


def place_errors(
    form: CampaignForm, filled: list[Any], formset: Any, error: ValidationError
) -> None:
    """Show a refusal of the campaigns service at the field (or variant row) it names."""
    for key, messages in error.message_dict.items():
        if key.startswith("variants."):
            _variants, number, field = key.split(".", 2)
            row = filled[int(number) - 1]
            row.add_error(field if field in row.fields else None, messages)
        elif key == "variants":
            formset._non_form_errors = formset.error_class(messages)
            form.add_error(None, messages)
        elif key in form.fields:
            form.add_error(key, messages)
        elif key == "scheduled_at":
            form.add_error("send_at", messages)
        else:
            form.add_error(None, messages)


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label=_("Send at"), widget=DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )
