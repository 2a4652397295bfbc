"""The shape of a success flow (`FlowVersion.definition`) and its validation.

A flow is a trigger, who may enter (`audience`), when they leave early (`exit`), how often an
account may enter (`reentry`), an optional hold-out share, and a graph of steps. Each step has
an id; actions and waits continue at `next`, conditions and decisions branch to `yes` and
`no`. A missing `next` (or branch) ends the flow there. Example (seed 004, first login)::

    {
      "trigger": {"type": "event", "event": "$login", "occurrence": 1},
      "audience": null,
      "exit": {"and": [{"metric": "account.stage", "op": "in", "value": ["churned"]}]},
      "reentry": {"mode": "once"},
      "holdout_percent": 10,
      "start": "tag",
      "steps": [
        {"id": "tag", "type": "action", "action": "segment.add",
         "params": {"segment": 12}, "next": "mail"},
        {"id": "mail", "type": "action", "action": "email.send",
         "params": {"template": "onboarding-programme"}, "next": "opened"},
        {"id": "opened", "type": "decision",
         "wait_for": {"kind": "email_opened", "step": "mail"},
         "within": {"days": 2}, "yes": null, "no": "call"},
        {"id": "call", "type": "action", "action": "cta.create",
         "params": {"type": "onboarding", "reason": "Onboarding email not opened",
                    "playbook": "onboarding-kickoff"}}
      ]
    }

`validate` refuses, with the step named: an unknown step type or action, an action missing
a parameter, a decision without a time limit, a branch to a step that does not exist, a
step nothing leads to, and a loop.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any, Literal

import pydantic
from django.utils.translation import gettext as _

from kizuna.core.conditions import Condition, ConditionError, parse
from kizuna.flows.choices import DateField, Reentry, WaitFor

STEP_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_STEPS = 100
BANDS = ("red", "yellow", "green", "none")


class DefinitionError(ValueError):
    """A flow that cannot be saved; `step` names the step at fault ("" for the flow)."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}" if step else message)
        self.step = step
        self.message = message


