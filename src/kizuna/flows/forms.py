"""Forms of the flow builder. They turn what people type into the parts of a definition dict
(a step, the trigger and the rules around it); whether the result is a valid flow is for
`services.save_version` to say, and its refusal is shown at the step it names.

Parameter inputs of an action step are generated from the action's pydantic `Params` schema,
none of them required by the browser: a missing required parameter is reported by the
definition's validation, at the step.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kizuna.core.conditions.forms import ConditionField
from kizuna.flows import actions
from kizuna.flows.choices import DateField, Reentry, TriggerType, WaitFor
from kizuna.flows.definition import BANDS, LOGIN

STEP_TYPES = [
    ("action", gettext_lazy("Action")),
    ("condition", gettext_lazy("Condition")),
    ("wait", gettext_lazy("Wait")),
    ("decision", gettext_lazy("Decision")),
]
PARAM_PREFIX = "param_"

PARAM_LABELS = {
    "type": gettext_lazy("Type"),
    "reason": gettext_lazy("Reason"),
    "priority": gettext_lazy("Priority"),
    "due_in_days": gettext_lazy("Due in days"),
    "playbook": gettext_lazy("Playbook"),
    "segment": gettext_lazy("Segment"),
    "stage": gettext_lazy("Stage"),
    "field": gettext_lazy("Custom field"),
    "value": gettext_lazy("Value"),
    "endpoint": gettext_lazy("Webhook endpoint"),
    "message": gettext_lazy("Message"),
    "template": gettext_lazy("Email template"),
}


def _enum_labels(name: str) -> dict[str, str]:
    from kizuna.customers.choices import LifecycleStage
    from kizuna.playbooks.choices import CtaType, Priority

    known: dict[str, Any] = {"type": CtaType, "priority": Priority, "stage": LifecycleStage}
    choices = known.get(name)
    return {str(value): str(label) for value, label in choices.choices} if choices else {}


def _model_choices(name: str) -> list[tuple[str, str]] | None:
    """Parameters that name a record are picked from the records."""
    if name == "segment":
        from kizuna.segments.choices import SegmentKind
        from kizuna.segments.models import Segment

        rows = Segment.objects.filter(kind=SegmentKind.STATIC).order_by("name")
        return [(str(pk), name) for pk, name in rows.values_list("pk", "name")]
    if name == "endpoint":
        from kizuna.api.models import WebhookEndpoint

        return [
            (str(pk), name)
            for pk, name in WebhookEndpoint.objects.order_by("name").values_list("pk", "name")
        ]
    if name == "playbook":
        from kizuna.playbooks.models import Playbook

        return [
            (key, name)
            for key, name in Playbook.objects.filter(enabled=True)
            .order_by("name")
            .values_list("key", "name")
        ]
    return None


def _schema_kind(spec: dict[str, Any]) -> tuple[str, list[Any]]:
    """The input a schema property needs: ("enum", values), ("integer"|"number"|"boolean"|
    "string", [])."""
    options = spec.get("anyOf") or [spec]
    concrete = [option for option in options if option.get("type") != "null"]
    if len(concrete) == 1:
        only = concrete[0]
        if "enum" in only:
            return "enum", list(only["enum"])
        return str(only.get("type", "string")), []
    return "string", []


def param_fields(action_key: str) -> dict[str, forms.Field]:
    """One optional input per parameter of the action, in the schema's order."""
    try:
        action = actions.get(action_key)
    except KeyError:
        return {}
    schema = action.Params.model_json_schema()
    fields: dict[str, forms.Field] = {}
    for name, spec in schema.get("properties", {}).items():
        label = PARAM_LABELS.get(name, spec.get("title", name))
        required = name in schema.get("required", [])
        help_text = _("Required") if required else ""
        records = _model_choices(name)
        kind, values = _schema_kind(spec)
        field: forms.Field
        if records is not None:
            field = forms.ChoiceField(choices=[("", "—"), *records])
        elif kind == "enum":
            labels = _enum_labels(name)
            field = forms.ChoiceField(
                choices=[
                    ("", "—"),
                    *[(str(value), labels.get(str(value), value)) for value in values],
                ]
            )
        elif kind == "integer":
            field = forms.IntegerField()
        elif kind == "number":
            field = forms.FloatField()
        elif kind == "boolean":
            field = forms.NullBooleanField(
                widget=forms.Select(choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))])
            )
        else:
            field = forms.CharField(max_length=int(spec.get("maxLength", 2000)))
        field.required = False
        field.label = label
        field.help_text = help_text
        fields[PARAM_PREFIX + name] = field
    return fields


