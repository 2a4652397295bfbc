"""Success flows: the write side, and testing a flow before it goes live.

- `create_flow`, `save_version` validate a definition (refusals name the step) and keep
  every saved version; `set_status` turns a flow live or pauses it.
- `dry_run` walks a flow for one account and says, step by step, what would happen and why,
  without doing anything.
- `simulate` replays the flow's trigger over the last N days of history: how many accounts
  would have entered, how many would have reached each step, how many CTAs it would have
  created.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.core import audit
from kizuna.core.conditions import Context, evaluate, matching, parse
from kizuna.core.models import User
from kizuna.customers.models import Account
from kizuna.flows import actions, engine
from kizuna.flows.choices import EnrolmentStatus, FlowStatus, RunStatus, TriggerType, WaitFor
from kizuna.flows.definition import (
    LOGIN,
    ActionStep,
    BandTrigger,
    ConditionStep,
    DateTrigger,
    DecisionStep,
    DefinitionError,
    EventTrigger,
    FlowDefinition,
    MilestoneTrigger,
    ScheduleTrigger,
    SegmentTrigger,
    StageTrigger,
    WaitStep,
    validate,
)
from kizuna.flows.models import Enrolment, FlowVersion, StepRun, SuccessFlow

__all__ = [
    "DefinitionError",
    "create_flow",
    "dry_run",
    "save_version",
    "set_status",
    "simulate",
]


def _check_name(name: str, flow: SuccessFlow | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the flow a name.")})
    if len(name) > 200:
        raise ValidationError({"name": _("Keep the name under 200 characters.")})
    taken = SuccessFlow.objects.filter(name=name)
    if flow is not None:
        taken = taken.exclude(pk=flow.pk)
    if taken.exists():
        raise ValidationError({"name": _("Another flow is called “%(name)s”.") % {"name": name}})
    return name


@transaction.atomic
def create_flow(
    actor: User | None,
    name: str,
    definition: Any,
    *,
    description: str = "",
    template_key: str = "",
) -> SuccessFlow:
    """Create a draft flow with its first version. Raises ValidationError (name) or
    DefinitionError (naming the step); then nothing is saved."""
    name = _check_name(name, None)
    parsed = validate(definition)
    flow = SuccessFlow.objects.create(
        name=name,
        description=description.strip(),
        template_key=template_key,
        created_by=actor if actor is not None and actor.pk else None,
    )
    _add_version(actor, flow, parsed, _("Created"))
    audit.record_create(actor, flow)
    return flow


@transaction.atomic
def save_version(
    actor: User | None,
    flow: SuccessFlow,
    definition: Any,
    *,
    note: str = "",
    name: str | None = None,
    description: str | None = None,
) -> FlowVersion:
    """Save a new version (the old ones stay: enrolments running on them finish on them).
    New enrolments start on it, live or not."""
    parsed = validate(definition)
    locked = SuccessFlow.objects.select_for_update().get(pk=flow.pk)
    before = audit.snapshot(locked)
    if name is not None:
        locked.name = _check_name(name, locked)
    if description is not None:
        locked.description = description.strip()
    version = _add_version(actor, locked, parsed, note)
    audit.record_update(actor, locked, before)
    flow.refresh_from_db()
    return version


def _add_version(
    actor: User | None, flow: SuccessFlow, parsed: FlowDefinition, note: str
) -> FlowVersion:
    number = (flow.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = FlowVersion.objects.create(
        flow=flow,
        number=number,
        definition=parsed.dump(),
        note=note[:200],
        created_by=actor if actor is not None and actor.pk else None,
    )
    flow.version = version
    flow.trigger_type = parsed.trigger.type
    flow.next_run_at = None  # a schedule is recomputed from the new trigger
    flow.save(update_fields=["version", "trigger_type", "next_run_at", "name", "description"])
    return version


def blockers(flow: SuccessFlow) -> list[str]:
    """Why this flow cannot go live (empty when it can)."""
    if flow.version is None:
        return [_("The flow has no saved version.")]
    definition = engine.definition_of(flow.version)
    if not definition.steps:
        return [_("The flow has no steps.")]
    return []


def unavailable_steps(definition: FlowDefinition) -> list[tuple[str, str]]:
    """Steps whose action needs a capability Kizuna does not have yet (they are skipped and
    logged as such when the flow runs)."""
    found = []
    for step in definition.steps:
        if isinstance(step, ActionStep):
            reason = actions.get(step.action).unavailable_reason
            if reason is not None:
                found.append((step.id, str(reason)))
    return found


@transaction.atomic
def set_status(actor: User | None, flow: SuccessFlow, status: str) -> SuccessFlow:
    """Turn a flow live, or pause it (its waiting runs wait; they go on when it is live
    again). Raises ValidationError when it cannot go live."""
    if status not in (FlowStatus.LIVE, FlowStatus.PAUSED):
        raise ValidationError({"status": _("A flow is turned live or paused.")})
    locked = SuccessFlow.objects.select_for_update().get(pk=flow.pk)
    if status == FlowStatus.LIVE:
        problems = blockers(locked)
        if problems:
            raise ValidationError({"status": problems})
    before = audit.snapshot(locked)
    locked.status = status
    if status == FlowStatus.LIVE:
        locked.paused_reason = ""
        locked.consecutive_failures = 0
    else:
        locked.paused_reason = _("Paused by %(user)s.") % {"user": actor or _("the API")}
    locked.save(update_fields=["status", "paused_reason", "consecutive_failures", "updated_at"])
    audit.record_update(actor, locked, before)
    if status == FlowStatus.LIVE:
        transaction.on_commit(engine.schedule_runner)
    flow.refresh_from_db()
    return flow


@transaction.atomic
def delete_flow(actor: User | None, flow: SuccessFlow) -> None:
    """Delete a flow that never enrolled anyone; a flow with history is paused instead, so
    its execution log stays readable."""
    if Enrolment.objects.filter(flow=flow).exists():
        raise ValidationError(
            _("This flow has enrolled accounts; pause it instead, so its log is kept.")
        )
    object_id = flow.pk
    flow.delete()
    audit.record_delete(actor, flow, object_id)


# --- Dry run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DryStep:
    step_id: str
    kind: str
    text: str
    branch: str = ""
    detail: list[dict[str, Any]] = field(default_factory=list)
    warning: str = ""


@dataclass(frozen=True)
class DryRun:
    account: Account
    enters: bool
    entry: list[str]
    audience: list[dict[str, Any]]
    steps: list[DryStep]


def dry_run(
    definition: FlowDefinition,
    account: Account,
    *,
    assume: dict[str, str] | None = None,
    flow: SuccessFlow | None = None,
    now: datetime.datetime | None = None,
) -> DryRun:
    """What the flow would do for this account, step by step, without doing any of it.
    Decisions take their 'no' path unless `assume` says {step id: "yes"}."""
    assume = assume or {}
    now = now or timezone.now()
    ctx = Context(today=timezone.localdate(now))
    entry: list[str] = []
    enters = True
    audience_seen: list[dict[str, Any]] = []
    audience = definition.audience_condition()
    if audience is not None:
        outcome = evaluate(audience, account.pk, ctx)
        audience_seen = engine.explain(outcome)
        if not outcome.matched:
            enters = False
            entry.append(_("The account does not match the audience, so it would not enter."))
    if flow is not None:
        earlier = Enrolment.objects.filter(flow=flow, account=account).aggregate(
            n=Count("id"), active=Count("id", filter=Q(status=EnrolmentStatus.ACTIVE))
        )
        if earlier["active"]:
            enters = False
            entry.append(_("The account is in this flow already, so it would not enter again."))
        elif earlier["n"] and definition.reentry.mode == "once":
            enters = False
            entry.append(_("The account was in this flow before and may enter only once."))
    if definition.holdout_percent:
        entry.append(
            _("%(n)d%% of entering accounts are held out at random and would not run the steps.")
            % {"n": definition.holdout_percent}
        )
    steps: list[DryStep] = []
    zone = engine.account_zone(account)
    moment = now
    current = definition.start
    run = actions.ActionRun(
        account=account,
        contact_id=None,
        flow_id=flow.pk if flow else 0,
        flow_name=flow.name if flow else _("(unsaved flow)"),
        version=flow.version.number if flow and flow.version else 0,
        step_id="",
        step_label="",
        key="dry-run",
        dry_run=True,
    )
    while current is not None:
        step = definition.step(current)
        if isinstance(step, ActionStep):
            action = actions.get(step.action)
            params = action.parse(step.params)
            run.step_id, run.step_label = step.id, step.label
            warning = str(action.unavailable_reason or "")
            steps.append(DryStep(step.id, step.type, action.plan(params, run), warning=warning))
            current = step.next
        elif isinstance(step, WaitStep):
            moment = engine.resume_at(step, moment, zone)
            text = _("Would wait until %(time)s (the account's time zone: %(zone)s).") % {
                "time": moment.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                "zone": str(zone),
            }
            steps.append(DryStep(step.id, step.type, text))
            current = step.next
        elif isinstance(step, ConditionStep):
            outcome = evaluate(parse(step.condition, check=False), account.pk, ctx)
            branch = "yes" if outcome.matched else "no"
            text = _("The condition is met.") if outcome.matched else _("The condition is not met.")
            steps.append(DryStep(step.id, step.type, text, branch, engine.explain(outcome)))
            current = step.yes if outcome.matched else step.no
        else:
            assert isinstance(step, DecisionStep) and step.within is not None
            branch = "yes" if assume.get(step.id) == "yes" else "no"
            text = _("Would wait up to %(limit)s for: %(what)s. Taking “%(branch)s”.") % {
                "limit": engine.describe_duration(step.within),
                "what": WaitFor(step.wait_for.kind).label,
                "branch": _("yes") if branch == "yes" else _("no"),
            }
            steps.append(DryStep(step.id, step.type, text, branch))
            current = step.yes if branch == "yes" else step.no
    return DryRun(account, enters, entry, audience_seen, steps)


# --- Simulation over history ----------------------------------------------------------------


@dataclass
class Simulation:
    days: int
    entered: int = 0
    # accounts reaching each step (an upper bound past a decision: both paths are counted)
    reached: dict[str, int] = field(default_factory=dict)
    ctas: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _historical_entrants(definition: FlowDefinition, days: int) -> tuple[set[int], list[str]]:
    """The accounts the trigger would have fired for over the last `days` days."""
    from kizuna.usage.models import AccountDailyUsage, Event, UsageSettings

    trigger = definition.trigger
    since = timezone.now() - datetime.timedelta(days=days)
    first_day = timezone.localdate() - datetime.timedelta(days=days)
    notes: list[str] = []
    match trigger:
        case EventTrigger():
            logins = UsageSettings.current().login_events
            names = list(logins) if trigger.event == LOGIN else [trigger.event]
            if trigger.occurrence is None and not trigger.properties:
                found = AccountDailyUsage.objects.filter(
                    type="track", event__in=names, day__gte=first_day, count__gt=0
                ).values_list("account_id", flat=True)
                return set(found), notes
            if trigger.occurrence is not None:
                # The Nth occurrence fell in the window: at least N in all, fewer than N before.
                before = dict(
                    AccountDailyUsage.objects.filter(
                        type="track", event__in=names, day__lt=first_day
                    )
                    .values("account_id")
                    .annotate(total=Sum("count"))
                    .values_list("account_id", "total")
                )
                total = dict(
                    AccountDailyUsage.objects.filter(type="track", event__in=names)
                    .values("account_id")
                    .annotate(total=Sum("count"))
                    .values_list("account_id", "total")
                )
                n = trigger.occurrence
                entrants = {
                    pk for pk, count in total.items() if count >= n and (before.get(pk) or 0) < n
                }
                if trigger.per == "contact":
                    notes.append(_("Occurrences are counted per account in the simulation."))
                if trigger.properties:
                    notes.append(_("Property filters are not applied to counted occurrences."))
                return entrants, notes
            from kizuna.flows.triggers import _passes

            rows = Event.objects.filter(
                event__in=names, timestamp__gte=since, account_id__isnull=False
            ).values_list("account_id", "properties")
            return {
                pk for pk, props in rows.iterator() if _passes(trigger.properties, props)
            }, notes
        case SegmentTrigger():
            from kizuna.segments.models import SegmentMembership

            stays = SegmentMembership.objects.filter(segment_id=trigger.segment)
            if trigger.type == TriggerType.SEGMENT_ENTERED:
                stays = stays.filter(entered_at__gte=since)
            else:
                stays = stays.filter(exited_at__gte=since)
            return set(stays.values_list("account_id", flat=True)), notes
        case StageTrigger():
            from kizuna.lifecycle.models import StageChange

            changes = StageChange.objects.filter(changed_at__gte=since)
            if trigger.to:
                changes = changes.filter(to_stage__in=trigger.to)
            if trigger.from_:
                changes = changes.filter(from_stage__in=trigger.from_)
            return set(changes.values_list("account_id", flat=True)), notes
        case BandTrigger():
            return _band_changes(trigger, first_day), notes
        case DateTrigger():
            from kizuna.flows.triggers import _dated_accounts

            offset = datetime.timedelta(days=trigger.offset_days)
            today = timezone.localdate()
            dated = _dated_accounts(trigger.field).filter(
                flow_date__gte=first_day - offset, flow_date__lte=today - offset
            )
            notes.append(_("Dates are read as they are today."))
            return set(dated.values_list("pk", flat=True)), notes
        case ScheduleTrigger():
            notes.append(_("A scheduled flow enrols its whole audience at each run."))
            return set(Account.objects.values_list("pk", flat=True)), notes
        case MilestoneTrigger():
            notes.append(_("Milestones are simulated from the dates they were reached."))
            try:
                from kizuna.milestones.models import AccountMilestone
            except ImportError:  # pragma: no cover - the milestones app is part of Kizuna
                return set(), notes
            reached = AccountMilestone.objects.all()
            if trigger.milestone is not None:
                reached = reached.filter(milestone_id=trigger.milestone)
            if trigger.type == TriggerType.MILESTONE_REACHED:
                reached = reached.filter(reached_on__gte=first_day)
            else:
                reached = reached.filter(reached_on__isnull=True, due_on__gte=first_day)
            return set(reached.values_list("account_id", flat=True)), notes


def _band_changes(trigger: Any, first_day: datetime.date) -> set[int]:
    """Accounts whose daily health snapshot moved to (and from) the trigger's bands."""
    from kizuna.health.models import HealthSnapshot

    rows = (
        HealthSnapshot.objects.filter(day__gte=first_day - datetime.timedelta(days=1))
        .order_by("account_id", "day")
        .values_list("account_id", "band")
    )
    entrants: set[int] = set()
    previous: tuple[int, str] | None = None
    for account_id, band in rows.iterator():
        moved = previous is not None and previous[0] == account_id and previous[1] != band
        if (
            moved
            and previous is not None
            and (not trigger.to or band in trigger.to)
            and (not trigger.from_ or previous[1] in trigger.from_)
        ):
            entrants.add(account_id)
        previous = (account_id, band)
    return entrants


