"""The scorecard editor's form: a definition as rows of inputs (no JSON typing), read back
into a definition, and the small edits the editor's buttons make (add a group, remove a
band…). The server renders every row, so a metric's parameters, the mapping kinds that fit
its values and a choice metric's answers come from the metric registry (through the
condition builder's catalogue), never from a copy in JavaScript.

Input names, for group i, measure j, band k, answer n::

    d-red_below, d-green_from, d-groups (count)
    d-g{i}-key / -label_ja / -label_en / -weight / -measures (count)
    d-g{i}-m{j}-key / -label_ja / -label_en / -weight / -metric / -p-{param}
    d-g{i}-m{j}-kind / -from / -to / -true / -false
    d-g{i}-m{j}-bands (count), d-g{i}-m{j}-b{k}-min / -points
    d-g{i}-m{j}-choices (count), d-g{i}-m{j}-c{n}-value / -points
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from kizuna.core.conditions import metrics
from kizuna.core.conditions.metrics import ValueType
from kizuna.health.definition import KINDS, label_of

PREFIX = "d-"
MAX_ROWS = 40
DEFAULT_METRIC = "usage.login_rate"


def _number(raw: str | None) -> Any:
    """A typed number, or the text itself so that validation names it ("not a number");
    empty is missing."""
    if raw is None:
        return None
    text = raw.strip().replace(",", "")
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return raw.strip()
    return int(value) if value.is_integer() and "." not in text else value


def _count(data: Mapping[str, Any], name: str) -> int:
    try:
        return max(0, min(int(str(data.get(name, "0"))), MAX_ROWS))
    except ValueError:
        return 0


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


def _params(data: Mapping[str, Any], prefix: str, metric_key: str) -> dict[str, Any]:
    from kizuna.core.conditions import catalogue

    metric = metrics.get(metric_key)
    if metric is None:
        return {}
    params: dict[str, Any] = {}
    for param in catalogue.param_inputs(metric):
        raw = data.get(f"{prefix}-p-{param.name}")
        if param.input == "checkbox":
            if raw is not None:
                params[param.name] = raw in ("on", "true", "1")
            continue
        if raw is None or str(raw).strip() == "":
            continue
        if param.type in ("integer", "number"):
            params[param.name] = _number(str(raw))
        else:
            params[param.name] = str(raw).strip()
    return params


def _mapping(data: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    kind = str(data.get(f"{prefix}-kind", "")).strip()
    mapping: dict[str, Any] = {"kind": kind}
    if kind == "linear":
        _put(mapping, "from", _number(data.get(f"{prefix}-from")))
        _put(mapping, "to", _number(data.get(f"{prefix}-to")))
    elif kind == "bands":
        bands = []
        for k in range(_count(data, f"{prefix}-bands")):
            band: dict[str, Any] = {}
            _put(band, "min", _number(data.get(f"{prefix}-b{k}-min")))
            _put(band, "points", _number(data.get(f"{prefix}-b{k}-points")))
            if band:
                bands.append(band)
        mapping["bands"] = bands
    elif kind == "choices":
        points: dict[str, Any] = {}
        for n in range(_count(data, f"{prefix}-choices")):
            value = str(data.get(f"{prefix}-c{n}-value", "")).strip()
            given = _number(data.get(f"{prefix}-c{n}-points"))
            if value and given is not None:
                points[value] = given
        mapping["points"] = points
    elif kind == "boolean":
        _put(mapping, "true", _number(data.get(f"{prefix}-true")))
        _put(mapping, "false", _number(data.get(f"{prefix}-false")))
    return mapping


def read(data: Mapping[str, Any]) -> dict[str, Any]:
    """The definition the editor's inputs describe (not validated: `definition.parse`
    does that and names where it is wrong)."""
    bands: dict[str, Any] = {}
    _put(bands, "red_below", _number(data.get(f"{PREFIX}red_below")))
    _put(bands, "green_from", _number(data.get(f"{PREFIX}green_from")))
    groups = []
    for i in range(_count(data, f"{PREFIX}groups")):
        g = f"{PREFIX}g{i}"
        group: dict[str, Any] = {
            "key": str(data.get(f"{g}-key", "")).strip(),
            "label_ja": str(data.get(f"{g}-label_ja", "")).strip(),
            "label_en": str(data.get(f"{g}-label_en", "")).strip(),
        }
        _put(group, "weight", _number(data.get(f"{g}-weight")))
        measures = []
        for j in range(_count(data, f"{g}-measures")):
            m = f"{g}-m{j}"
            metric_key = str(data.get(f"{m}-metric", "")).strip()
            measure: dict[str, Any] = {
                "key": str(data.get(f"{m}-key", "")).strip(),
                "label_ja": str(data.get(f"{m}-label_ja", "")).strip(),
                "label_en": str(data.get(f"{m}-label_en", "")).strip(),
            }
            _put(measure, "weight", _number(data.get(f"{m}-weight")))
            measure["metric"] = {"metric": metric_key, "params": _params(data, m, metric_key)}
            measure["mapping"] = _mapping(data, m)
            measures.append(measure)
        group["measures"] = measures
        groups.append(group)
    return {"bands": bands, "groups": groups}


# --- Edits made by the editor's buttons -----------------------------------------------------------


def _free_key(taken: set[str], stem: str) -> str:
    n = 1
    while f"{stem}_{n}" in taken:
        n += 1
    return f"{stem}_{n}"


def _measure_keys(raw: dict[str, Any]) -> set[str]:
    return {
        str(measure.get("key"))
        for group in raw.get("groups", [])
        for measure in group.get("measures", [])
    }


def _remaining(weights: list[Any]) -> float:
    total = sum(w for w in weights if isinstance(w, int | float))
    rest = round(100 - total, 2)
    return rest if rest > 0 else 0


def new_measure(raw: dict[str, Any], group: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": _free_key(_measure_keys(raw), "measure"),
        "label_ja": "",
        "label_en": "",
        "weight": _remaining([m.get("weight") for m in group.get("measures", [])]) or 100,
        "metric": {"metric": DEFAULT_METRIC, "params": {"days": 30}},
        "mapping": {"kind": "linear", "from": 10, "to": 60},
    }


def _index(parts: list[str], position: int) -> int | None:
    try:
        return int(parts[position])
    except (IndexError, ValueError):
        return None


def apply(raw: dict[str, Any], op: str) -> dict[str, Any]:
    """The definition after one of the editor's buttons: ``add_group``,
    ``remove_group:i``, ``add_measure:i``, ``remove_measure:i:j``, ``add_band:i:j``,
    ``remove_band:i:j:k``, ``add_choice:i:j``; anything else (``refresh``) changes
    nothing but lets `rows` fit the mapping to a newly chosen metric."""
    raw = copy.deepcopy(raw)
    groups: list[dict[str, Any]] = raw.setdefault("groups", [])
    name, *parts = op.split(":")
    i, j, k = _index(parts, 0), _index(parts, 1), _index(parts, 2)
    group = groups[i] if i is not None and 0 <= i < len(groups) else None
    measures = group.setdefault("measures", []) if group is not None else []
    measure = measures[j] if j is not None and 0 <= j < len(measures) else None
    if name == "add_group" and len(groups) < MAX_ROWS:
        taken = {str(g.get("key")) for g in groups}
        fresh: dict[str, Any] = {
            "key": _free_key(taken, "group"),
            "label_ja": "",
            "label_en": "",
            "weight": _remaining([g.get("weight") for g in groups]),
            "measures": [],
        }
        fresh["measures"].append({**new_measure(raw, fresh), "weight": 100})
        groups.append(fresh)
    elif name == "remove_group" and group is not None:
        groups.remove(group)
    elif name == "add_measure" and group is not None and len(measures) < MAX_ROWS:
        measures.append(new_measure(raw, group))
    elif name == "remove_measure" and measure is not None:
        measures.remove(measure)
    elif name in ("add_band", "remove_band") and measure is not None:
        bands = measure.setdefault("mapping", {}).setdefault("bands", [])
        if name == "add_band" and len(bands) < 20:
            last = bands[-1] if bands else {"min": 0, "points": 0}
            step = last.get("min", 0) if isinstance(last.get("min"), int | float) else 0
            bands.append({"min": step + 10, "points": 100})
        elif name == "remove_band" and k is not None and 0 <= k < len(bands):
            bands.pop(k)
    elif name == "add_choice" and measure is not None:
        measure.setdefault("mapping", {}).setdefault("extra_choice_rows", 0)
        measure["mapping"]["extra_choice_rows"] += 1
    return raw


# --- What the template renders --------------------------------------------------------------------


@dataclass
class ParamRow:
    name: str
    label: str
    input: str
    value: Any
    required: bool
    min: float | None = None
    max: float | None = None
    options: list[tuple[str, str]] | None = None


@dataclass
class ChoiceRow:
    value: str
    label: str
    points: Any
    known: bool


@dataclass
class MeasureRow:
    index: int
    prefix: str
    key: str
    label_ja: str
    label_en: str
    weight: Any
    metric: str
    params: list[ParamRow]
    value_type: str | None
    kinds: list[tuple[str, str]]
    kind: str
    mapping: dict[str, Any]
    bands: list[dict[str, Any]]
    choices: list[ChoiceRow]
    description: str
    problem: str = ""


@dataclass
class GroupRow:
    index: int
    prefix: str
    key: str
    label_ja: str
    label_en: str
    weight: Any
    measures: list[MeasureRow]

    @property
    def measure_total(self) -> float:
        return _total(m.weight for m in self.measures)

    @property
    def label(self) -> str:
        return label_of(self.label_ja, self.label_en, self.key)


@dataclass
class Editor:
    red_below: Any
    green_from: Any
    groups: list[GroupRow]
    catalogue: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    error_path: str = ""

    @property
    def group_total(self) -> float:
        return _total(g.weight for g in self.groups)

    @property
    def error_input(self) -> str:
        """The name of the input the error is about, to mark it."""
        return input_name(self.error_path)


def tidy(value: Any) -> Any:
    """A number as people type it: 40 rather than 40.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _tidy_mapping(mapping: dict[str, Any]) -> dict[str, Any]:
    tidied: dict[str, Any] = {key: tidy(value) for key, value in mapping.items()}
    if isinstance(mapping.get("bands"), list):
        tidied["bands"] = [
            {key: tidy(value) for key, value in band.items()} if isinstance(band, dict) else band
            for band in mapping["bands"]
        ]
    if isinstance(mapping.get("points"), dict):
        tidied["points"] = {key: tidy(value) for key, value in mapping["points"].items()}
    return tidied