def _action_choices() -> list[tuple[str, str]]:
    choices = []
    for key in actions.keys():  # noqa: SIM118  (a registry function, not a dict)
        action = actions.get(key)
        label = str(action.label)
        if action.unavailable_reason is not None:
            label = _("%(action)s (needs tech touch)") % {"action": label}
        choices.append((key, label))
    return choices


def _segment_choices() -> list[tuple[str, str]]:
    from kizuna.segments.models import Segment

    return [("", "—")] + [
        (str(pk), name) for pk, name in Segment.objects.order_by("name").values_list("pk", "name")
    ]


def _milestone_choices(blank: str) -> list[tuple[str, str]]:
    from kizuna.milestones.models import Milestone

    return [("", blank)] + [
        (str(pk), name) for pk, name in Milestone.objects.order_by("name").values_list("pk", "name")
    ]


def _weekday_choices() -> list[tuple[str, str]]:
    from kizuna.flows.builder import _weekday_names

    return [(str(index), name) for index, name in enumerate(_weekday_names())]


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class StepForm(forms.Form):
    """One step of any type; the fields are those of `kind` (and of the chosen action)."""

    kind = forms.ChoiceField(label=gettext_lazy("Step type"), choices=STEP_TYPES)
    step_id = forms.CharField(
        label=gettext_lazy("Step id"),
        required=False,
        max_length=40,
        help_text=gettext_lazy("Optional: letters, digits, '-' or '_'. Chosen for you if empty."),
    )
    label = forms.CharField(label=gettext_lazy("Label"), required=False, max_length=200)

    def __init__(
        self,
        data: Any = None,
        *,
        kind: str = "action",
        action: str = "",
        email_steps: list[tuple[str, str]] | None = None,
        is_new: bool = False,
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, initial=initial, prefix=None)
        self.use_required_attribute = False
        self.kind_value = kind if kind in dict(STEP_TYPES) else "action"
        self.is_new = is_new
        if not is_new:
            del self.fields["step_id"]
            self.fields["kind"].help_text = _("Changing the type keeps where the step leads.")
        if self.kind_value == "action":
            self.action_value = action or "cta.create"
            self.fields["action"] = forms.ChoiceField(label=_("Action"), choices=_action_choices())
            self.fields.update(param_fields(self.action_value))
        elif self.kind_value == "condition":
            self.fields["condition"] = ConditionField(
                label=_("Condition"), required=False, preview=False
            )
        elif self.kind_value == "wait":
            self.fields["delay_days"] = forms.IntegerField(
                label=_("Days"), required=False, min_value=0
            )
            self.fields["delay_hours"] = forms.IntegerField(
                label=_("Hours"), required=False, min_value=0
            )
            self.fields["delay_minutes"] = forms.IntegerField(
                label=_("Minutes"), required=False, min_value=0
            )
            self.fields["until"] = forms.DateTimeField(
                label=_("Or until"),
                required=False,
                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
            )
            self.fields["business_hours"] = forms.BooleanField(
                label=_("Then wait for business hours (the account's time zone)"), required=False
            )
            self.fields["weekdays"] = forms.MultipleChoiceField(
                label=_("Business days"),
                required=False,
                choices=_weekday_choices(),
                widget=forms.CheckboxSelectMultiple,
                initial=["0", "1", "2", "3", "4"],
            )
            self.fields["hours_start"] = forms.TimeField(
                label=_("From"),
                required=False,
                initial=datetime.time(9, 0),
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            )
            self.fields["hours_end"] = forms.TimeField(
                label=_("To"),
                required=False,
                initial=datetime.time(18, 0),
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            )
        else:
            self.fields["wait_for"] = forms.ChoiceField(
                label=_("Wait for"), choices=WaitFor.choices
            )
            self.fields["event"] = forms.CharField(label=_("Event"), required=False, max_length=200)
            self.fields["segment"] = forms.ChoiceField(
                label=_("Segment"), required=False, choices=_segment_choices()
            )
            self.fields["milestone"] = forms.ChoiceField(
                label=_("Milestone"), required=False, choices=_milestone_choices(_("Any milestone"))
            )
            self.fields["email_step"] = forms.ChoiceField(
                label=_("Email step"), required=False, choices=[("", "—"), *(email_steps or [])]
            )
            self.fields["within_days"] = forms.IntegerField(
                label=_("Within days"), required=False, min_value=0
            )
            self.fields["within_hours"] = forms.IntegerField(
                label=_("Within hours"), required=False, min_value=0
            )
            self.fields["within_minutes"] = forms.IntegerField(
                label=_("Within minutes"), required=False, min_value=0
            )

    @staticmethod
    def initial_from(step: dict[str, Any]) -> dict[str, Any]:
        """Form values from a stored step."""
        initial: dict[str, Any] = {"kind": step.get("type"), "label": step.get("label", "")}
        kind = step.get("type")
        if kind == "action":
            initial["action"] = step.get("action")
            for name, value in (step.get("params") or {}).items():
                initial[PARAM_PREFIX + name] = value
        elif kind == "condition":
            initial["condition"] = step.get("condition")
        elif kind == "wait":
            delay = step.get("delay") or {}
            initial.update(
                delay_days=delay.get("days") or None,
                delay_hours=delay.get("hours") or None,
                delay_minutes=delay.get("minutes") or None,
                until=step.get("until"),
            )
            hours = step.get("business_hours")
            if hours:
                initial.update(
                    business_hours=True,
                    weekdays=[str(day) for day in hours.get("weekdays", [])],
                    hours_start=hours.get("start"),
                    hours_end=hours.get("end"),
                )
        elif kind == "decision":
            spec = step.get("wait_for") or {}
            within = step.get("within") or {}
            initial.update(
                wait_for=spec.get("kind"),
                event=spec.get("event", ""),
                segment=spec.get("segment") or "",
                milestone=spec.get("milestone") or "",
                email_step=spec.get("step", ""),
                within_days=within.get("days") or None,
                within_hours=within.get("hours") or None,
                within_minutes=within.get("minutes") or None,
            )
        return initial

    def param_names(self) -> list[str]:
        return [name for name in self.fields if name.startswith(PARAM_PREFIX)]

    def to_step(self) -> dict[str, Any]:
        """The step dict (without id and links) from the cleaned data."""
        data = self.cleaned_data
        step: dict[str, Any] = {"type": self.kind_value}
        if data.get("label"):
            step["label"] = data["label"]
        if self.kind_value == "action":
            step["action"] = data.get("action") or self.action_value
            params: dict[str, Any] = {}
            for name in self.param_names():
                value = data.get(name)
                if value in (None, ""):
                    continue
                key = name.removeprefix(PARAM_PREFIX)
                if key in ("segment", "endpoint"):
                    value = _int(value)
                params[key] = value
            step["params"] = params
        elif self.kind_value == "condition":
            step["condition"] = data.get("condition") or {"and": []}
        elif self.kind_value == "wait":
            delay = {unit: data.get(f"delay_{unit}") or 0 for unit in ("days", "hours", "minutes")}
            if any(delay.values()):
                step["delay"] = delay
            if data.get("until"):
                step["until"] = data["until"].isoformat()
            if data.get("business_hours"):
                hours: dict[str, Any] = {
                    "weekdays": [int(day) for day in data.get("weekdays") or []]
                }
                if data.get("hours_start"):
                    hours["start"] = data["hours_start"].strftime("%H:%M")
                if data.get("hours_end"):
                    hours["end"] = data["hours_end"].strftime("%H:%M")
                step["business_hours"] = hours
        else:
            spec: dict[str, Any] = {"kind": data.get("wait_for")}
            if data.get("event"):
                spec["event"] = data["event"]
            if data.get("segment"):
                spec["segment"] = _int(data["segment"])
            if data.get("milestone"):
                spec["milestone"] = _int(data["milestone"])
            if data.get("email_step"):
                spec["step"] = data["email_step"]
            step["wait_for"] = spec
            within = {
                unit: data.get(f"within_{unit}") or 0 for unit in ("days", "hours", "minutes")
            }
            if any(within.values()):
                step["within"] = within
        return step


