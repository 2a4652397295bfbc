"""Forms of the data sources settings page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kizuna.usage.models import Source, UsageSettings


class SourceForm(forms.ModelForm[Source]):
    class Meta:
        model = Source
        fields = ["name"]
        help_texts = {"name": _("Where the data comes from, e.g. “Web app (production)”.")}


class UsageSettingsForm(forms.Form):
    """The login events as text, one event name per line."""

    login_events = forms.CharField(
        label=_("Login events"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Track event names that count as a login, one per line (as your product sends "
            "them, case and spaces included)."
        ),
    )

    @classmethod
    def for_settings(cls, settings: UsageSettings, data: Any = None) -> UsageSettingsForm:
        return cls(data, initial={"login_events": "\n".join(settings.login_events or [])})

    def clean_login_events(self) -> list[str]:
        text = self.cleaned_data.get("login_events", "")
        names = [line.strip() for line in text.splitlines() if line.strip()]
        candidate = UsageSettings(login_events=names)
        try:
            candidate.clean()
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["login_events"]) from None
        return candidate.login_events
