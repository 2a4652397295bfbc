"""What enrols accounts in live flows, and answers the decisions waiting for something.

- Events: the usage rollup calls `on_events` with each chunk of newly received events, in
  the chunk's own transaction, so every event is looked at exactly once. Counting ("the
  second login") reads the per-account rollups the chunk has just updated, not the raw
  events.
- Segment entered/left, health band changed, stage changed, milestone reached/overdue: the
  domain events published in the transaction of the change (`on_domain_events`).
- Dates relative to a field, and schedules: periodic jobs (`enrol_by_date`,
  `enrol_on_schedule`), since time is what fires them.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import DateField, F, Min, OuterRef, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.core import events
from kizuna.core.conditions import Context, matching
from kizuna.customers.choices import LIVE_SUBSCRIPTION_STATUSES
from kizuna.customers.models import Account, Subscription
from kizuna.flows import engine
from kizuna.flows.choices import DateField as DateFieldChoice
from kizuna.flows.choices import FlowStatus, RunStatus, TriggerType
from kizuna.flows.definition import (
    LOGIN,
    BandTrigger,
    DateTrigger,
    EventTrigger,
    FlowDefinition,
    MilestoneTrigger,
    PropertyFilter,
    ScheduleTrigger,
    SegmentTrigger,
    StageTrigger,
)
from kizuna.flows.engine import Candidate
from kizuna.flows.models import Enrolment, StepRun, SuccessFlow

logger = logging.getLogger(__name__)


def live_flows(types: Sequence[str]) -> list[tuple[SuccessFlow, FlowDefinition]]:
    flows = SuccessFlow.objects.filter(
        status=FlowStatus.LIVE, trigger_type__in=list(types), version__isnull=False
    ).select_related("version")
    return [(flow, engine.definition_of(flow.version)) for flow in flows if flow.version]


# --- Events -----------------------------------------------------------------------------------


def _names(trigger_event: str, logins: set[str]) -> set[str]:
    return set(logins) if trigger_event == LOGIN else {trigger_event}


def _same(value: Any, expected: Any) -> bool:
    """Equality as people mean it: 30 and 30.0 are the same, the text "true" is not yes."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    if isinstance(value, int | float) and isinstance(expected, int | float):
        return float(value) == float(expected)
    return str(value) == str(expected)


