"""The sending rules form (one set of rules for every team)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kizuna.engagement.models import EngagementSettings

# Field -> (smallest, largest) value accepted.
LIMITS = {
    "cap_messages": (1, 1000),
    "cap_days": (1, 365),
    "dedupe_days": (0, 365),
    "send_rate": (1, 10000),
    "max_attempts": (1, 50),
}


class SendingSettingsForm(forms.ModelForm):
    class Meta:
        model = EngagementSettings
        fields = ["cap_messages", "cap_days", "dedupe_days", "send_rate", "max_attempts"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name, (low, high) in LIMITS.items():
            widget = self.fields[name].widget
            widget.attrs.update({"min": low, "max": high})

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        for name, (low, high) in LIMITS.items():
            value = cleaned.get(name)
            if value is None:
                continue
            if not low <= int(str(value)) <= high:
                self.add_error(
                    name,
                    _("Enter a whole number from %(low)d to %(high)d.")
                    % {"low": low, "high": high},
                )
        return cleaned
