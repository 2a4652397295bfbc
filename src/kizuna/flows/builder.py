"""View-side helpers of the flow builder: the tree drawn from a definition, every part of a
flow in words, and the edits the builder makes to a definition dict (add, replace, delete a
step). The edited dict is always saved through `services.save_version`, whose validation is
the only judge; nothing here decides whether a flow is valid.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext as _

from kizuna.flows import actions
from kizuna.flows.choices import DateField, TriggerType, WaitFor
from kizuna.flows.definition import (
    LOGIN,
    ActionStep,
    ConditionStep,
    DecisionStep,
    FlowDefinition,
    WaitStep,
)
from kizuna.flows.models import StepRun, SuccessFlow

AnyStep = ActionStep | ConditionStep | WaitStep | DecisionStep
BRANCHES = ("start", "next", "yes", "no")


# --- Words ------------------------------------------------------------------------------------


def describe_duration(duration: Any) -> str:
    if duration is None:
        return ""
    parts = []
    if duration.days:
        parts.append(_("%(n)d days") % {"n": duration.days})
    if duration.hours:
        parts.append(_("%(n)d hours") % {"n": duration.hours})
    if duration.minutes:
        parts.append(_("%(n)d minutes") % {"n": duration.minutes})
    return " ".join(parts) or _("no time")


def _ordinal(n: int) -> str:
    return _("occurrence %(n)d") % {"n": n}


def _describe_filter(rule: Any) -> str:
    """ "seconds > 30" — a property filter as people write it (see forms.parse_properties)."""
    from kizuna.flows.forms import format_properties

    return format_properties([rule.model_dump()])


def _band_or_stage_labels(trigger_type: str) -> dict[str, Any]:
    if trigger_type == TriggerType.HEALTH_BAND_CHANGED:
        from kizuna.health.choices import Band

        return dict(Band.choices)
    from kizuna.customers.choices import LifecycleStage

    return dict(LifecycleStage.choices)


def describe_trigger(trigger: Any) -> str:
    """A flow's trigger in one sentence."""
    match trigger.type:
        case TriggerType.EVENT:
            event = _("a login") if trigger.event == LOGIN else f"“{trigger.event}”"
            if trigger.occurrence is None:
                text = _("Each time %(event)s is received") % {"event": event}
            else:
                text = _("When %(event)s is received for the %(nth)s time") % {
                    "event": event,
                    "nth": trigger.occurrence,
                }
                if trigger.per == "contact":
                    text += " " + _("(counted per contact)")
            if trigger.properties:
                text += " " + _("with %(filters)s") % {
                    "filters": ", ".join(_describe_filter(rule) for rule in trigger.properties)
                }
            return text
        case TriggerType.SEGMENT_ENTERED | TriggerType.SEGMENT_EXITED:
            from kizuna.segments.models import Segment

            name = (
                Segment.objects.filter(pk=trigger.segment).values_list("name", flat=True).first()
                or f"#{trigger.segment}"
            )
            if trigger.type == TriggerType.SEGMENT_ENTERED:
                return _("When the account enters the segment “%(name)s”") % {"name": name}
            return _("When the account leaves the segment “%(name)s”") % {"name": name}
        case TriggerType.HEALTH_BAND_CHANGED | TriggerType.STAGE_CHANGED:
            what = (
                _("the health band")
                if trigger.type == TriggerType.HEALTH_BAND_CHANGED
                else _("the lifecycle stage")
            )
            text = _("When %(what)s changes") % {"what": what}
            labels = _band_or_stage_labels(trigger.type)
            if trigger.from_:
                shown = ", ".join(str(labels.get(value, value)) for value in trigger.from_)
                text += " " + _("from %(values)s") % {"values": shown}
            if trigger.to:
                shown = ", ".join(str(labels.get(value, value)) for value in trigger.to)
                text += " " + _("to %(values)s") % {"values": shown}
            return text
        case TriggerType.MILESTONE_REACHED | TriggerType.MILESTONE_OVERDUE:
            name = _("any milestone")
            if trigger.milestone is not None:
                from kizuna.milestones.models import Milestone

                found = (
                    Milestone.objects.filter(pk=trigger.milestone)
                    .values_list("name", flat=True)
                    .first()
                )
                name = f"“{found or trigger.milestone}”"
            if trigger.type == TriggerType.MILESTONE_REACHED:
                return _("When the account reaches %(name)s") % {"name": name}
            return _("When %(name)s is overdue") % {"name": name}
        case TriggerType.DATE:
            label = DateField(trigger.field).label
            days = abs(trigger.offset_days)
            if trigger.offset_days < 0:
                return _("%(n)d days before the %(field)s") % {"n": days, "field": label}
            if trigger.offset_days > 0:
                return _("%(n)d days after the %(field)s") % {"n": days, "field": label}
            return _("On the %(field)s") % {"field": label}
        case _:
            at = trigger.at.strftime("%H:%M")
            if trigger.every == "day":
                return _("Every day at %(at)s") % {"at": at}
            if trigger.every == "week":
                day = _weekday_names()[trigger.weekday]
                return _("Every %(day)s at %(at)s") % {"day": day, "at": at}
            return _("Every month on day %(day)d at %(at)s") % {"day": trigger.day, "at": at}


