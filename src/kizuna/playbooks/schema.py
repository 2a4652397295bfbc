"""The shape of `Playbook.steps`, validated by pydantic. For example::

    [
        {"title": "Call the champion", "guidance": "Ask what changed.", "due_offset_days": 2},
        {"title": "Agree a recovery plan", "guidance": "", "due_offset_days": 7}
    ]

`due_offset_days` counts from the day the CTA is created (0 = the same day).
"""

from __future__ import annotations

from typing import Any

import pydantic
from django.utils.translation import gettext as _

MAX_STEPS = 30
MAX_OFFSET_DAYS = 365


class Step(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = pydantic.Field(min_length=1, max_length=200)
    guidance: str = pydantic.Field(default="", max_length=4000)
    due_offset_days: int = pydantic.Field(default=0, ge=0, le=MAX_OFFSET_DAYS)


_STEPS = pydantic.TypeAdapter(list[Step])


class StepsError(ValueError):
    """The steps are refused; `errors` maps a location (``steps[1].title``) to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{key}: {' '.join(value)}" for key, value in errors.items()))


def _message(error: Any) -> str:
    field = str(error["loc"][-1]) if error["loc"] else ""
    kind = error["type"]
    if field == "title" and kind in ("string_too_short", "missing"):
        return _("Give the step a title.")
    if field == "title" and kind == "string_too_long":
        return _("A step title has at most 200 characters.")
    if field == "guidance":
        return _("Guidance has at most 4000 characters.")
    if field == "due_offset_days":
        return _("Due in must be a whole number of days from 0 to %(max)d.") % {
            "max": MAX_OFFSET_DAYS
        }
    if kind == "extra_forbidden":
        return _("Unknown field “%(field)s”; a step has title, guidance and due_offset_days.") % {
            "field": field
        }
    return _("A step is an object with title, guidance and due_offset_days.")


def parse_steps(raw: Any) -> list[Step]:
    """Validate raw JSON steps; raise StepsError naming each wrong step (1-based)."""
    if not isinstance(raw, list):
        raise StepsError({"steps": [_("Steps are a list.")]})
    if len(raw) > MAX_STEPS:
        raise StepsError(
            {"steps": [_("A playbook has at most %(max)d steps.") % {"max": MAX_STEPS}]}
        )
    try:
        return _STEPS.validate_python(raw)
    except pydantic.ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            loc = error["loc"]
            index = loc[0] if loc and isinstance(loc[0], int) else None
            field = str(loc[1]) if len(loc) > 1 else ""
            key = f"steps[{index + 1}]" if index is not None else "steps"
            if field:
                key = f"{key}.{field}"
            errors.setdefault(key, []).append(_message(error))
        raise StepsError(errors) from None


def dump_steps(steps: list[Step]) -> list[dict[str, Any]]:
    return [step.model_dump() for step in steps]