def _total(values: Any) -> float:
    return round(sum(v for v in values if isinstance(v, int | float)), 2)


KIND_LABELS = {
    "linear": lambda: _("Linear between two values"),
    "bands": lambda: _("Points per range"),
    "choices": lambda: _("Points per answer"),
    "boolean": lambda: _("Points for yes / no"),
}


def metric_options() -> list[tuple[str, list[tuple[str, str]]]]:
    """The metrics a measure can use, by category (the health score itself excluded)."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for metric in metrics.all_metrics():
        if "health" in metric.depends_on:
            continue
        grouped.setdefault(str(metric.category), []).append((metric.key, str(metric.label)))
    return list(grouped.items())


def _default_mapping(kind: str, choices: list[tuple[str, str]] | None) -> dict[str, Any]:
    if kind == "bands":
        return {"kind": "bands", "bands": [{"min": 0, "points": 0}, {"min": 10, "points": 100}]}
    if kind == "choices":
        return {"kind": "choices", "points": {value: 0 for value, _label in choices or []}}
    if kind == "boolean":
        return {"kind": "boolean", "true": 100, "false": 0}
    return {"kind": "linear", "from": 0, "to": 100}


def _measure_row(i: int, j: int, raw: dict[str, Any]) -> MeasureRow:
    from kizuna.core.conditions import catalogue

    prefix = f"{PREFIX}g{i}-m{j}"
    ref: dict[str, Any] = raw["metric"] if isinstance(raw.get("metric"), dict) else {}
    metric_key = str(ref.get("metric") or DEFAULT_METRIC)
    raw_params: dict[str, Any] = ref["params"] if isinstance(ref.get("params"), dict) else {}
    metric = metrics.get(metric_key)
    params: list[ParamRow] = []
    value_type: str | None = None
    choices: list[tuple[str, str]] | None = None
    description = metric_key
    problem = ""
    if metric is not None:
        for param in catalogue.param_inputs(metric):
            value = raw_params.get(param.name, param.default)
            params.append(
                ParamRow(
                    name=param.name,
                    label=param.label,
                    input=param.input,
                    value="" if value is None else value,
                    required=param.required,
                    min=param.min,
                    max=param.max,
                    options=[(str(v), str(label)) for v, label in param.options]
                    if param.options is not None
                    else None,
                )
            )
        resolved = catalogue.resolve(metric, raw_params)
        value_type = resolved.value_type
        choices = resolved.choices
        description = resolved.description
        problem = resolved.error
    else:
        problem = _("Unknown metric “%s”.") % metric_key
    allowed = list(KINDS[ValueType(value_type)]) if value_type else list(KIND_LABELS)
    mapping: dict[str, Any] = (
        _tidy_mapping(raw["mapping"]) if isinstance(raw.get("mapping"), dict) else {}
    )
    kind = str(mapping.get("kind") or "")
    if value_type and kind not in allowed:
        mapping = _default_mapping(allowed[0], choices)
        kind = allowed[0]
    bands = [b for b in mapping.get("bands", []) if isinstance(b, dict)] if kind == "bands" else []
    choice_rows: list[ChoiceRow] = []
    if kind == "choices":
        given: dict[str, Any] = mapping["points"] if isinstance(mapping.get("points"), dict) else {}
        known = dict(choices or [])
        for value, label in known.items():
            choice_rows.append(ChoiceRow(value, label, given.get(value, ""), True))
        for value, points in given.items():
            if value not in known:
                choice_rows.append(ChoiceRow(value, value, points, False))
        if not known:
            extra = int(mapping.get("extra_choice_rows", 0)) + (0 if given else 1)
            choice_rows.extend(ChoiceRow("", "", "", False) for _n in range(extra))
    return MeasureRow(
        index=j,
        prefix=prefix,
        key=str(raw.get("key", "")),
        label_ja=str(raw.get("label_ja", "")),
        label_en=str(raw.get("label_en", "")),
        weight=tidy(raw.get("weight", "")),
        metric=metric_key,
        params=params,
        value_type=value_type,
        kinds=[(name, KIND_LABELS[name]()) for name in allowed],
        kind=kind,
        mapping=mapping,
        bands=bands,
        choices=choice_rows,
        description=description,
        problem=problem,
    )


def rows(raw: Mapping[str, Any], error_path: str = "") -> Editor:
    """The definition (valid or not) as the editor's rows."""
    bands: dict[str, Any] = raw["bands"] if isinstance(raw.get("bands"), dict) else {}
    groups = []
    for i, group in enumerate(g for g in raw.get("groups", []) if isinstance(g, dict)):
        measures = [m for m in group.get("measures", []) if isinstance(m, dict)]
        groups.append(
            GroupRow(
                index=i,
                prefix=f"{PREFIX}g{i}",
                key=str(group.get("key", "")),
                label_ja=str(group.get("label_ja", "")),
                label_en=str(group.get("label_en", "")),
                weight=tidy(group.get("weight", "")),
                measures=[_measure_row(i, j, measure) for j, measure in enumerate(measures)],
            )
        )
    return Editor(
        red_below=tidy(bands.get("red_below", "")),
        green_from=tidy(bands.get("green_from", "")),
        groups=groups,
        catalogue=metric_options(),
        error_path=error_path,
    )