def trigger_in_words(definition: dict[str, Any] | None) -> str:
    """The trigger of a stored definition in words ("" when it cannot be read)."""
    if not definition:
        return ""
    try:
        return describe_trigger(FlowDefinition.model_validate(definition).trigger)
    except Exception:  # a stored definition that no longer parses is shown as unreadable
        return _("(cannot be read)")


def _weekday_names() -> list[str]:
    return [
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    ]


def describe_condition(tree: Any) -> Any:
    """A condition tree in words (the segments' describer, the same everywhere)."""
    from kizuna.segments.queries import describe_tree

    return describe_tree(tree)


def describe_action(step: ActionStep) -> str:
    try:
        action = actions.get(step.action)
    except KeyError:
        return _("Unknown action %(action)s") % {"action": step.action}
    try:
        return action.describe(action.parse(step.params))
    except actions.ActionError as exc:
        return f"{action.label} — {exc}"


def describe_wait(step: WaitStep) -> str:
    parts = []
    if step.delay is not None:
        parts.append(_("Wait %(duration)s") % {"duration": describe_duration(step.delay)})
    if step.until is not None:
        parts.append(_("Wait until %(time)s") % {"time": step.until.strftime("%Y-%m-%d %H:%M")})
    hours = step.business_hours
    if hours is not None:
        names = _weekday_names()
        parts.append(
            _("then to business hours (%(days)s, %(start)s–%(end)s, the account's time zone)")
            % {
                "days": ", ".join(names[day] for day in hours.weekdays),
                "start": hours.start.strftime("%H:%M"),
                "end": hours.end.strftime("%H:%M"),
            }
        )
    return " ".join(parts)


def describe_decision(step: DecisionStep) -> str:
    spec = step.wait_for
    what = str(WaitFor(spec.kind).label)
    if spec.kind == WaitFor.EVENT:
        what = _("The event “%(event)s” is received") % {"event": spec.event}
    elif spec.kind == WaitFor.SEGMENT_ENTERED:
        from kizuna.segments.models import Segment

        name = None
        if spec.segment is not None:
            name = Segment.objects.filter(pk=spec.segment).values_list("name", flat=True).first()
        what = _("The account enters the segment “%(name)s”") % {"name": name or spec.segment}
    elif spec.kind in (WaitFor.EMAIL_OPENED, WaitFor.EMAIL_CLICKED):
        what = f"{what} ({spec.step})"
    return _("Wait up to %(limit)s for: %(what)s") % {
        "limit": describe_duration(step.within),
        "what": what,
    }


# --- The tree ---------------------------------------------------------------------------------


@dataclass
class Lane:
    """A column of steps: each action or wait continues below itself; `end` says where the
    lane goes when it reaches a step shown elsewhere ("continues at")."""

    parent: str  # the step whose branch this lane is ("" for the flow's start)
    branch: str  # "start", "yes" or "no"
    items: list[Node] = field(default_factory=list)
    continues_at: str = ""
    continues_label: str = ""
    adding_at_top: bool = False  # the form of a new step at the top of the lane is open

    def nodes(self) -> list[Node]:
        """Every node of this lane and of the lanes under it."""
        found = []
        for node in self.items:
            found.append(node)
            for lane in node.lanes:
                found += lane.nodes()
        return found

    def lanes_below(self) -> list[Lane]:
        found = [self]
        for node in self.items:
            for lane in node.lanes:
                found += lane.lanes_below()
        return found


