"""The form of the suppression list page (adding an address by hand)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kizuna.engagement.choices import SuppressionReason


class SuppressionForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    reason = forms.ChoiceField(
        label=_("Reason"), choices=SuppressionReason.choices, initial=SuppressionReason.MANUAL
    )
    detail = forms.CharField(
        label=_("Note"),
        max_length=500,
        required=False,
        help_text=_("Why, for whoever reads the list later (e.g. asked by phone on 11/20)."),
    )