STARTER: dict[str, Any] = {
    "bands": {"red_below": 40, "green_from": 70},
    "groups": [
        {
            "key": "usage",
            "label_ja": "利用状況",
            "label_en": "Usage",
            "weight": 100,
            "measures": [
                {
                    "key": "login_rate",
                    "label_ja": "ログイン率",
                    "label_en": "Login rate",
                    "weight": 100,
                    "metric": {"metric": DEFAULT_METRIC, "params": {"days": 30}},
                    "mapping": {"kind": "linear", "from": 10, "to": 60},
                }
            ],
        }
    ],
}

_PATH = re.compile(r"^groups\[(\d+)\](?:\.measures(?:\[(\d+)\])?)?(?:\.(.*))?$")


def input_name(path: str) -> str:
    """The input a definition error path points at (best effort; "" when none)."""
    if path.startswith("bands."):
        return PREFIX + path.removeprefix("bands.")
    if path == "bands":
        return f"{PREFIX}red_below"
    if path == "groups":
        return f"{PREFIX}g0-weight"
    if re.fullmatch(r"groups\[\d+\]\.measures", path):
        # The measure weights of a group: the first of them.
        return PREFIX + path.replace("groups[", "g").replace("].measures", "-m0-weight")
    match = _PATH.match(path)
    if not match:
        return ""
    group, measure, rest = match.groups()
    name = f"{PREFIX}g{group}"
    if measure is not None:
        name += f"-m{measure}"
    rest = rest or ""
    if rest == "mapping":
        return f"{name}-from"
    if rest == "mapping.bands":
        return f"{name}-b0-min"
    if rest.startswith("mapping.bands["):
        found = re.match(r"mapping\.bands\[(\d+)\]\.(min|points)", rest)
        return f"{name}-b{found.group(1)}-{found.group(2)}" if found else f"{name}-kind"
    if rest.startswith("mapping."):
        tail = rest.removeprefix("mapping.")
        return (
            f"{name}-{tail}" if tail in ("kind", "from", "to", "true", "false") else f"{name}-kind"
        )
    if rest.startswith("metric.params."):
        return f"{name}-p-{rest.removeprefix('metric.params.').split('.')[0]}"
    if rest.startswith("metric"):
        return f"{name}-metric"
    if rest in ("key", "label_ja", "label_en", "weight"):
        return f"{name}-{rest}"
    return f"{name}-weight" if measure is None and rest == "" else name


def describe_path(path: str, raw: Mapping[str, Any]) -> str:
    """Where an error is, in people's words: "Group “Usage” › measure “Login rate”"."""
    if not path:
        return ""
    if path.startswith("bands"):
        return _("Bands")
    match = _PATH.match(path)
    if not match:
        return path
    group_index, measure_index, _rest = match.groups()
    groups = raw.get("groups", [])
    parts = []
    try:
        group = groups[int(group_index)]
        parts.append(
            _("Group “%s”")
            % label_of(
                group.get("label_ja", ""),
                group.get("label_en", ""),
                group.get("key") or str(int(group_index) + 1),
            )
        )
        if measure_index is not None:
            measure = group.get("measures", [])[int(measure_index)]
            parts.append(
                _("measure “%s”")
                % label_of(
                    measure.get("label_ja", ""),
                    measure.get("label_en", ""),
                    measure.get("key") or str(int(measure_index) + 1),
                )
            )
    except (IndexError, ValueError, TypeError, AttributeError):
        return path
    return " › ".join(parts)