class Model(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", str_strip_whitespace=True)


class Duration(Model):
    days: int = pydantic.Field(0, ge=0, le=3650)
    hours: int = pydantic.Field(0, ge=0, le=1000)
    minutes: int = pydantic.Field(0, ge=0, le=100_000)

    @property
    def delta(self) -> datetime.timedelta:
        return datetime.timedelta(days=self.days, hours=self.hours, minutes=self.minutes)


# --- Triggers ---------------------------------------------------------------------------------


class PropertyFilter(Model):
    key: str = pydantic.Field(min_length=1, max_length=200)
    op: Literal["eq", "ne", "contains", "exists", "gt", "lt"] = "eq"
    value: bool | int | float | str | None = None


LOGIN = "$login"  # any of the events the usage settings count as a login


class EventTrigger(Model):
    type: Literal["event"]
    event: str = pydantic.Field(min_length=1, max_length=200)
    properties: list[PropertyFilter] = []
    # Enter on the Nth time the event is received (2: "the second login"); None: every time
    # (subject to re-entry). Counted per account, or per contact.
    occurrence: int | None = pydantic.Field(None, ge=1, le=10_000)
    per: Literal["account", "contact"] = "account"


class SegmentTrigger(Model):
    type: Literal["segment_entered", "segment_exited"]
    segment: int


class BandTrigger(Model):
    type: Literal["health_band_changed"]
    to: list[Literal["red", "yellow", "green", "none"]] = []
    from_: list[Literal["red", "yellow", "green", "none"]] = pydantic.Field([], alias="from")

    model_config = pydantic.ConfigDict(extra="forbid", populate_by_name=True)


class StageTrigger(Model):
    type: Literal["stage_changed"]
    to: list[str] = []
    from_: list[str] = pydantic.Field([], alias="from")

    model_config = pydantic.ConfigDict(extra="forbid", populate_by_name=True)


class MilestoneTrigger(Model):
    type: Literal["milestone_reached", "milestone_overdue"]
    milestone: int | None = None  # None: any milestone


class DateTrigger(Model):
    type: Literal["date"]
    field: DateField
    # Negative: before the date ("90 days before renewal" is -90); positive: after.
    offset_days: int = pydantic.Field(ge=-3650, le=3650)


class ScheduleTrigger(Model):
    type: Literal["schedule"]
    every: Literal["day", "week", "month"]
    at: datetime.time = datetime.time(9, 0)
    weekday: int = pydantic.Field(0, ge=0, le=6)  # Monday is 0 (for "week")
    day: int = pydantic.Field(1, ge=1, le=28)  # for "month"


Trigger = Annotated[
    EventTrigger
    | SegmentTrigger
    | BandTrigger
    | StageTrigger
    | MilestoneTrigger
    | DateTrigger
    | ScheduleTrigger,
    pydantic.Field(discriminator="type"),
]


class ReentryRule(Model):
    mode: Reentry = Reentry.ONCE
    after_days: int = pydantic.Field(30, ge=1, le=3650)


# --- Steps ------------------------------------------------------------------------------------


class StepBase(Model):
    id: str
    label: str = pydantic.Field("", max_length=200)

    @pydantic.field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not STEP_ID.match(value):
            raise ValueError(_("Use 1–40 letters, digits, '-' or '_'."))
        return value


class ActionStep(StepBase):
    type: Literal["action"]
    action: str
    params: dict[str, Any] = {}
    next: str | None = None


class ConditionStep(StepBase):
    type: Literal["condition"]
    condition: dict[str, Any]
    yes: str | None = None
    no: str | None = None


class BusinessHours(Model):
    weekdays: list[int] = pydantic.Field([0, 1, 2, 3, 4], min_length=1)  # Monday is 0
    start: datetime.time = datetime.time(9, 0)
    end: datetime.time = datetime.time(18, 0)

    @pydantic.model_validator(mode="after")
    def _check(self) -> BusinessHours:
        if any(day < 0 or day > 6 for day in self.weekdays):
            raise ValueError(_("Weekdays are 0 (Monday) to 6 (Sunday)."))
        if self.end <= self.start:
            raise ValueError(_("Business hours must end after they start."))
        return self


class WaitStep(StepBase):
    type: Literal["wait"]
    delay: Duration | None = None
    until: datetime.datetime | None = None
    business_hours: BusinessHours | None = None
    next: str | None = None

    @pydantic.model_validator(mode="after")
    def _check(self) -> WaitStep:
        if self.delay is None and self.until is None and self.business_hours is None:
            raise ValueError(_("Say how long to wait: a delay, a date, or business hours."))
        if self.delay is not None and self.until is not None:
            raise ValueError(_("Wait either for a delay or until a date, not both."))
        return self


class WaitForSpec(Model):
    kind: WaitFor
    event: str = pydantic.Field("", max_length=200)
    segment: int | None = None
    milestone: int | None = None
    step: str = ""  # the email step, for email_opened / email_clicked

    @pydantic.model_validator(mode="after")
    def _check(self) -> WaitForSpec:
        if self.kind == WaitFor.EVENT and not self.event:
            raise ValueError(_("Name the event to wait for."))
        if self.kind == WaitFor.SEGMENT_ENTERED and self.segment is None:
            raise ValueError(_("Choose the segment to wait for."))
        if self.kind in (WaitFor.EMAIL_OPENED, WaitFor.EMAIL_CLICKED) and not self.step:
            raise ValueError(_("Choose the email step whose email is awaited."))
        return self

    def key(self) -> str:
        """What a waiting run is indexed by, so the thing awaited finds it in one query."""
        match self.kind:
            case WaitFor.EVENT:
                return f"event:{self.event}"
            case WaitFor.SEGMENT_ENTERED:
                return f"segment:{self.segment}"
            case WaitFor.MILESTONE_REACHED:
                return f"milestone:{self.milestone or '*'}"
            case _:
                return f"{self.kind}:{self.step}"


class DecisionStep(StepBase):
    type: Literal["decision"]
    wait_for: WaitForSpec
    within: Duration | None = None
    yes: str | None = None
    no: str | None = None


Step = Annotated[
    ActionStep | ConditionStep | WaitStep | DecisionStep, pydantic.Field(discriminator="type")
]


class FlowDefinition(Model):
    trigger: Trigger
    audience: dict[str, Any] | None = None
    exit: dict[str, Any] | None = None
    reentry: ReentryRule = pydantic.Field(
        default_factory=lambda: ReentryRule(mode=Reentry.ONCE, after_days=30)
    )
    holdout_percent: int = pydantic.Field(0, ge=0, le=50)
    start: str | None = None
    steps: list[Step] = pydantic.Field([], max_length=MAX_STEPS)

    def step(self, step_id: str | None) -> ActionStep | ConditionStep | WaitStep | DecisionStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def by_id(self) -> dict[str, ActionStep | ConditionStep | WaitStep | DecisionStep]:
        return {step.id: step for step in self.steps}

    def audience_condition(self) -> Condition | None:
        return parse(self.audience, check=False) if self.audience else None

    def exit_condition(self) -> Condition | None:
        return parse(self.exit, check=False) if self.exit else None

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=False)


