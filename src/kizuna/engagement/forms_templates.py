"""Forms of the email template pages: a template's settings with its content in both
languages, the preview and test-send choices, and sender identities."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kizuna.engagement.models import EmailTemplate, EmailTemplateVersion, SenderIdentity
from kizuna.engagement.rendering import FIELD_LABELS, FIELDS, TemplateProblem
from kizuna.engagement.templates_service import SENDER_FIELDS, TEMPLATE_SETTINGS


class TemplateForm(forms.ModelForm[EmailTemplate]):
    """Settings plus the six content fields; the content is checked by the service, whose
    problems are shown at their field (see `add_problems`)."""

    subject_ja = forms.CharField(label=FIELD_LABELS["subject_ja"], required=False, max_length=300)
    html_ja = forms.CharField(
        label=FIELD_LABELS["html_ja"],
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
    )
    text_ja = forms.CharField(
        label=FIELD_LABELS["text_ja"],
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    subject_en = forms.CharField(label=FIELD_LABELS["subject_en"], required=False, max_length=300)
    html_en = forms.CharField(
        label=FIELD_LABELS["html_en"],
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
    )
    text_en = forms.CharField(
        label=FIELD_LABELS["text_en"],
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10}),
    )

    class Meta:
        model = EmailTemplate
        fields = list(TEMPLATE_SETTINGS)
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, version: EmailTemplateVersion | None = None, **kwargs: Any):
        if version is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(version, name) for name in FIELDS}
        super().__init__(*args, **kwargs)
        for name in FIELDS:
            self.fields[name].widget.attrs.update({"class": "template-content", "data-field": name})

    def settings(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in TEMPLATE_SETTINGS}

    def content(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in FIELDS}

    def add_problems(self, problems: list[TemplateProblem]) -> None:
        for problem in problems:
            self.add_error(
                problem.field,
                _("Line %(line)s, column %(column)s: %(message)s")
                % {"line": problem.line, "column": problem.column, "message": problem.message},
            )

    @property
    def settings_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in TEMPLATE_SETTINGS]

    @property
    def japanese_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("subject_ja", "html_ja", "text_ja")]

    @property
    def english_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("subject_en", "html_en", "text_en")]


LANGUAGE_CHOICES = [
    ("", _("The contact's language")),
    ("ja", _("Japanese")),
    ("en", _("English")),
]


class PreviewForm(forms.Form):
    contact = forms.IntegerField(label=_("Contact"), required=False)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)


class TestSendForm(forms.Form):
    contact = forms.IntegerField(label=_("Contact"))
    to_email = forms.EmailField(label=_("Send to"))


class SenderForm(forms.ModelForm[SenderIdentity]):
    class Meta:
        model = SenderIdentity
        fields = list(SENDER_FIELDS)

    def validate_constraints(self) -> None:
        # The one-default rule is kept by the service, which moves the default to this
        # sender when it is marked default; the form must not refuse it beforehand.
        return
