"""The shape of a scorecard definition (`ScorecardVersion.definition`) and its validation.

Example::

    {
      "bands": {"red_below": 40, "green_from": 70},
      "groups": [
        {"key": "usage", "label_ja": "利用状況", "label_en": "Usage", "weight": 60,
         "measures": [
           {"key": "login_rate", "label_ja": "ログイン率", "label_en": "Login rate",
            "weight": 70,
            "metric": {"metric": "usage.login_rate", "params": {"days": 30}},
            "mapping": {"kind": "linear", "from": 10, "to": 60}},
           {"key": "days_since_seen", "label_ja": "最終利用からの日数",
            "label_en": "Days since last seen", "weight": 30,
            "metric": {"metric": "usage.days_since_last_seen", "params": {}},
            "mapping": {"kind": "bands", "bands": [{"min": 0, "points": 100},
                                                    {"min": 7, "points": 50},
                                                    {"min": 30, "points": 0}]}}
         ]},
        {"key": "relationship", "label_ja": "関係性", "label_en": "Relationship", "weight": 40,
         "measures": [
           {"key": "last_rating", "label_ja": "直近の接点評価", "label_en": "Last touchpoint",
            "weight": 100,
            "metric": {"metric": "touchpoint.last_rating", "params": {}},
            "mapping": {"kind": "choices",
                        "points": {"very_good": 100, "good": 70, "poor": 0}}}
         ]}
      ]
    }

Scores below ``red_below`` are red, from ``green_from`` green, yellow in between. Group
weights add up to 100, and so do the measure weights of each group. Mappings turn a
measure's value into 0–100 points:

- ``linear``: ``from`` gives 0 points, ``to`` 100, linear in between and clamped outside;
  ``from`` above ``to`` means lower is better. For number metrics.
- ``bands``: the points of the highest band whose ``min`` the value reaches; a value below
  every band gets the first band's points. For number metrics.
- ``choices``: points per value of a choice (or text) metric; a value not listed counts as
  no data.
- ``boolean``: points for yes and for no. For yes/no metrics.

A measure without a value (no contract, never seen, field empty) has no points: its weight
goes to the measures of its group that have one, and a group without any gives its weight
to the other groups.
"""

from __future__ import annotations

import itertools
import re
from typing import Annotated, Any, Literal

import pydantic
from django.utils.translation import gettext as _

from kizuna.core.conditions import metrics
from kizuna.core.conditions.metrics import Metric, ValueType

KEY_PATTERN = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
MAX_GROUPS = 8
MAX_MEASURES = 40
# Weights are compared with this tolerance (they may be typed with decimals).
WEIGHT_TOLERANCE = 0.01

Key = Annotated[str, pydantic.Field(min_length=1, max_length=40, pattern=KEY_PATTERN)]
Label = Annotated[str, pydantic.Field(max_length=100)]
Points = Annotated[float, pydantic.Field(ge=0, le=100, allow_inf_nan=False)]
Weight = Annotated[float, pydantic.Field(gt=0, le=100, allow_inf_nan=False)]
Number = Annotated[float, pydantic.Field(allow_inf_nan=False)]