def simulate(definition: FlowDefinition, days: int) -> Simulation:
    """Replay the trigger over the last `days` days and walk the steps with today's data:
    conditions split the accounts (one query each); a decision cannot be known in advance,
    so both of its paths are counted (the figures past it are upper bounds)."""
    if days < 1 or days > 365:
        raise ValidationError({"days": _("Simulate between 1 and 365 days.")})
    result = Simulation(days=days)
    entrants, notes = _historical_entrants(definition, days)
    result.notes += notes
    audience = definition.audience_condition()
    ctx = Context.now()
    if audience is not None and entrants:
        entrants = set(
            matching(audience, Account.objects.filter(pk__in=list(entrants)), ctx).values_list(
                "pk", flat=True
            )
        )
        result.notes.append(_("The audience is evaluated on today's data."))
    held = round(len(entrants) * definition.holdout_percent / 100)
    result.entered = len(entrants)
    if held:
        result.notes.append(
            _("About %(n)d of them would be held out and run no step.") % {"n": held}
        )
    reached: dict[str, set[int]] = defaultdict(set)
    pending: list[tuple[str | None, set[int]]] = [(definition.start, entrants)]
    while pending:
        step_id, accounts = pending.pop()
        if step_id is None or not accounts:
            continue
        reached[step_id] |= accounts
        step = definition.step(step_id)
        if isinstance(step, ActionStep | WaitStep):
            pending.append((step.next, accounts))
        elif isinstance(step, ConditionStep):
            yes = set(
                matching(
                    parse(step.condition, check=False),
                    Account.objects.filter(pk__in=list(accounts)),
                    ctx,
                ).values_list("pk", flat=True)
            )
            pending += [(step.yes, yes), (step.no, accounts - yes)]
        else:
            pending += [(step.yes, accounts), (step.no, accounts)]
    result.reached = {step.id: len(reached.get(step.id, ())) for step in definition.steps}
    for step in definition.steps:
        if isinstance(step, ActionStep):
            count = result.reached[step.id]
            result.actions[step.action] = result.actions.get(step.action, 0) + count
            if step.action == "cta.create":
                result.ctas += count
    if held:
        result.ctas = max(0, round(result.ctas * (1 - definition.holdout_percent / 100)))
    return result


def pending_runs(flow: SuccessFlow) -> int:
    return StepRun.objects.filter(
        flow=flow, status__in=[RunStatus.SCHEDULED, RunStatus.WAITING]
    ).count()
