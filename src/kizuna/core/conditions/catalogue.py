"""What the condition builder offers, in the request's language: every registered metric by
category, with its parameters as simple form inputs, the operators its value type allows and,
for a choice, the values it takes.

The builder never guesses: the metric registry is the only source, so a metric an app
registers appears in every builder (segments, tiers, stage rules, flows) without a change
here. Parameters come from the metric's pydantic schema: numbers with their bounds, enums and
Literals as lists, texts; `Metric.param_choices` supplies lists that live in the database
(custom fields, segments) and `Metric.param_labels` names a parameter when its name says too
little.

Shape of `build()` (one metric shown)::

    {"operators": {"number": [{"op": "gte", "label": "is at least", "arity": "one"}, …], …},
     "categories": [{"label": "Usage", "metrics": [
         {"key": "usage.logins", "label": "Logins", "unit": "", "historical": true,
          "params": [{"name": "days", "label": "Days", "input": "number", "type": "integer",
                      "min": 1, "max": 365, "default": 30, "required": false, "options": null}],
          "value_type": "number", "choices": null}]}]}

`value_type` and `choices` are those of the default parameters (null when the parameters
have no usable default); `resolve()` gives them for other parameters (a custom field's type
depends on which field).
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Literal

import pydantic
from django.db.models import Choices
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic_core import PydanticUndefined

from kizuna.core.conditions import metrics
from kizuna.core.conditions.metrics import Metric, ValueType
from kizuna.core.conditions.tree import OPERATORS, operator_labels

# Labels of parameter names several metrics share; a metric's `param_labels` wins.
COMMON_PARAM_LABELS: dict[str, str | Promise] = {
    "days": _("Days"),
    "event": _("Event"),
    "kind": _("Type"),
    "rating": _("Rating"),
    "field": _("Field"),
    "of": _("Of"),
    "segment": _("Segment"),
    "scorecard": _("Scorecard"),
    "group": _("Group"),
    "stage": _("Stage"),
    "tier": _("Tier"),
}

type InputKind = Literal["number", "text", "select", "checkbox"]
type JsonType = Literal["integer", "number", "string", "boolean"]


@dataclass(frozen=True)
class ParamInput:
    """One parameter as a form input."""

    name: str
    label: str
    input: InputKind
    # The JSON type the value is sent as (a select of segment ids sends integers).
    type: JsonType
    required: bool
    default: Any = None
    min: float | None = None
    max: float | None = None
    # (value, label) pairs for a select.
    options: list[tuple[Any, str]] | None = None


@dataclass(frozen=True)
class Resolved:
    """A metric's value type, operators and choices for given parameters, or why the
    parameters are not valid (`error_path` relative to the leaf, e.g. ``params.field``)."""

    value_type: str | None
    operators: list[dict[str, str]]
    choices: list[tuple[str, str]] | None
    description: str
    error: str = ""
    error_path: str = ""


def operators_for(value_type: ValueType) -> list[dict[str, str]]:
    labels = operator_labels()
    return [
        {"op": op, "label": labels.get(op, op), "arity": arity}
        for op, arity in OPERATORS[value_type].items()
    ]


def _humanise(name: Any) -> str:
    return str(name).replace("_", " ").capitalize()


def _without_none(annotation: Any) -> Any:
    """`X | None` → X (a parameter that may be left empty)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _schema_options(annotation: Any) -> list[tuple[Any, str]] | None:
    if typing.get_origin(annotation) is Literal:
        return [(value, _humanise(value)) for value in typing.get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        if issubclass(annotation, Choices):
            return [(member.value, str(member.label)) for member in annotation]
        return [(member.value, _humanise(member.value)) for member in annotation]
    return None


def _json_type(annotation: Any, options: Sequence[tuple[Any, str]] | None) -> JsonType:
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if annotation in (float, Decimal):
        return "number"
    if options and all(isinstance(value, int) for value, _label in options):
        return "integer"
    return "string"


def _bound(schema: Mapping[str, Any], *keys: str) -> float | None:
    for key in keys:
        if key in schema:
            return float(schema[key])
    return None


def param_inputs(metric: Metric) -> list[ParamInput]:
    """The metric's parameters as form inputs, in the schema's order."""
    model: type[pydantic.BaseModel] = metric.Params
    schema = model.model_json_schema()
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    inputs: list[ParamInput] = []
    for name, info in model.model_fields.items():
        annotation = _without_none(info.annotation)
        options = metric.param_choices(name)
        listed = list(options) if options is not None else _schema_options(annotation)
        json_type = _json_type(annotation, listed)
        kind: InputKind
        if listed is not None:
            kind = "select"
        elif json_type == "boolean":
            kind = "checkbox"
        elif json_type in ("integer", "number"):
            kind = "number"
        else:
            kind = "text"
        default = None if info.default is PydanticUndefined else info.default
        if isinstance(default, enum.Enum):
            default = default.value
        bounds = properties.get(name, {})
        inputs.append(
            ParamInput(
                name=name,
                label=str(
                    metric.param_labels.get(name)
                    or COMMON_PARAM_LABELS.get(name)
                    or _humanise(name)
                ),
                input=kind,
                type=json_type,
                required=name in required,
                default=default,
                min=_bound(bounds, "minimum", "exclusiveMinimum") if kind == "number" else None,
                max=_bound(bounds, "maximum", "exclusiveMaximum") if kind == "number" else None,
                options=listed,
            )
        )
    return inputs


def resolve(metric: Metric, raw_params: Any, *, check: bool = True) -> Resolved:
    """Value type, operators and choices of `metric` with `raw_params` (as in a tree)."""
    try:
        params = metric.parse(raw_params)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return Resolved(
            value_type=None,
            operators=[],
            choices=None,
            description=str(metric.label),
            error=gettext("Invalid parameter: %s.") % first["msg"],
            error_path=f"params.{where}" if where else "params",
        )
    if check:
        try:
            metric.check(params)
        except ValueError as exc:
            return Resolved(None, [], None, str(metric.label), str(exc), "params")
    value_type = metric.value_type(params)
    choices = (
        [(value, str(label)) for value, label in metric.choices(params)]
        if value_type is ValueType.CHOICE
        else None
    )
    return Resolved(
        value_type=value_type.value,
        operators=operators_for(value_type),
        choices=choices,
        description=metric.describe(params),
    )


def resolve_key(key: str, raw_params: Any) -> Resolved:
    """`resolve` by metric key; an unknown key is an error, like in a tree."""
    metric = metrics.get(key)
    if metric is None:
        return Resolved(None, [], None, key, gettext("Unknown metric “%s”.") % key, "metric")
    return resolve(metric, raw_params)


def metric_entry(metric: Metric) -> dict[str, Any]:
    inputs = param_inputs(metric)
    # The default parameters' type, so that most rows need no round trip; a metric whose
    # parameters have no usable default (which custom field?) is resolved once they are set.
    defaults = {param.name: param.default for param in inputs if param.default is not None}
    resolved = resolve(metric, defaults, check=False)
    return {
        "key": metric.key,
        "label": str(metric.label),
        "unit": str(metric.unit),
        "historical": metric.historical,
        "params": [asdict(param) for param in inputs],
        "value_type": resolved.value_type,
        "choices": resolved.choices,
    }


def build() -> dict[str, Any]:
    """The whole catalogue (see the module docstring), labels in the active language."""
    categories: dict[str, list[dict[str, Any]]] = {}
    for metric in metrics.all_metrics():
        categories.setdefault(str(metric.category), []).append(metric_entry(metric))
    return {
        "operators": {value_type.value: operators_for(value_type) for value_type in ValueType},
        "categories": [
            {"label": label, "metrics": entries} for label, entries in categories.items()
        ],
    }
