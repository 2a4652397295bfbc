"""A condition's evaluation for one account, as it is kept with what it decided (a stage
change, a milestone reached): each comparison with the value the account had, readable
later as "Days to renewal: 74 (is at most 90)"."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from kizuna.core.conditions.tree import Evaluation, operator_labels


@dataclass(frozen=True)
class LeafRecord:
    """One comparison as it was evaluated for an account, stored as JSON:
    ``{"path": "and[0]", "description": "Days to renewal", "op": "lte", "expected": 90,
    "value": 74, "matched": true}``."""

    path: str
    description: str
    op: str
    expected: Any
    value: Any
    matched: bool

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation) -> list[dict[str, Any]]:
        return [
            asdict(
                cls(
                    path=leaf.path,
                    description=leaf.description,
                    op=leaf.op,
                    expected=_jsonable(leaf.expected),
                    value=_jsonable(leaf.value),
                    matched=leaf.matched,
                )
            )
            for leaf in evaluation.leaves
        ]

    @classmethod
    def parse(cls, raw: Any) -> list[LeafRecord]:
        if not isinstance(raw, list):
            return []
        return [
            cls(
                path=str(item.get("path", "")),
                description=str(item.get("description", "")),
                op=str(item.get("op", "")),
                expected=item.get("expected"),
                value=item.get("value"),
                matched=bool(item.get("matched")),
            )
            for item in raw
            if isinstance(item, dict)
        ]

    def text(self) -> str:
        """ "Days to renewal: 74 (is at most 90)"."""
        label = operator_labels().get(self.op, self.op)
        value = "—" if self.value is None else _format(self.value)
        if self.expected is None:
            return f"{self.description}: {value} ({label})"
        return f"{self.description}: {value} ({label} {_format(self.expected)})"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _format(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_format(item) for item in value)
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
