"""Forms of the CTA pages. Validation lives here and in services; views bind and call."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.core.models import User
from kizuna.customers.models import Account
from kizuna.playbooks import services
from kizuna.playbooks.choices import CLOSED_STATUSES, CtaStatus, CtaType, Outcome, Priority
from kizuna.playbooks.models import AssignmentRule, Playbook
from kizuna.playbooks.schema import MAX_OFFSET_DAYS, MAX_STEPS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SNOOZE_CHOICES = [(1, _("1 day")), (3, _("3 days")), (7, _("1 week")), (14, _("2 weeks"))]


def _users() -> forms.ModelChoiceField[User]:
    return forms.ModelChoiceField(queryset=services.assignable_users(), label=_("Owner"))


class CtaForm(forms.Form):
    """A CTA made by hand; the owner is chosen by the assignment rules when left empty."""

    account = forms.ModelChoiceField(
        queryset=Account.objects.order_by("name_kana", "name", "id"), label=_("Account")
    )
    type = forms.ChoiceField(choices=CtaType.choices, label=_("Type"))
    reason = forms.CharField(
        max_length=200,
        label=_("Reason"),
        help_text=_("Why this needs doing — shown wherever the CTA is listed."),
    )
    playbook = forms.ModelChoiceField(
        queryset=Playbook.objects.filter(enabled=True).order_by("name"),
        required=False,
        label=_("Playbook"),
        to_field_name="key",
        empty_label=_("No playbook"),
    )
    priority = forms.ChoiceField(
        choices=[("", _("The playbook's (else medium)")), *Priority.choices],
        required=False,
        label=_("Priority"),
    )
    due_in_days = forms.IntegerField(
        min_value=0,
        max_value=services.MAX_DUE_DAYS,
        required=False,
        label=_("Due in (days)"),
        help_text=_("Empty: when the playbook's last step is due, else in a week."),
    )
    owner = forms.ModelChoiceField(
        queryset=services.assignable_users(),
        required=False,
        label=_("Owner"),
        empty_label=_("By the assignment rules"),
    )


class CloseForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(value, label) for value, label in CtaStatus.choices if value in CLOSED_STATUSES],
        initial=CtaStatus.DONE,
        label=_("Close as"),
    )
    outcome = forms.ChoiceField(choices=[("", "—"), *Outcome.choices], label=_("Outcome"))
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("Note")
    )


class SnoozeForm(forms.Form):
    until = forms.DateField(widget=DATE, label=_("Snooze until"))

    def clean_until(self) -> Any:
        until = self.cleaned_data["until"]
        if until <= timezone.localdate():
            raise forms.ValidationError(_("Snooze until a day after today."))
        return until


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=services.assignable_users(), label=_("New owner"))


class BulkForm(forms.Form):
    ACTIONS = [
        ("done", _("Mark done")),
        ("snooze", _("Snooze")),
        ("reassign", _("Reassign")),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], label=_("CTAs"))
    days = forms.TypedChoiceField(coerce=int, choices=SNOOZE_CHOICES, required=False)
    owner = forms.ModelChoiceField(queryset=services.assignable_users(), required=False)
    outcome = forms.ChoiceField(choices=Outcome.choices, required=False, initial=Outcome.RESOLVED)

    def __init__(self, *args: Any, allowed_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(pk, pk) for pk in allowed_ids]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action == "reassign" and not data.get("owner"):
            self.add_error("owner", _("Choose who gets the CTAs."))
        if action == "snooze" and not data.get("days"):
            self.add_error("days", _("Choose for how long."))
        return data


class PlaybookForm(forms.ModelForm[Playbook]):
    class Meta:
        model = Playbook
        fields = ["key", "name", "description", "cta_type", "priority", "enabled"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["key"].disabled = True


class StepForm(forms.Form):
    title = forms.CharField(max_length=200, required=False, label=_("Step"))
    guidance = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        required=False,
        label=_("Guidance"),
    )
    due_offset_days = forms.IntegerField(
        min_value=0, max_value=MAX_OFFSET_DAYS, required=False, label=_("Due after (days)")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("guidance") or data.get("due_offset_days")) and not data.get("title"):
            self.add_error("title", _("Give the step a title."))
        return data


class _StepFormSet(forms.BaseFormSet[StepForm]):
    def steps(self) -> list[dict[str, Any]]:
        """The filled-in rows, in order, as the playbook's JSON steps."""
        rows = []
        for form in self.forms:
            data = form.cleaned_data
            if not data or data.get("DELETE") or not data.get("title"):
                continue
            rows.append(
                {
                    "title": data["title"],
                    "guidance": data.get("guidance") or "",
                    "due_offset_days": data.get("due_offset_days") or 0,
                }
            )
        return rows


StepFormSet = forms.formset_factory(
    StepForm,
    formset=_StepFormSet,
    extra=3,
    can_delete=True,
    max_num=MAX_STEPS,
    validate_max=True,
)


class AssignmentRuleForm(forms.ModelForm[AssignmentRule]):
    users = forms.ModelMultipleChoiceField(
        queryset=services.assignable_users(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Users in the rotation"),
        help_text=_("For round robin: CTAs go to these people in turn."),
    )

    class Meta:
        model = AssignmentRule
        fields = ["name", "tier", "cta_type", "strategy", "user", "users", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = services.assignable_users()  # type: ignore[attr-defined]
        self.fields["user"].help_text = _("For “a specific user”.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        strategy = data.get("strategy")
        if strategy == "specific_user" and not data.get("user"):
            self.add_error("user", _("Choose the user who gets the CTAs."))
        if strategy == "round_robin" and not data.get("users"):
            self.add_error("users", _("Choose at least one user for the rotation."))
        return data


class MoveCtasForm(forms.Form):
    """Team view: hand every open CTA of one person to another."""

    from_user = forms.ModelChoiceField(queryset=User.objects.all(), label=_("From"))
    to_user = forms.ModelChoiceField(queryset=services.assignable_users(), label=_("To"))


class MoveAccountsForm(forms.Form):
    """Team view: make another person the owner of one person's accounts (of a tier)."""

    from_user = forms.ModelChoiceField(queryset=User.objects.all(), label=_("From"))
    to_user = forms.ModelChoiceField(queryset=services.assignable_users(), label=_("To"))
    tier = forms.ChoiceField(required=False, label=_("Tier"))
    move_ctas = forms.BooleanField(
        required=False, initial=True, label=_("Also hand over their open CTAs of these accounts")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from kizuna.customers.choices import Tier

        self.fields["tier"].choices = [("", _("All tiers")), *Tier.choices]  # type: ignore[attr-defined]
