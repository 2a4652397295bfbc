"""Forms for Customer 360. Validation lives here and in the models' clean(); views only bind
forms and call services."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.core.conditions.forms import ConditionField
from kizuna.core.models import Role, User
from kizuna.customers import services
from kizuna.customers.choices import CustomFieldType, Rating
from kizuna.customers.models import (
    Account,
    Contact,
    CustomFieldDefinition,
    Opportunity,
    Subscription,
    TierPolicy,
    Touchpoint,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
CUSTOM_PREFIX = "cf_"
# Decision makers and champions first: the people a CSM logs touchpoints with most.
CONTACT_ORDER = ("-is_decision_maker", "-is_champion", "name_kana", "id")


def staff_choices() -> forms.ModelChoiceField[User]:
    return forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).exclude(role=Role.VIEWER),
        required=False,
        label=_("Owner CSM"),
    )


def custom_form_field(definition: CustomFieldDefinition) -> forms.Field:
    common: dict[str, Any] = {"label": definition.label, "required": False}
    kind = definition.field_type
    if kind == CustomFieldType.NUMBER:
        return forms.DecimalField(**common)
    if kind == CustomFieldType.DATE:
        return forms.DateField(widget=DATE, **common)
    if kind == CustomFieldType.BOOLEAN:
        return forms.BooleanField(**common)
    if kind == CustomFieldType.CHOICE:
        options = [("", "—"), *((choice, choice) for choice in definition.choices)]
        return forms.ChoiceField(choices=options, **common)
    return forms.CharField(max_length=500, **common)


class AccountForm(forms.ModelForm[Account]):
    class Meta:
        model = Account
        fields = [
            "name",
            "name_kana",
            "domain",
            "industry",
            "employees",
            "region",
            "external_id",
            "owner",
            "time_zone",
            "stage",
        ]
        help_texts = {"name_kana": _("Katakana, used for sorting and search.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = staff_choices()
        self.definitions = services.custom_field_definitions()
        current = self.instance.custom_attributes or {}
        for definition in self.definitions:
            field = custom_form_field(definition)
            field.required = definition.required and definition.field_type != "boolean"
            self.fields[CUSTOM_PREFIX + definition.key] = field
            if definition.key in current:
                self.initial[CUSTOM_PREFIX + definition.key] = current[definition.key]

    @property
    def custom_field_names(self) -> list[str]:
        return [CUSTOM_PREFIX + definition.key for definition in self.definitions]

    def clean_external_id(self) -> str | None:
        # Empty external ids are stored as NULL so that many accounts may lack one.
        return self.cleaned_data.get("external_id") or None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        submitted = {
            definition.key: cleaned.get(CUSTOM_PREFIX + definition.key)
            for definition in self.definitions
        }
        try:
            self.instance.custom_attributes = services.clean_custom_attributes(
                submitted, self.definitions
            )
        except forms.ValidationError as exc:
            for key, messages in exc.message_dict.items():
                self.add_error(CUSTOM_PREFIX + key, messages)
        return cleaned


class ContactForm(forms.ModelForm[Contact]):
    class Meta:
        model = Contact
        fields = [
            "name",
            "name_kana",
            "title",
            "email",
            "phone",
            "is_champion",
            "is_decision_maker",
            "external_id",
            "product_user_id",
        ]

    def clean_external_id(self) -> str | None:
        return self.cleaned_data.get("external_id") or None

    def clean_product_user_id(self) -> str | None:
        return self.cleaned_data.get("product_user_id") or None


class SubscriptionForm(forms.ModelForm[Subscription]):
    """MRR and ARR: give either, the other is derived (ARR = 12 × MRR)."""

    class Meta:
        model = Subscription
        fields = [
            "product",
            "plan",
            "seats",
            "mrr",
            "arr",
            "currency",
            "start_date",
            "end_date",
            "status",
            "auto_renew",
            "external_id",
        ]
        widgets = {"start_date": DATE, "end_date": DATE}
        help_texts = {"arr": _("Leave MRR or ARR empty to derive it from the other.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mrr"].required = False
        self.fields["arr"].required = False

    def clean_external_id(self) -> str | None:
        return self.cleaned_data.get("external_id") or None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        mrr: Decimal | None = cleaned.get("mrr")
        arr: Decimal | None = cleaned.get("arr")
        if mrr is None and arr is None and "mrr" not in self.errors and "arr" not in self.errors:
            self.add_error("mrr", _("Enter the MRR or the ARR."))
        elif mrr is None and arr is not None:
            cleaned["mrr"] = self.instance.mrr = (arr / 12).quantize(Decimal("0.01"))
        elif arr is None and mrr is not None:
            cleaned["arr"] = self.instance.arr = mrr * 12
        return cleaned


class OpportunityForm(forms.ModelForm[Opportunity]):
    class Meta:
        model = Opportunity
        fields = ["name", "kind", "amount", "currency", "stage", "close_date", "owner"]
        widgets = {"close_date": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = staff_choices()
        self.fields["owner"].label = _("Owner")


class TouchpointForm(forms.ModelForm[Touchpoint]):
    class Meta:
        model = Touchpoint
        fields = ["kind", "occurred_at", "channel", "rating", "subject", "body", "contacts"]
        widgets = {
            "occurred_at": DATETIME,
            "rating": forms.RadioSelect,
            "contacts": forms.CheckboxSelectMultiple,
            "body": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.account = account
        contacts = self.fields["contacts"]
        assert isinstance(contacts, forms.ModelMultipleChoiceField)
        contacts.queryset = account.contacts.order_by(*CONTACT_ORDER)
        rating = self.fields["rating"]
        assert isinstance(rating, forms.ChoiceField)
        rating.choices = [("", _("Not rated")), *Rating.choices]
        if not self.instance.pk and not self.is_bound:
            self.initial["occurred_at"] = timezone.localtime().replace(second=0, microsecond=0)

    def clean_occurred_at(self) -> datetime.datetime:
        occurred_at: datetime.datetime = self.cleaned_data["occurred_at"]
        if occurred_at > timezone.now() + datetime.timedelta(days=1):
            raise forms.ValidationError(_("A touchpoint cannot be logged in the future."))
        return occurred_at


class TierPolicyForm(forms.ModelForm[TierPolicy]):
    """The tier policy: the mode, the ARR thresholds (whole yen: no decimals shown or
    accepted) and the condition trees. A field left out of the POST keeps its value."""

    THRESHOLDS = ("high_touch_min_arr", "low_touch_min_arr")

    # Without the builder's live preview: the page previews the tier changes as a whole.
    high_touch_conditions = ConditionField(
        preview=False,
        label=_("High touch when"),
        required=False,
        help_text=_("Accounts that match are high touch."),
    )
    low_touch_conditions = ConditionField(
        preview=False,
        label=_("Low touch when"),
        required=False,
        help_text=_(
            "Accounts that match (and are not high touch) are low touch; the rest are tech touch."
        ),
    )

    class Meta:
        model = TierPolicy
        fields = [
            "mode",
            "high_touch_min_arr",
            "low_touch_min_arr",
            "high_touch_conditions",
            "low_touch_conditions",
        ]
        widgets = {"mode": forms.RadioSelect}
        help_texts = {
            "high_touch_min_arr": _("Yearly amount in yen, e.g. 6000000 for ¥6,000,000."),
            "low_touch_min_arr": _("Yearly amount in yen, e.g. 1200000 for ¥1,200,000."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mode"].required = False
        for name in self.THRESHOLDS:
            field = self.fields[name]
            assert isinstance(field, forms.DecimalField)
            field.decimal_places = 0
            field.min_value = 0
            field.widget.attrs.update({"step": "1", "min": "0"})
            value = getattr(self.instance, name)
            if value is not None:
                self.initial[name] = int(value)


class CustomFieldDefinitionForm(forms.ModelForm[CustomFieldDefinition]):
    # Shown as one choice per line; stored as the JSON list the model validates.
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For a choice field: one choice per line."),
    )

    class Meta:
        model = CustomFieldDefinition
        fields = [
            "key",
            "label_ja",
            "label_en",
            "field_type",
            "choices",
            "required",
            "filterable",
            "position",
        ]
        help_texts = {"key": _("Used in imports and the API, e.g. contract_plan. Cannot change.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["key"].disabled = True
            self.initial["choices"] = "\n".join(self.instance.choices)

    def clean_choices(self) -> list[str]:
        text = self.cleaned_data.get("choices") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]