def successors(step: ActionStep | ConditionStep | WaitStep | DecisionStep) -> list[str]:
    if isinstance(step, ActionStep | WaitStep):
        return [step.next] if step.next else []
    return [target for target in (step.yes, step.no) if target]


def _pydantic_error(exc: pydantic.ValidationError, raw: Any) -> DefinitionError:
    error = exc.errors()[0]
    location = [str(part) for part in error["loc"]]
    step = ""
    if len(location) >= 2 and location[0] == "steps":
        try:
            step = str(raw["steps"][int(location[1])].get("id") or f"#{int(location[1]) + 1}")
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            step = f"#{location[1]}"
        location = location[3:] if len(location) > 3 else location[2:]
    field = ".".join(part for part in location if part not in STEP_TYPE_NAMES)
    message = str(error["msg"]).removeprefix("Value error, ")
    return DefinitionError(step, f"{field}: {message}" if field else message)


STEP_TYPE_NAMES = {"action", "condition", "wait", "decision"} | {
    "event",
    "segment_entered",
    "segment_exited",
    "health_band_changed",
    "stage_changed",
    "milestone_reached",
    "milestone_overdue",
    "date",
    "schedule",
}


def validate(raw: Any) -> FlowDefinition:
    """Parse and check a definition; raise DefinitionError naming the step at fault."""
    from kizuna.flows import actions

    if not isinstance(raw, dict):
        raise DefinitionError("", _("A flow definition is a JSON object."))
    try:
        flow = FlowDefinition.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise _pydantic_error(exc, raw) from None
    for name, tree in (("audience", flow.audience), ("exit", flow.exit)):
        if tree:
            try:
                parse(tree)
            except ConditionError as exc:
                raise DefinitionError("", f"{name}.{exc.path}: {exc.message}") from None
    steps = flow.by_id()
    if len(steps) != len(flow.steps):
        seen: set[str] = set()
        for step in flow.steps:
            if step.id in seen:
                raise DefinitionError(step.id, _("Two steps have this id."))
            seen.add(step.id)
    if flow.steps and flow.start is None:
        raise DefinitionError("", _("Say which step the flow starts with."))
    if flow.start is not None and flow.start not in steps:
        raise DefinitionError(
            "", _("The first step %(step)s does not exist.") % {"step": flow.start}
        )
    for step in flow.steps:
        for target in successors(step):
            if target not in steps:
                raise DefinitionError(
                    step.id, _("It leads to %(step)s, which does not exist.") % {"step": target}
                )
        _check_step(step, steps, actions)
    _check_graph(flow)
    return flow


def _check_step(
    step: ActionStep | ConditionStep | WaitStep | DecisionStep,
    steps: dict[str, ActionStep | ConditionStep | WaitStep | DecisionStep],
    actions: Any,
) -> None:
    if isinstance(step, ActionStep):
        try:
            action = actions.get(step.action)
        except KeyError:
            raise DefinitionError(
                step.id, _("There is no action %(action)s.") % {"action": step.action}
            ) from None
        try:
            action.parse(step.params)
        except actions.ActionError as exc:
            raise DefinitionError(step.id, str(exc)) from None
    elif isinstance(step, ConditionStep):
        try:
            parse(step.condition)
        except ConditionError as exc:
            raise DefinitionError(step.id, f"{exc.path}: {exc.message}") from None
    elif isinstance(step, DecisionStep):
        if step.within is None or step.within.delta <= datetime.timedelta(0):
            raise DefinitionError(
                step.id, _("A decision needs a time limit: how long to wait before 'no'.")
            )
        awaited = step.wait_for
        if awaited.kind in (WaitFor.EMAIL_OPENED, WaitFor.EMAIL_CLICKED):
            target = steps.get(awaited.step)
            if not isinstance(target, ActionStep) or target.action != "email.send":
                raise DefinitionError(
                    step.id,
                    _("It waits for an email, but %(step)s is not an email step.")
                    % {"step": awaited.step or "—"},
                )


def _check_graph(flow: FlowDefinition) -> None:
    """Every step reachable from the start, and no path that comes back to a step."""
    steps = flow.by_id()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(step_id: str, path: list[str]) -> None:
        state[step_id] = 1
        for target in successors(steps[step_id]):
            if state.get(target) == 1:
                raise DefinitionError(
                    step_id,
                    _("It leads back to %(step)s: a flow cannot loop (%(path)s).")
                    % {"step": target, "path": " → ".join([*path, step_id, target])},
                )
            if state.get(target) is None:
                visit(target, [*path, step_id])
        state[step_id] = 2

    if flow.start is not None:
        visit(flow.start, [])
    for step in flow.steps:
        if step.id not in state:
            raise DefinitionError(step.id, _("No step leads to it."))