def _stage_choices() -> list[tuple[str, str]]:
    from kizuna.customers.choices import LifecycleStage

    return [(str(value), str(label)) for value, label in LifecycleStage.choices]


def _band_choices() -> list[tuple[str, str]]:
    labels = {
        "red": _("Red"),
        "yellow": _("Yellow"),
        "green": _("Green"),
        "none": _("No score"),
    }
    return [(band, labels[band]) for band in BANDS]


PROPERTY_OPS = {
    "=": "eq",
    "!=": "ne",
    ">": "gt",
    "<": "lt",
    "contains": "contains",
    "exists": "exists",
}


def _property_value(raw: str) -> Any:
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        number = float(raw)
    except ValueError:
        return raw.strip()
    return int(number) if number.is_integer() and "." not in raw else number


def parse_properties(text: str) -> list[dict[str, Any]]:
    """Property filters written one per line ("seconds > 30"); a line that cannot be read is
    refused with its number."""
    filters: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(None, 2)
        if len(parts) < 2 or parts[1] not in PROPERTY_OPS:
            raise forms.ValidationError(
                _(
                    "Line %(n)d: write a property, an operator "
                    "(= != > < contains exists) and a value."
                )
                % {"n": number}
            )
        op = PROPERTY_OPS[parts[1]]
        if op != "exists" and len(parts) < 3:
            raise forms.ValidationError(
                _("Line %(n)d: give a value to compare with.") % {"n": number}
            )
        value = _property_value(parts[2]) if len(parts) == 3 else None
        if op in ("gt", "lt") and not isinstance(value, int | float):
            raise forms.ValidationError(_("Line %(n)d: > and < compare numbers.") % {"n": number})
        filters.append({"key": parts[0], "op": op, "value": value})
    return filters