@dataclass
class Node:
    step: AnyStep
    type_label: str
    text: str
    described: Any = None  # a condition in words
    unavailable: str = ""
    counts: list[tuple[str, str, int]] = field(default_factory=list)  # outcome, label, n
    lanes: list[Lane] = field(default_factory=list)  # yes / no branches
    error: str = ""  # the validation message about this step
    editing: bool = False  # its form is open in place of its box
    adding_after: bool = False  # the form of a new step after it is open

    @property
    def id(self) -> str:
        return self.step.id

    @property
    def title(self) -> str:
        return self.step.label or self.step.id

    @property
    def total(self) -> int:
        return sum(n for _outcome, _label, n in self.counts)


def step_counts(flow: SuccessFlow) -> dict[str, dict[str, int]]:
    """How many runs of each step ended with each outcome (or are in each state), in one
    GROUP BY query — the figures drawn on the tree."""
    counts: dict[str, dict[str, int]] = {}
    rows = (
        StepRun.objects.filter(flow=flow)
        .values_list("step_id", "status", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    for step_id, status, outcome, n in rows:
        key = outcome or status
        per_step = counts.setdefault(step_id, {})
        per_step[key] = per_step.get(key, 0) + n
    return counts


def outcome_labels() -> dict[str, str]:
    return {
        "done": _("done"),
        "skipped": _("skipped"),
        "yes": _("yes"),
        "no": _("no"),
        "failed": _("failed"),
        "cancelled": _("cancelled"),
        "scheduled": _("scheduled"),
        "waiting": _("waiting"),
        "exited": _("left the flow"),
    }


def outcome_counts(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    labels = outcome_labels()
    return [(outcome, labels.get(outcome, outcome), n) for outcome, n in sorted(counts.items())]


def build_tree(definition: FlowDefinition, counts: dict[str, dict[str, int]]) -> Lane:
    """The steps as nested lanes from `start`, following next / yes / no. A step reached
    from two places is drawn once (where it is met first) and referenced elsewhere."""
    from kizuna.flows.choices import StepType

    steps = definition.by_id()
    shown: set[str] = set()
    type_labels = dict(StepType.choices)

    def lane(parent: str, branch: str, first: str | None) -> Lane:
        result = Lane(parent, branch)
        current = first
        while current is not None and current in steps:
            if current in shown:
                result.continues_at = current
                result.continues_label = steps[current].label or current
                break
            shown.add(current)
            step = steps[current]
            node = Node(
                step,
                str(type_labels.get(step.type, step.type)),
                "",
                counts=outcome_counts(counts.get(step.id, {})),
            )
            result.items.append(node)
            if isinstance(step, ActionStep):
                node.text = describe_action(step)
                try:
                    node.unavailable = str(actions.get(step.action).unavailable_reason or "")
                except KeyError:
                    node.unavailable = ""
                current = step.next
            elif isinstance(step, WaitStep):
                node.text = describe_wait(step)
                current = step.next
            else:
                if isinstance(step, ConditionStep):
                    node.described = describe_condition(step.condition)
                else:
                    node.text = describe_decision(step)
                node.lanes = [lane(step.id, "yes", step.yes), lane(step.id, "no", step.no)]
                current = None
        return result

    return lane("", "start", definition.start)


# --- Edits ------------------------------------------------------------------------------------


class EditError(ValueError):
    """An edit the builder cannot make (the step is named, like a DefinitionError)."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step
        self.message = message


def _find(definition: dict[str, Any], step_id: str) -> dict[str, Any]:
    for step in definition.get("steps", []):
        if step.get("id") == step_id:
            return step
    raise EditError("", _("There is no step %(step)s.") % {"step": step_id})


def new_step_id(definition: dict[str, Any], kind: str) -> str:
    taken = {step.get("id") for step in definition.get("steps", [])}
    base = re.sub(r"[^A-Za-z0-9_-]", "", kind)[:30] or "step"
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _continuation_key(step: dict[str, Any]) -> str:
    return "next" if step.get("type") in ("action", "wait") else "yes"


def add_step(
    definition: dict[str, Any], parent: str, branch: str, step: dict[str, Any]
) -> dict[str, Any]:
    """A copy of the definition with `step` inserted on `parent`'s branch (or first, when
    `parent` is ""): what was there continues after the new step (at its `next`, or its
    `yes` for a condition or decision)."""
    result = copy.deepcopy(definition)
    result.setdefault("steps", [])
    step = dict(step)
    if not parent:
        following = result.get("start")
        result["start"] = step["id"]
    else:
        if branch not in ("next", "yes", "no"):
            raise EditError(parent, _("Choose where to add the step."))
        holder = _find(result, parent)
        following = holder.get(branch)
        holder[branch] = step["id"]
    if following:
        step[_continuation_key(step)] = following
    result["steps"].append(step)
    return result


def replace_step(definition: dict[str, Any], step_id: str, step: dict[str, Any]) -> dict[str, Any]:
    """A copy with the step's content replaced, keeping where it leads."""
    result = copy.deepcopy(definition)
    old = _find(result, step_id)
    new = dict(step)
    new["id"] = step_id
    old_targets = [old.get(key) for key in ("next", "yes", "no") if old.get(key)]
    if new.get("type") in ("action", "wait"):
        new["next"] = (
            old.get("next")
            if old.get("type") in ("action", "wait")
            else (old.get("yes") or old.get("no"))
        )
    else:
        if old.get("type") in ("condition", "decision"):
            new["yes"], new["no"] = old.get("yes"), old.get("no")
        else:
            new["yes"], new["no"] = (old_targets[0] if old_targets else None), None
    for key in ("next", "yes", "no"):
        if key in new and new[key] is None:
            del new[key]
    index = result["steps"].index(old)
    result["steps"][index] = new
    return result


def delete_step(definition: dict[str, Any], step_id: str) -> dict[str, Any]:
    """A copy without the step; whatever led to it now leads to what followed it. A
    condition or decision with steps on both branches cannot be deleted that way."""
    result = copy.deepcopy(definition)
    step = _find(result, step_id)
    targets = [step.get(key) for key in ("next", "yes", "no") if step.get(key)]
    if len(targets) > 1:
        raise EditError(
            step_id, _("Both of its branches have steps: delete the steps of one branch first.")
        )
    following = targets[0] if targets else None
    if result.get("start") == step_id:
        result["start"] = following
    for other in result["steps"]:
        for key in ("next", "yes", "no"):
            if other.get(key) == step_id:
                other[key] = following
    result["steps"].remove(step)
    return result


def assumed(data: Any, definition: FlowDefinition) -> dict[str, str]:
    """The dry run's "assume yes" choices, from the request's `assume_<step>` values."""
    return {
        step.id: "yes"
        for step in definition.steps
        if isinstance(step, DecisionStep) and data.get(f"assume_{step.id}") == "yes"
    }


def describe_entry(trigger: dict[str, Any]) -> list[tuple[str, str]]:
    """What made an account enter (an enrolment's `trigger`), as label/value pairs."""
    labels = {
        "event": _("Event"),
        "occurrence": _("Occurrence"),
        "at": _("At"),
        "segment": _("Segment"),
        "from": _("From"),
        "to": _("To"),
        "milestone": _("Milestone"),
        "field": _("Date"),
        "date": _("On"),
        "offset_days": _("Days from the date"),
        "properties": _("Properties"),
    }
    rows: list[tuple[str, str]] = []
    kind = trigger.get("type")
    if kind:
        try:
            rows.append((_("Trigger"), str(TriggerType(kind).label)))
        except ValueError:
            rows.append((_("Trigger"), str(kind)))
    for key, value in trigger.items():
        if key in ("type", "audience", "event_id"):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{name}: {item}" for name, item in value.items())
        elif isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        rows.append((str(labels.get(key, key)), "—" if value in (None, "") else str(value)))
    return rows
