"""The milestone form. It validates with the services' checks; services.py saves."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kizuna.core.conditions.forms import ConditionField
from kizuna.core.models import User
from kizuna.milestones import services
from kizuna.milestones.models import Milestone


class MilestoneForm(forms.ModelForm[Milestone]):
    """Stage (fixed once created), key, name, the condition (the builder, with the live
    count of matching accounts), target days, description, enabled."""

    condition = ConditionField(
        label=_("Reached when"),
        help_text=_(
            "An account in the stage reaches the milestone the first time it meets these "
            "conditions; it stays reached."
        ),
    )

    class Meta:
        model = Milestone
        fields = ["stage", "name", "key", "condition", "target_days", "description", "enabled"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "key": _("A stable name for the API and flows, e.g. “first_login”."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["stage"].disabled = True
            self.fields["stage"].help_text = _("The stage of a milestone cannot change.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "condition" not in self.errors and cleaned.get("condition") is not None:
            try:
                services.check_condition(cleaned["condition"])
            except services.InvalidMilestone as exc:
                where = _("at %s: ") % exc.path if exc.path else ""
                self.add_error("condition", ValidationError(f"{where}{exc.message}"))
        return cleaned

    def validate_unique(self) -> None:
        # The services check the key (with a message of their own).
        return None

    def save_through_services(self, actor: User) -> Milestone:
        """Create or update through services.py (audit, recompute); raises
        InvalidMilestone."""
        data = self.cleaned_data
        common = {
            "key": data["key"],
            "name": data["name"],
            "description": data["description"],
            "condition": data["condition"],
            "target_days": data["target_days"],
            "enabled": data["enabled"],
        }
        if self.instance.pk:
            return services.update_milestone(
                actor, Milestone.objects.get(pk=self.instance.pk), **common
            )
        return services.create_milestone(actor, stage=data["stage"], **common)