class Schema(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class LinearMapping(Schema):
    kind: Literal["linear"]
    from_: Number = pydantic.Field(alias="from")
    to: Number

    model_config = pydantic.ConfigDict(populate_by_name=True)

    @pydantic.model_validator(mode="after")
    def _distinct(self) -> LinearMapping:
        if self.from_ == self.to:
            raise ValueError(_("“from” and “to” must differ."))
        return self


class Band(Schema):
    min: Number
    points: Points


class BandsMapping(Schema):
    kind: Literal["bands"]
    bands: list[Band] = pydantic.Field(min_length=1, max_length=20)

    @pydantic.field_validator("bands")
    @classmethod
    def _increasing(cls, bands: list[Band]) -> list[Band]:
        for before, after in itertools.pairwise(bands):
            if after.min <= before.min:
                raise ValueError(_("Each band must start above the one before it."))
        return bands


class ChoicesMapping(Schema):
    kind: Literal["choices"]
    points: dict[Annotated[str, pydantic.Field(min_length=1, max_length=200)], Points] = (
        pydantic.Field(min_length=1, max_length=50)
    )


class BooleanMapping(Schema):
    kind: Literal["boolean"]
    true: Points
    false: Points


Mapping = Annotated[
    LinearMapping | BandsMapping | ChoicesMapping | BooleanMapping,
    pydantic.Field(discriminator="kind"),
]


class MetricRef(Schema):
    metric: str = pydantic.Field(min_length=1, max_length=100)
    params: dict[str, Any] = pydantic.Field(default_factory=dict)


class Measure(Schema):
    key: Key
    label_ja: Label = ""
    label_en: Label = ""
    weight: Weight
    metric: MetricRef
    mapping: Mapping

    def label(self, language: str | None = None) -> str:
        return label_of(self.label_ja, self.label_en, self.key, language)


class Group(Schema):
    key: Key
    label_ja: Label = ""
    label_en: Label = ""
    weight: Weight
    measures: list[Measure] = pydantic.Field(min_length=1, max_length=MAX_MEASURES)

    def label(self, language: str | None = None) -> str:
        return label_of(self.label_ja, self.label_en, self.key, language)


class Bands(Schema):
    red_below: Points
    green_from: Points

    @pydantic.model_validator(mode="after")
    def _ordered(self) -> Bands:
        if self.red_below > self.green_from:
            raise ValueError(_("“red below” cannot be above “green from”."))
        return self


class Definition(Schema):
    bands: Bands
    groups: list[Group] = pydantic.Field(min_length=1, max_length=MAX_GROUPS)

    def measures(self) -> list[tuple[Group, Measure]]:
        return [(group, measure) for group in self.groups for measure in group.measures]

    def measure(self, key: str) -> Measure | None:
        return next((m for _g, m in self.measures() if m.key == key), None)

    def band_for(self, score: float | None) -> str:
        if score is None:
            return "none"
        if score < self.bands.red_below:
            return "red"
        if score >= self.bands.green_from:
            return "green"
        return "yellow"

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def label_of(ja: str, en: str, key: str, language: str | None = None) -> str:
    """The label in the current language, else the other one, else the key."""
    from django.utils.translation import get_language

    language = language or get_language() or "ja"
    first, second = (ja, en) if language.startswith("ja") else (en, ja)
    return first or second or key


# --- Validation ------------------------------------------------------------------------------


class DefinitionError(ValueError):
    """An invalid definition. `path` says where, e.g. ``groups[1].measures[0].weight``."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


def _path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


# Pydantic reports the tag of a discriminated union as a path step; people know it as the
# mapping, not as "linear" or "bands".
_TAGS = {"linear", "bands", "choices", "boolean"}


def _pydantic_error(exc: pydantic.ValidationError) -> DefinitionError:
    first = exc.errors()[0]
    location = tuple(first["loc"])
    cleaned: list[int | str] = []
    for index, part in enumerate(location):
        if part in _TAGS and index > 0 and location[index - 1] == "mapping":
            continue
        cleaned.append("from" if part == "from_" else part)
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "union_tag_invalid":
        message = _("Unknown mapping kind; use one of: linear, bands, choices, boolean.")
        cleaned.append("kind")
    elif first["type"] == "union_tag_not_found":
        message = _("A mapping needs a “kind”: linear, bands, choices or boolean.")
        cleaned.append("kind")
    elif first["type"] == "missing":
        message = _("This field is required.")
    elif first["type"] == "extra_forbidden":
        message = _("Unknown field.")
    else:
        message = _readable(first["type"], first.get("ctx") or {}) or message
    return DefinitionError(_path(tuple(cleaned)), message)


def _readable(kind: str, ctx: dict[str, Any]) -> str:
    """Pydantic's commonest messages in people's words (and the request's language)."""
    if kind in ("float_parsing", "float_type", "finite_number"):
        return _("Enter a number.")
    if kind == "greater_than":
        return _("Must be more than %s.") % ctx.get("gt")
    if kind == "greater_than_equal":
        return _("Must be at least %s.") % ctx.get("ge")
    if kind == "less_than_equal":
        return _("Must be at most %s.") % ctx.get("le")
    if kind == "string_pattern_mismatch":
        return _("Use lower-case letters, digits and single underscores, starting with a letter.")
    if kind == "string_too_short":
        return _("This field is required.")
    if kind == "string_too_long":
        return _("At most %s characters.") % ctx.get("max_length")
    if kind == "too_short":
        return _("Add at least one.")
    if kind == "too_long":
        return _("Too many: at most %s.") % ctx.get("max_length")
    return ""


# Which mapping kinds fit which value type.
KINDS: dict[ValueType, tuple[str, ...]] = {
    ValueType.NUMBER: ("linear", "bands"),
    ValueType.CHOICE: ("choices",),
    ValueType.TEXT: ("choices",),
    ValueType.BOOLEAN: ("boolean",),
}


def parse(raw: Any, *, check: bool = True) -> Definition:
    """Validate a definition and return it parsed. Raises DefinitionError naming where it
    is wrong: the structure, unique keys, weights adding up to 100, every metric known with
    valid parameters (and, with `check`, the database checks: the custom field exists…),
    and each mapping fitting its metric's kind of value."""
    if not isinstance(raw, dict):
        raise DefinitionError("", _("A scorecard definition must be an object."))
    try:
        definition = Definition.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise _pydantic_error(exc) from exc
    _check_keys(definition)
    _check_weights(definition)
    for g, group in enumerate(definition.groups):
        for m, measure in enumerate(group.measures):
            _check_measure(measure, f"groups[{g}].measures[{m}]", check)
    return definition


def _check_keys(definition: Definition) -> None:
    seen_groups: set[str] = set()
    seen_measures: set[str] = set()
    count = 0
    for g, group in enumerate(definition.groups):
        if group.key in seen_groups:
            raise DefinitionError(
                f"groups[{g}].key", _("Two groups have the key “%s”.") % group.key
            )
        seen_groups.add(group.key)
        for m, measure in enumerate(group.measures):
            count += 1
            if measure.key in seen_measures:
                raise DefinitionError(
                    f"groups[{g}].measures[{m}].key",
                    _("Two measures have the key “%s”; measure keys are unique in a scorecard.")
                    % measure.key,
                )
            seen_measures.add(measure.key)
    if count > MAX_MEASURES:
        raise DefinitionError("groups", _("A scorecard has at most %d measures.") % MAX_MEASURES)


def _total(weights: list[float]) -> float:
    return round(sum(weights), 4)


def _check_weights(definition: Definition) -> None:
    total = _total([group.weight for group in definition.groups])
    if abs(total - 100) > WEIGHT_TOLERANCE:
        raise DefinitionError(
            "groups",
            _("The group weights add up to %(total)s; they must add up to 100.")
            % {"total": _number(total)},
        )
    for g, group in enumerate(definition.groups):
        total = _total([measure.weight for measure in group.measures])
        if abs(total - 100) > WEIGHT_TOLERANCE:
            raise DefinitionError(
                f"groups[{g}].measures",
                _(
                    "The measure weights of group “%(group)s” add up to %(total)s; "
                    "they must add up to 100."
                )
                % {"group": group.label(), "total": _number(total)},
            )


def _number(value: float) -> str:
    return f"{value:g}"


def resolve(measure: Measure, *, check: bool = False) -> tuple[Metric, Any]:
    """The measure's metric and parsed parameters (raises DefinitionError, path relative to
    the measure)."""
    metric = metrics.get(measure.metric.metric)
    if metric is None:
        raise DefinitionError("metric.metric", _("Unknown metric “%s”.") % measure.metric.metric)
    if "health" in metric.depends_on or metric.key.startswith("health."):
        raise DefinitionError(
            "metric.metric", _("A scorecard cannot use the health score as a measure.")
        )
    try:
        params = metric.parse(measure.metric.params)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise DefinitionError(
            f"metric.params.{where}" if where else "metric.params",
            _("Invalid parameter: %s.") % first["msg"],
        ) from exc
    if check:
        try:
            metric.check(params)
        except ValueError as exc:
            raise DefinitionError("metric.params", str(exc)) from exc
    return metric, params


def _check_measure(measure: Measure, path: str, check: bool) -> None:
    try:
        metric, params = resolve(measure, check=check)
    except DefinitionError as exc:
        raise DefinitionError(f"{path}.{exc.path}", exc.message) from exc
    value_type = metric.value_type(params)
    kind = measure.mapping.kind
    allowed = KINDS[value_type]
    if kind not in allowed:
        raise DefinitionError(
            f"{path}.mapping.kind",
            _(
                "A “%(kind)s” mapping does not fit “%(metric)s”, whose values are "
                "%(type)s; use: %(allowed)s."
            )
            % {
                "kind": kind,
                "metric": metric.describe(params),
                "type": value_type.value,
                "allowed": ", ".join(allowed),
            },
        )
    if isinstance(measure.mapping, ChoicesMapping) and value_type is ValueType.CHOICE:
        known = {value for value, _label in metric.choices(params)}
        for value in measure.mapping.points:
            if value not in known:
                raise DefinitionError(
                    f"{path}.mapping.points.{value}",
                    _("“%(value)s” is not one of: %(known)s.")
                    % {"value": value, "known": ", ".join(sorted(known))},
                )


def is_key(text: str) -> bool:
    return re.match(KEY_PATTERN, text) is not None
