"""The visual condition builder: the widget of every `ConditionField`.

It renders the tree's JSON in a textarea — the real form value, so the field's server-side
validation stays the only judge — and the builder, which kizuna/conditions.js draws over it
and keeps the JSON in sync with. Without JavaScript the textarea is what people edit.

Usage::

    class SegmentForm(forms.Form):
        condition = ConditionField()                      # builder with a live preview
        rule = ConditionField(preview=False)              # builder only (still validated live)
        other = ConditionField(widget=ConditionBuilderWidget(preview=False))

The widget loads its script and the catalogue itself, so pages need no ``{{ form.media }}``.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext as _


def builder_strings() -> dict[str, str]:
    """Every word the script shows, in the request's language (no English in the JS)."""
    return {
        "all": _("All of these conditions"),
        "any": _("Any of these conditions"),
        "groupLabel": _("How the conditions combine"),
        "not": _("Not"),
        "notHelp": _("Reverse this: match when it is not true"),
        "addCondition": _("Add condition"),
        "addGroup": _("Add group"),
        "removeCondition": _("Remove this condition"),
        "removeGroup": _("Remove this group"),
        "chooseMetric": _("Choose what to compare…"),
        "chooseOption": _("Choose…"),
        "any_option": _("Any"),
        "unknownMetric": _("Unknown: %s"),
        "emptyRoot": _("No conditions yet: every account matches."),
        "emptyGroup": _("No conditions in this group yet."),
        "and": _("and"),
        "commaHelp": _("Separate values with commas"),
        "metric": _("What"),
        "operator": _("Comparison"),
        "value": _("Value"),
        "lowest": _("Lowest"),
        "highest": _("Highest"),
        "editJson": _("Edit as JSON"),
        "useBuilder": _("Use the builder"),
        "badJson": _("This is not valid JSON; correct it or go back to the builder."),
        "failed": _("The preview could not be loaded."),
        "noChoices": _("Nothing to choose yet."),
    }


class ConditionBuilderWidget(forms.Textarea):
    """A condition tree edited visually; `preview` shows the live member count and the
    first matching accounts under it."""

    template_name = "core/conditions/widget.html"

    def __init__(self, attrs: dict[str, Any] | None = None, *, preview: bool = True) -> None:
        defaults = {"rows": 8, "cols": 60, "spellcheck": "false", "class": "cb-json"}
        super().__init__({**defaults, **(attrs or {})})
        self.preview = preview

    def use_required_attribute(self, initial: Any) -> bool:
        # The textarea is hidden once the builder is drawn; the browser must not block the
        # form on it. The field's own validation says what is missing.
        return False

    def format_value(self, value: Any) -> str | None:
        """Indented JSON, for people who read or edit it without the builder."""
        text = super().format_value(value)
        if not text:
            return text
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            return text  # invalid input as typed, shown back with the error

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["builder"] = {
            "preview": self.preview,
            "catalogue_url": reverse("core:conditions_metrics"),
            "choices_url": reverse("core:conditions_choices"),
            "preview_url": reverse("core:conditions_preview"),
            "strings": builder_strings(),
        }
        return context
