"""Forms of the lifecycle pages. Validation lives in the models' clean() and the services;
the condition tree is a ConditionField (the visual builder), validated with where it is
wrong."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kizuna.core.conditions.forms import ConditionField
from kizuna.customers.choices import LifecycleStage
from kizuna.lifecycle.models import StageRule
from kizuna.lifecycle.services import MAX_REASON


class StageRuleForm(forms.ModelForm[StageRule]):
    from_stages = forms.MultipleChoiceField(
        label=_("From stages"),
        choices=LifecycleStage.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The rule only moves accounts that are in one of these stages."),
    )
    # Without the builder's live preview over every account: the page's preview counts the
    # accounts in the rule's stages.
    conditions = ConditionField(
        preview=False,
        label=_("Conditions"),
        help_text=_("Accounts in those stages that match these conditions move."),
    )

    class Meta:
        model = StageRule
        fields = [
            "name",
            "to_stage",
            "from_stages",
            "conditions",
            "priority",
            "enabled",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "priority": _(
                "Rules run lowest number first; an account moves by the first rule it matches."
            ),
            "description": _("Why the rule exists; kept with every move it makes."),
        }


# The usual move by hand from each stage: on through the lifecycle, and back to value
# realisation once renewed.
NEXT_STAGE: dict[str, str] = {
    LifecycleStage.ONBOARDING: LifecycleStage.ADOPTION,
    LifecycleStage.ADOPTION: LifecycleStage.VALUE,
    LifecycleStage.VALUE: LifecycleStage.RENEWAL,
    LifecycleStage.RENEWAL: LifecycleStage.VALUE,
}


class StageMoveForm(forms.Form):
    """A CSM moves an account to another stage by hand, saying why."""

    stage = forms.ChoiceField(label=_("Move to"), choices=LifecycleStage.choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the stage history, e.g. “kick-off done, admins trained”."),
    )

    def __init__(self, *args: Any, current: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["stage"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (value, label) for value, label in LifecycleStage.choices if value != current
        ]
        if current in NEXT_STAGE:
            self.initial.setdefault("stage", NEXT_STAGE[current])
