"""The in-app message editor: content in both languages, tour steps, targeting, frequency."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kizuna.engagement.choices import Frequency, InAppAudience, InAppKind
from kizuna.engagement.models import InAppMessage

STEP_FIELDS = ("selector", "title_ja", "body_ja", "title_en", "body_en")
MAX_STEPS = 20
# A CSS selector as a tour anchor: no markup, no rule blocks, brackets and quotes balanced.
_SELECTOR_FORBIDDEN = re.compile(r"[{}<>;]")


def selector_problem(selector: str) -> str | None:
    """Why a CSS selector cannot anchor a tour step, or None. (The browser is the final judge:
    kizuna.js skips a step whose selector it cannot use.)"""
    if _SELECTOR_FORBIDDEN.search(selector):
        return gettext("“%(selector)s” is not a CSS selector (no { } < > ; allowed).") % {
            "selector": selector
        }
    depth = {"[": 0, "(": 0}
    closing = {"]": "[", ")": "("}
    quote = ""
    for char in selector:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in depth:
            depth[char] += 1
        elif char in closing:
            depth[closing[char]] -= 1
            if depth[closing[char]] < 0:
                break
    if quote or any(depth.values()) or selector.strip().endswith((">", "+", "~", ",")):
        return gettext("“%(selector)s” is not a complete CSS selector.") % {"selector": selector}
    return None


def glob_problem(pattern: str) -> str | None:
    """Why a page pattern is unusable, or None."""
    if not pattern:
        return None
    if not pattern.startswith(("/", "*")):
        return gettext("A page pattern starts with / (a path such as /settings*).")
    if any(char.isspace() for char in pattern):
        return gettext("A page pattern has no spaces.")
    if pattern.count("[") != pattern.count("]"):
        return gettext("The page pattern has an unclosed [ ].")
    return None


class InAppMessageForm(forms.ModelForm[InAppMessage]):
    class Meta:
        model = InAppMessage
        fields = [
            "name",
            "key",
            "kind",
            "content_type",
            "title_ja",
            "body_ja",
            "button_ja",
            "title_en",
            "body_en",
            "button_en",
            "button_url",
            "audience",
            "segment",
            "url_pattern",
            "event_name",
            "event_count",
            "dwell_seconds",
            "frequency",
            "every_days",
            "priority",
            "starts_at",
            "ends_at",
        ]
        widgets = {
            "body_ja": forms.Textarea(attrs={"rows": 3}),
            "body_en": forms.Textarea(attrs={"rows": 3}),
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["every_days"].required = False
        self.steps: list[dict[str, str]] = list(self.instance.steps or []) if self.instance else []
        if self.data:
            self.steps = self._posted_steps()
        self.step_errors: list[str] = []

    def _posted_steps(self) -> list[dict[str, str]]:
        columns = {name: self.data.getlist(f"step_{name}") for name in STEP_FIELDS}  # type: ignore[attr-defined]
        count = max((len(values) for values in columns.values()), default=0)
        steps = []
        for index in range(min(count, MAX_STEPS)):
            step = {
                name: (columns[name][index] if index < len(columns[name]) else "").strip()
                for name in STEP_FIELDS
            }
            if any(step.values()):
                steps.append(step)
        return steps

    def clean_url_pattern(self) -> str:
        pattern = (self.cleaned_data.get("url_pattern") or "").strip()
        problem = glob_problem(pattern)
        if problem:
            raise ValidationError(problem)
        return pattern

    def clean_button_url(self) -> str:
        url = (self.cleaned_data.get("button_url") or "").strip()
        if url and not re.match(r"^(https?://|/)", url):
            raise ValidationError(gettext("A link starts with https://, http:// or /."))
        return url

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if data.get("audience") == InAppAudience.SEGMENT and not data.get("segment"):
            self.add_error("segment", gettext("Choose the segment whose accounts see the message."))
        if (
            data.get("frequency") == Frequency.EVERY_N_DAYS
            and not (data.get("every_days") or 0) >= 1
        ):
            self.add_error(
                "every_days", gettext("Say after how many days (1 or more) it shows again.")
            )
        if data.get("every_days") in (None, ""):
            data["every_days"] = self.instance.every_days or 7
        if data.get("event_count") is not None and data["event_count"] < 1:
            self.add_error("event_count", gettext("Count from 1 (the first time)."))
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", gettext("The end must be after the start."))
        if kind == InAppKind.TOUR:
            self._clean_steps()
        elif not (data.get("title_ja") or data.get("body_ja")):
            self.add_error("body_ja", gettext("Write the message in Japanese (a title or a text)."))
        return data

    def _clean_steps(self) -> None:
        if not any(step["selector"] for step in self.steps):
            self.step_errors.append(gettext("A tour needs at least one step with a CSS selector."))
        for number, step in enumerate(self.steps, start=1):
            if not step["selector"]:
                self.step_errors.append(
                    gettext("Step %(number)d: give the CSS selector of the element it points at.")
                    % {"number": number}
                )
                continue
            problem = selector_problem(step["selector"])
            if problem:
                self.step_errors.append(
                    gettext("Step %(number)d: %(problem)s") % {"number": number, "problem": problem}
                )
            if not (step["title_ja"] or step["body_ja"]):
                self.step_errors.append(
                    gettext("Step %(number)d: write its text in Japanese.") % {"number": number}
                )
        if self.step_errors:
            self.add_error(None, self.step_errors)

    def save(self, commit: bool = True) -> InAppMessage:
        message = super().save(commit=False)
        message.steps = self.steps if message.kind == InAppKind.TOUR else []
        if commit:
            message.save()
        return message


STATUS_LABELS = {
    "live": _("Activate"),
    "paused": _("Pause"),
}