def _passes(filters: Sequence[PropertyFilter], properties: dict[str, Any]) -> bool:
    for rule in filters:
        present = rule.key in properties
        value = properties.get(rule.key)
        if rule.op == "exists":
            ok = present and value not in (None, "")
        elif not present:
            ok = rule.op == "ne"
        elif rule.op in ("eq", "ne"):
            ok = _same(value, rule.value) == (rule.op == "eq")
        elif rule.op == "contains":
            ok = str(rule.value).casefold() in str(value).casefold()
        else:
            try:
                number, limit = float(value), float(rule.value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return False
            ok = number > limit if rule.op == "gt" else number < limit
        if not ok:
            return False
    return True


def on_events(start: int, end: int) -> None:
    """Look at the events with ids in (start, end] for event triggers and awaited events."""
    from kizuna.usage.models import Event, UsageSettings

    flows = live_flows([TriggerType.EVENT])
    waiting = set(
        StepRun.objects.filter(status=RunStatus.WAITING, waits_for__startswith="event:")
        .values_list("waits_for", flat=True)
        .distinct()
    )
    if not flows and not waiting:
        return
    logins = set(UsageSettings.current().login_events)
    by_name: dict[str, list[tuple[SuccessFlow, EventTrigger]]] = defaultdict(list)
    for flow, definition in flows:
        trigger = definition.trigger
        assert isinstance(trigger, EventTrigger)
        for name in _names(trigger.event, logins):
            by_name[name].append((flow, trigger))
    awaited = {key.removeprefix("event:") for key in waiting}
    names = set(by_name) | {name for key in awaited for name in _names(key, logins)}
    rows = list(
        Event.objects.filter(id__gt=start, id__lte=end, event__in=names, account_id__isnull=False)
        .order_by("id")
        .values_list("id", "account_id", "contact_id", "event", "timestamp")
    )
    if not rows:
        return
    now = timezone.now()
    if waiting:
        happened: dict[int, set[str]] = defaultdict(set)
        for _id, account_id, _contact, name, _at in rows:
            for key in (f"event:{name}", f"event:{LOGIN}" if name in logins else ""):
                if key in waiting:
                    happened[account_id].add(key)
        engine.resolve_waits(happened, now, {key: _("%s received") % key[6:] for key in waiting})
    needs_properties = any(
        trigger.properties for pairs in by_name.values() for _f, trigger in pairs
    )
    properties: dict[int, dict[str, Any]] = {}
    if needs_properties:
        properties = dict(
            Event.objects.filter(pk__in=[row[0] for row in rows]).values_list("id", "properties")
        )
    candidates: dict[int, list[Candidate]] = defaultdict(list)
    flows_by_id = {
        flow.pk: (flow, trigger) for pairs in by_name.values() for flow, trigger in pairs
    }
    counted = _occurrences(rows, flows_by_id.values(), logins)
    for event_id, account_id, contact_id, name, at in rows:
        for flow, trigger in by_name.get(name, ()):
            if trigger.per == "contact" and contact_id is None and trigger.occurrence:
                continue
            if (
                trigger.occurrence is not None
                and counted.get((flow.pk, event_id)) != trigger.occurrence
            ):
                continue
            if trigger.properties and not _passes(
                trigger.properties, properties.get(event_id) or {}
            ):
                continue
            detail: dict[str, Any] = {
                "type": TriggerType.EVENT,
                "event": name,
                "event_id": event_id,
                "at": at.isoformat(),
            }
            if trigger.occurrence is not None:
                detail["occurrence"] = trigger.occurrence
            if trigger.properties:
                shown = properties.get(event_id) or {}
                detail["properties"] = {
                    rule.key: shown.get(rule.key) for rule in trigger.properties
                }
            candidates[flow.pk].append(Candidate(account_id, contact_id, detail))
    for flow_id, found in candidates.items():
        _enrol_safely(flows_by_id[flow_id][0], found, now)


def _occurrences(
    rows: Sequence[tuple[Any, ...]],
    flows: Any,
    logins: set[str],
) -> dict[tuple[int, int], int]:
    """For flows that count ("the second login"): which occurrence each event of the chunk
    is, per account or per contact — from the rollups, which already include the chunk.
    Flows counting the same events the same way share one query."""
    groups: dict[tuple[frozenset[str], bool], list[int]] = defaultdict(list)
    for flow, trigger in flows:
        if trigger.occurrence is not None:
            names = frozenset(_names(trigger.event, logins))
            groups[(names, trigger.per == "contact")].append(flow.pk)
    counted: dict[tuple[int, int], int] = {}
    for (names, per_contact), flow_ids in groups.items():
        for event_id, occurrence in _count(rows, names, per_contact).items():
            for flow_id in flow_ids:
                counted[(flow_id, event_id)] = occurrence
    return counted


def _count(
    rows: Sequence[tuple[Any, ...]], names: frozenset[str], per_contact: bool
) -> dict[int, int]:
    from kizuna.usage.models import AccountDailyUsage, ContactDailyUsage

    mine = [row for row in rows if row[3] in names and (row[2] is not None or not per_contact)]
    if not mine:
        return {}
    owner = 2 if per_contact else 1  # the row's contact or account
    keys = {row[owner] for row in mine}
    if per_contact:
        totals = dict(
            ContactDailyUsage.objects.filter(contact_id__in=keys, type="track", event__in=names)
            .values("contact_id")
            .annotate(total=Sum("count"))
            .values_list("contact_id", "total")
        )
    else:
        totals = dict(
            AccountDailyUsage.objects.filter(account_id__in=keys, type="track", event__in=names)
            .values("account_id")
            .annotate(total=Sum("count"))
            .values_list("account_id", "total")
        )
    in_chunk: dict[int, int] = defaultdict(int)
    for row in mine:
        in_chunk[row[owner]] += 1
    seen: dict[int, int] = defaultdict(int)
    occurrences: dict[int, int] = {}
    for row in mine:
        key = row[owner]
        seen[key] += 1
        occurrences[row[0]] = int(totals.get(key) or 0) - in_chunk[key] + seen[key]
    return occurrences


def _enrol_safely(flow: SuccessFlow, candidates: list[Candidate], now: datetime.datetime) -> None:
    """Enrol without ever undoing the change that triggered it: a failure is logged and
    recorded on the flow, and the caller's transaction goes on."""
    try:
        with transaction.atomic():
            engine.enrol(flow, candidates, now)
    except Exception as exc:
        logger.exception("Could not enrol accounts in flow %s", flow.pk)
        SuccessFlow.objects.filter(pk=flow.pk).update(last_error=f"{type(exc).__name__}: {exc}")


# --- Domain events ----------------------------------------------------------------------------

SEGMENT_ENTERED = "segment.entered"
SEGMENT_EXITED = "segment.exited"
HEALTH_CHANGED = "health.changed"
STAGE_CHANGED = "stage.changed"
MILESTONE_REACHED = "milestone.reached"
MILESTONE_OVERDUE = "milestone.overdue"
WATCHED = {
    SEGMENT_ENTERED: TriggerType.SEGMENT_ENTERED,
    SEGMENT_EXITED: TriggerType.SEGMENT_EXITED,
    HEALTH_CHANGED: TriggerType.HEALTH_BAND_CHANGED,
    STAGE_CHANGED: TriggerType.STAGE_CHANGED,
    MILESTONE_REACHED: TriggerType.MILESTONE_REACHED,
    MILESTONE_OVERDUE: TriggerType.MILESTONE_OVERDUE,
}


def _fires(trigger: Any, event: events.DomainEvent) -> dict[str, Any] | None:
    """What the trigger saw in this event, or None when it does not fire."""
    instance: Any = event.instance
    if isinstance(trigger, SegmentTrigger):
        if instance.segment_id != trigger.segment:
            return None
        return {"type": trigger.type, "segment": trigger.segment}
    if isinstance(trigger, BandTrigger):
        band: list[Any] = list(event.changes.get("band") or ["", ""])
        before, after = band[0], band[-1]
        if before == after or (trigger.to and after not in trigger.to):
            return None
        if trigger.from_ and before not in trigger.from_:
            return None
        return {"type": trigger.type, "from": before, "to": after}
    if isinstance(trigger, StageTrigger):
        before, after = instance.from_stage, instance.to_stage
        if (trigger.to and after not in trigger.to) or (
            trigger.from_ and before not in trigger.from_
        ):
            return None
        return {"type": trigger.type, "from": before, "to": after}
    if isinstance(trigger, MilestoneTrigger):
        if trigger.milestone is not None and instance.milestone_id != trigger.milestone:
            return None
        return {"type": trigger.type, "milestone": instance.milestone_id}
    return None


def on_domain_events(batch: Sequence[events.DomainEvent]) -> None:
    relevant = [event for event in batch if event.type in WATCHED]
    if not relevant:
        return
    now = timezone.now()
    happened: dict[int, set[str]] = defaultdict(set)
    for event in relevant:
        instance: Any = event.instance
        if event.type == SEGMENT_ENTERED:
            happened[instance.account_id].add(f"segment:{instance.segment_id}")
        elif event.type == MILESTONE_REACHED:
            happened[instance.account_id] |= {f"milestone:{instance.milestone_id}", "milestone:*"}
    if happened:
        try:
            engine.resolve_waits(happened, now, _wait_labels(happened))
        except Exception:
            logger.exception("Could not resolve waiting flow decisions")
    flows = live_flows(list({WATCHED[event.type] for event in relevant}))
    for flow, definition in flows:
        found: list[Candidate] = []
        for event in relevant:
            if WATCHED[event.type] != definition.trigger.type:
                continue
            detail = _fires(definition.trigger, event)
            if detail is not None:
                account_id = getattr(event.instance, "account_id", None)
                if account_id is not None:
                    found.append(Candidate(int(account_id), None, detail))
        if found:
            _enrol_safely(flow, found, now)


def _wait_labels(happened: dict[int, set[str]]) -> dict[str, str]:
    labels = {}
    for keys in happened.values():
        for key in keys:
            kind = key.partition(":")[0]
            labels[key] = _("Entered the segment") if kind == "segment" else _("Milestone reached")
    return labels


# --- Dates and schedules ----------------------------------------------------------------------

CATCH_UP_DAYS = 7


def _dated_accounts(field: str) -> Any:
    accounts = Account.objects.all()
    match field:
        case DateFieldChoice.RENEWAL:
            return accounts.annotate(flow_date=F("next_renewal_date"))
        case DateFieldChoice.STAGE_ENTERED:
            return accounts.annotate(flow_date=F("stage_entered_on"))
        case DateFieldChoice.ACCOUNT_CREATED:
            return accounts.annotate(flow_date=TruncDate("created_at"))
        case DateFieldChoice.CONTRACT_START:
            first = (
                Subscription.objects.filter(
                    account=OuterRef("pk"), status__in=LIVE_SUBSCRIPTION_STATUSES
                )
                .values("account")
                .annotate(first=Min("start_date"))
                .values("first")
            )
            return accounts.annotate(flow_date=Subquery(first, output_field=DateField()))
    raise ValueError(field)


def enrol_by_date(today: datetime.date | None = None) -> int:
    """Enrol the accounts whose date (renewal, start …) plus the flow's offset is today —
    or fell in the last week and they were not enrolled since (the worker was down)."""
    today = today or timezone.localdate()
    now = timezone.now()
    entered = 0
    for flow, definition in live_flows([TriggerType.DATE]):
        trigger = definition.trigger
        assert isinstance(trigger, DateTrigger)
        offset = datetime.timedelta(days=trigger.offset_days)
        low, high = today - datetime.timedelta(days=CATCH_UP_DAYS) - offset, today - offset
        due = list(
            _dated_accounts(trigger.field)
            .filter(flow_date__gte=low, flow_date__lte=high)
            .values_list("pk", "flow_date")
        )
        if not due:
            continue
        since = dict(
            Enrolment.objects.filter(flow=flow, account_id__in=[pk for pk, _d in due])
            .values("account_id")
            .annotate(last=Min("entered_at"))
            .values_list("account_id", "last")
        )
        candidates = []
        for pk, day in due:
            fires_on = day + offset
            last = since.get(pk)
            if last is not None and timezone.localdate(last) >= fires_on:
                continue
            detail = {
                "type": TriggerType.DATE,
                "field": trigger.field,
                "date": day.isoformat(),
                "offset_days": trigger.offset_days,
            }
            candidates.append(Candidate(pk, None, detail))
        with transaction.atomic():
            entered += len(engine.enrol(flow, candidates, now))
    return entered


def next_schedule(trigger: ScheduleTrigger, after: datetime.datetime) -> datetime.datetime:
    local = timezone.localtime(after)
    candidate = local.replace(
        hour=trigger.at.hour, minute=trigger.at.minute, second=0, microsecond=0
    )
    for _i in range(400):
        fits = (
            trigger.every == "day"
            or (trigger.every == "week" and candidate.weekday() == trigger.weekday)
            or (trigger.every == "month" and candidate.day == trigger.day)
        )
        if fits and candidate > local:
            return candidate
        candidate += datetime.timedelta(days=1)
    raise AssertionError("no next run within 400 days")


def enrol_on_schedule(now: datetime.datetime | None = None) -> int:
    """Enrol the audience of every scheduled flow whose time has come (each slot is claimed
    by one worker with a conditional UPDATE)."""
    now = now or timezone.now()
    entered = 0
    for flow, definition in live_flows([TriggerType.SCHEDULE]):
        trigger = definition.trigger
        assert isinstance(trigger, ScheduleTrigger)
        if flow.next_run_at is None:
            SuccessFlow.objects.filter(pk=flow.pk, next_run_at__isnull=True).update(
                next_run_at=next_schedule(trigger, now)
            )
            continue
        if flow.next_run_at > now:
            continue
        with transaction.atomic():
            claimed = SuccessFlow.objects.filter(pk=flow.pk, next_run_at=flow.next_run_at).update(
                next_run_at=next_schedule(trigger, now)
            )
            if not claimed:
                continue
            audience = definition.audience_condition()
            accounts = Account.objects.all()
            if audience is not None:
                accounts = matching(audience, accounts, Context(today=timezone.localdate(now)))
            detail = {"type": TriggerType.SCHEDULE, "at": now.isoformat()}
            candidates = [
                Candidate(pk, None, dict(detail)) for pk in accounts.values_list("pk", flat=True)
            ]
            entered += len(engine.enrol(flow, candidates, now))
    return entered
