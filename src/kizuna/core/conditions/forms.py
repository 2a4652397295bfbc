"""The form field every configurable condition tree is edited with (segments, tier and stage
rules, flows, campaigns). It renders as the visual builder (see widgets.py); the JSON it
submits is validated here, the single judge of a tree."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kizuna.core.conditions.tree import ConditionError, parse
from kizuna.core.conditions.widgets import ConditionBuilderWidget


class ConditionField(forms.JSONField):
    """A condition tree, validated as a whole; the error names where the tree is wrong.

    `preview=False` leaves out the builder's live member count (a rule that is not about
    accounts, say); pass `widget=` to replace the builder altogether."""

    widget = ConditionBuilderWidget

    def __init__(self, *, preview: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"and": []})
        kwargs.setdefault("widget", ConditionBuilderWidget(preview=preview))
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
