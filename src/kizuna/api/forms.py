"""Forms of the settings pages for API keys and webhook endpoints."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.api import webhooks
from kizuna.api.models import WebhookEndpoint
from kizuna.core.models import Role


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Who or what uses the key, e.g. “Salesforce sync”."),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Role.choices,
        initial=Role.VIEWER,
        help_text=_("The key may do what a person with this role may do in Kizuna."),
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Leave empty for a key that does not expire."),
    )
    rate_limit_per_minute = forms.IntegerField(
        label=_("Requests per minute"),
        initial=600,
        min_value=0,
        max_value=100_000,
        help_text=_("0 means no limit."),
    )

    def expires_at(self) -> datetime.datetime | None:
        days = self.cleaned_data.get("expires_in_days")
        return timezone.now() + datetime.timedelta(days=days) if days else None


class EventTypesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        # Choices are read when the form is built: apps register types in ready().
        super().__init__(choices=webhooks.grouped_choices, **kwargs)


class WebhookEndpointForm(forms.ModelForm[WebhookEndpoint]):
    event_types = EventTypesField(label=_("Events"))

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "event_types", "is_active"]
        help_texts = {
            "url": _("Kizuna POSTs a signed JSON body here for each event chosen below."),
        }