def format_properties(filters: list[dict[str, Any]]) -> str:
    names = {op: symbol for symbol, op in PROPERTY_OPS.items()}
    lines = []
    for rule in filters:
        value = rule.get("value")
        shown = (
            "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        )
        lines.append(f"{rule['key']} {names.get(rule.get('op', 'eq'), '=')} {shown}".rstrip())
    return "\n".join(lines)


class FlowSettingsForm(forms.Form):
    """The flow's name, its trigger, who may enter, when accounts leave, re-entry and the
    hold-out share."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    trigger_type = forms.ChoiceField(label=gettext_lazy("Trigger"), choices=TriggerType.choices)
    event = forms.CharField(
        label=gettext_lazy("Event"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("“$login” means any of the events counted as a login."),
    )
    occurrence = forms.IntegerField(
        label=gettext_lazy("On occurrence number"),
        required=False,
        min_value=1,
        help_text=gettext_lazy("2: the second time it is received. Empty: every time."),
    )
    per = forms.ChoiceField(
        label=gettext_lazy("Counted per"),
        required=False,
        choices=[("account", gettext_lazy("Account")), ("contact", gettext_lazy("Contact"))],
    )
    properties = forms.CharField(
        label=gettext_lazy("Only when the event's properties match"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "path = /settings\nseconds > 30"}),
        help_text=gettext_lazy(
            "One per line: a property, then = != > < contains or exists, then a value "
            "(true and false are yes/no)."
        ),
    )
    segment = forms.ChoiceField(label=gettext_lazy("Segment"), required=False)
    bands_from = forms.MultipleChoiceField(
        label=gettext_lazy("From band"), required=False, widget=forms.CheckboxSelectMultiple
    )
    bands_to = forms.MultipleChoiceField(
        label=gettext_lazy("To band"), required=False, widget=forms.CheckboxSelectMultiple
    )
    stages_from = forms.MultipleChoiceField(
        label=gettext_lazy("From stage"), required=False, widget=forms.CheckboxSelectMultiple
    )
    stages_to = forms.MultipleChoiceField(
        label=gettext_lazy("To stage"), required=False, widget=forms.CheckboxSelectMultiple
    )
    milestone = forms.ChoiceField(label=gettext_lazy("Milestone"), required=False)
    date_field = forms.ChoiceField(
        label=gettext_lazy("Date"), required=False, choices=[("", "—"), *DateField.choices]
    )
    offset_days = forms.IntegerField(
        label=gettext_lazy("Days from the date"),
        required=False,
        help_text=gettext_lazy("Negative: before the date (-90: 90 days before renewal)."),
    )
    every = forms.ChoiceField(
        label=gettext_lazy("Every"),
        required=False,
        choices=[
            ("", "—"),
            ("day", gettext_lazy("Day")),
            ("week", gettext_lazy("Week")),
            ("month", gettext_lazy("Month")),
        ],
    )
    at = forms.TimeField(
        label=gettext_lazy("At"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    weekday = forms.ChoiceField(label=gettext_lazy("On weekday"), required=False)
    day = forms.IntegerField(
        label=gettext_lazy("On day of the month"), required=False, min_value=1, max_value=28
    )
    audience = ConditionField(
        label=gettext_lazy("Who may enter (audience)"),
        required=False,
        help_text=gettext_lazy("No conditions: every account the trigger fires for."),
    )
    exit = ConditionField(
        label=gettext_lazy("Leave the flow early when"),
        required=False,
        preview=False,
        help_text=gettext_lazy("No conditions: accounts stay until the last step."),
    )
    reentry = forms.ChoiceField(label=gettext_lazy("Re-entry"), choices=Reentry.choices)
    reentry_days = forms.IntegerField(
        label=gettext_lazy("Again after days"), required=False, min_value=1, initial=30
    )
    holdout_percent = forms.IntegerField(
        label=gettext_lazy("Hold-out group (%)"),
        required=False,
        min_value=0,
        max_value=50,
        initial=0,
        help_text=gettext_lazy(
            "A share of entering accounts runs no step, to measure whether the flow works."
        ),
    )

    TRIGGER_FIELDS = {
        "event": ("event", "occurrence", "per", "properties"),
        "segment_entered": ("segment",),
        "segment_exited": ("segment",),
        "health_band_changed": ("bands_from", "bands_to"),
        "stage_changed": ("stages_from", "stages_to"),
        "milestone_reached": ("milestone",),
        "milestone_overdue": ("milestone",),
        "date": ("date_field", "offset_days"),
        "schedule": ("every", "at", "weekday", "day"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.use_required_attribute = False
        choices = {
            "segment": _segment_choices(),
            "milestone": _milestone_choices(_("Any milestone")),
            "bands_from": _band_choices(),
            "bands_to": _band_choices(),
            "stages_from": _stage_choices(),
            "stages_to": _stage_choices(),
            "weekday": _weekday_choices(),
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options

    def clean_properties(self) -> list[dict[str, Any]]:
        return parse_properties(self.cleaned_data.get("properties") or "")

    def trigger_groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The trigger-specific inputs, grouped with the trigger types they belong to (the
        page shows only the chosen type's group)."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for kind, names in self.TRIGGER_FIELDS.items():
            groups.setdefault(names, []).append(kind)
        return [
            (" ".join(kinds), [self[name] for name in names]) for names, kinds in groups.items()
        ]

    @staticmethod
    def initial_from(name: str, description: str, definition: dict[str, Any]) -> dict[str, Any]:
        trigger = definition.get("trigger") or {}
        reentry = definition.get("reentry") or {}
        kind = trigger.get("type", "event")
        initial: dict[str, Any] = {
            "name": name,
            "description": description,
            "trigger_type": kind,
            "audience": definition.get("audience") or {"and": []},
            "exit": definition.get("exit") or {"and": []},
            "reentry": reentry.get("mode", Reentry.ONCE),
            "reentry_days": reentry.get("after_days", 30),
            "holdout_percent": definition.get("holdout_percent", 0),
        }
        if kind == "event":
            initial.update(
                event=trigger.get("event"),
                occurrence=trigger.get("occurrence"),
                per=trigger.get("per", "account"),
                properties=format_properties(trigger.get("properties") or []),
            )
        elif kind in ("segment_entered", "segment_exited"):
            initial["segment"] = trigger.get("segment")
        elif kind == "health_band_changed":
            initial.update(bands_from=trigger.get("from", []), bands_to=trigger.get("to", []))
        elif kind == "stage_changed":
            initial.update(stages_from=trigger.get("from", []), stages_to=trigger.get("to", []))
        elif kind in ("milestone_reached", "milestone_overdue"):
            initial["milestone"] = trigger.get("milestone") or ""
        elif kind == "date":
            initial.update(date_field=trigger.get("field"), offset_days=trigger.get("offset_days"))
        elif kind == "schedule":
            initial.update(
                every=trigger.get("every"),
                at=trigger.get("at"),
                weekday=str(trigger.get("weekday", 0)),
                day=trigger.get("day"),
            )
        return initial

    def trigger(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data["trigger_type"]
        trigger: dict[str, Any] = {"type": kind}
        if kind == "event":
            trigger["event"] = data.get("event") or ""
            if data.get("occurrence"):
                trigger["occurrence"] = data["occurrence"]
            trigger["per"] = data.get("per") or "account"
            if data.get("properties"):
                trigger["properties"] = data["properties"]
        elif kind in ("segment_entered", "segment_exited"):
            trigger["segment"] = _int(data.get("segment"))
        elif kind == "health_band_changed":
            trigger.update({"from": data.get("bands_from") or [], "to": data.get("bands_to") or []})
        elif kind == "stage_changed":
            trigger.update(
                {"from": data.get("stages_from") or [], "to": data.get("stages_to") or []}
            )
        elif kind in ("milestone_reached", "milestone_overdue"):
            trigger["milestone"] = _int(data.get("milestone"))
        elif kind == "date":
            trigger["field"] = data.get("date_field") or None
            trigger["offset_days"] = data.get("offset_days")
        else:
            trigger["every"] = data.get("every") or None
            if data.get("at"):
                trigger["at"] = data["at"].strftime("%H:%M")
            trigger["weekday"] = _int(data.get("weekday")) or 0
            if data.get("day"):
                trigger["day"] = data["day"]
        return trigger

    def definition_parts(self) -> dict[str, Any]:
        """Everything of the definition but the steps."""
        data = self.cleaned_data

        def tree(value: Any) -> Any:
            if not value or value in ({"and": []}, {"or": []}):
                return None
            return value

        reentry: dict[str, Any] = {"mode": data["reentry"]}
        if data["reentry"] == Reentry.AGAIN:
            reentry["after_days"] = data.get("reentry_days") or 30
        return {
            "trigger": self.trigger(),
            "audience": tree(data.get("audience")),
            "exit": tree(data.get("exit")),
            "reentry": reentry,
            "holdout_percent": data.get("holdout_percent") or 0,
        }


EMPTY_DEFINITION: dict[str, Any] = {
    "trigger": {"type": "event", "event": LOGIN, "occurrence": 1},
    "start": None,
    "steps": [],
}
