"""The form field every configurable condition tree is edited with (segments, tier and stage
rules, flows, campaigns)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kizuna.core.conditions.tree import ConditionError, parse


class ConditionField(forms.JSONField):
    """A condition tree, validated as a whole; the error names where the tree is wrong."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"and": []})
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value in self.empty_values:
            return
        try:
            parse(value)
        except ConditionError as exc:
            where = _("at %s: ") % exc.path if exc.path else ""
            raise ValidationError(f"{where}{exc.message}", code="invalid_condition") from exc
