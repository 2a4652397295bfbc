"""The flow engine: enrolling accounts, running the steps that are due, resolving decisions.

Durable: enrolments and step runs are rows. A step that should run later (after a wait, or a
decision's time limit) carries its due time; `run_due` claims a batch of due runs and does
them in ONE transaction — on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so workers take
different runs; on SQLite under the single writer lock. A worker that dies mid-batch rolls the
whole batch back: the runs are still due and the next worker does them, once. Actions are
idempotent on their run's key besides, and what leaves Kizuna (a webhook) goes through an
outbox committed with the batch.

Near-real-time: triggers enrol accounts inside the transaction of the change that fired them
(an event rolled up, a segment entered, a band changed), and the runner follows right after —
in the same background task for usage, through a debounced task for everything else.
"""

from __future__ import annotations

import datetime
import json
import logging
import random
import time
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.core import events
from kizuna.core.conditions import Context, evaluate, leaf_values, matching, parse
from kizuna.core.conditions.records import LeafRecord
from kizuna.core.debounce import Debounced
from kizuna.customers.models import Account
from kizuna.flows import actions
from kizuna.flows.choices import EnrolmentStatus, FlowStatus, Reentry, RunStatus, StepType, WaitFor
from kizuna.flows.definition import (
    ActionStep,
    ConditionStep,
    DecisionStep,
    FlowDefinition,
    WaitStep,
)
from kizuna.flows.models import Enrolment, FlowVersion, StepRun, SuccessFlow

logger = logging.getLogger(__name__)

BATCH = 2000
# Accounts per query when enrolling or answering decisions (bounded IN lists).
CHUNK = 2000
# A failing action is tried again after these delays, then the run fails.
BACKOFF = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=2),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# A flow whose runs fail this many times in a row is paused, with the reason shown.
PAUSE_AFTER_FAILURES = 10
STEP_EXECUTED = "flow.step.executed"

_DEFINITIONS: dict[tuple[int, datetime.datetime], FlowDefinition] = {}


def definition_of(version: FlowVersion) -> FlowDefinition:
    """The parsed definition of a version (versions never change, so it is cached; the key
    holds the save time too, so a restored database never meets a stale entry)."""
    key = (version.pk, version.created_at)
    parsed = _DEFINITIONS.get(key)
    if parsed is None:
        parsed = FlowDefinition.model_validate(version.definition)
        if len(_DEFINITIONS) > 10_000:
            _DEFINITIONS.clear()
        _DEFINITIONS[key] = parsed
    return parsed


def account_zone(account: Account) -> datetime.tzinfo:
    try:
        return zoneinfo.ZoneInfo(account.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


# --- Enrolling ------------------------------------------------------------------------------


@dataclass
class Candidate:
    """An account that met a flow's trigger, and what the trigger saw."""

    account_id: int
    contact_id: int | None = None
    trigger: dict[str, Any] = field(default_factory=dict)


def enrol(
    flow: SuccessFlow, candidates: Sequence[Candidate], now: datetime.datetime | None = None
) -> list[Enrolment]:
    """Enrol the candidates that may enter: not already in the flow, allowed by its re-entry
    rule, and matching its audience. A share goes to the hold-out group. The first step of the
    others is scheduled. A few queries whatever the number of candidates."""
    if flow.version is None or not candidates:
        return []
    now = now or timezone.now()
    unique: dict[int, Candidate] = {}
    for candidate in candidates:
        unique.setdefault(candidate.account_id, candidate)
    items = list(unique.items())
    created: list[Enrolment] = []
    for offset in range(0, len(items), CHUNK):
        created += _enrol_chunk(flow, dict(items[offset : offset + CHUNK]), now)
    return created


def _enrol_chunk(
    flow: SuccessFlow, wanted: dict[int, Candidate], now: datetime.datetime
) -> list[Enrolment]:
    assert flow.version is not None
    version = flow.version
    definition = definition_of(version)
    _drop_by_reentry(flow, definition, wanted, now)
    if not wanted:
        return []
    audience = definition.audience_condition()
    if audience is not None:
        ctx = Context(today=timezone.localdate(now))
        values = leaf_values(audience, wanted, ctx, Account.objects.all())
        for account_id in list(wanted):
            seen = values.get(account_id)
            if seen is None:
                del wanted[account_id]
                continue
            outcome = evaluate(audience, account_id, ctx, values=seen)
            if not outcome.matched:
                del wanted[account_id]
                continue
            wanted[account_id].trigger["audience"] = explain(outcome)
    else:
        existing = set(Account.objects.filter(pk__in=list(wanted)).values_list("pk", flat=True))
        wanted = {key: value for key, value in wanted.items() if key in existing}
    share = definition.holdout_percent / 100
    rows = [
        Enrolment(
            flow=flow,
            version=version,
            account_id=candidate.account_id,
            contact_id=candidate.contact_id,
            holdout=share > 0 and random.random() < share,
            status=EnrolmentStatus.ACTIVE,
            entered_at=now,
            trigger=candidate.trigger,
        )
        for candidate in wanted.values()
    ]
    for row in rows:
        if row.holdout:
            row.status = EnrolmentStatus.HELD_OUT
            row.finished_at = now
    created = _insert_enrolments(rows)
    starting = [row for row in created if not row.holdout]
    _schedule([(row, definition.start) for row in starting], now)
    if starting:
        transaction.on_commit(schedule_runner)
    return created


def _drop_by_reentry(
    flow: SuccessFlow, definition: FlowDefinition, wanted: dict[int, Candidate], now: Any
) -> None:
    rule = definition.reentry
    earlier = (
        Enrolment.objects.filter(flow=flow, account_id__in=list(wanted))
        .values("account_id")
        .annotate(last=Max("entered_at"), active=Count("id", filter=Q(status="active")))
    )
    for row in earlier:
        account_id = row["account_id"]
        if (
            row["active"]
            or rule.mode == Reentry.ONCE
            or row["last"] > now - datetime.timedelta(days=rule.after_days)
        ):
            wanted.pop(account_id, None)


def _insert_enrolments(rows: list[Enrolment]) -> list[Enrolment]:
    """Insert in bulk; if another transaction enrolled one of these accounts meanwhile (the
    one-active-enrolment constraint), insert one by one and skip the taken ones."""
    try:
        with transaction.atomic():
            return Enrolment.objects.bulk_create(rows)
    except IntegrityError:
        created = []
        for row in rows:
            row.pk = None
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
                created.append(row)
            except IntegrityError:
                continue
        return created


def explain(outcome: Any) -> list[dict[str, Any]]:
    """A condition's evaluation as the log keeps it: each comparison, the value seen, and
    whether it matched (the same record stage changes and milestones keep)."""
    return LeafRecord.from_evaluation(outcome)


# --- Scheduling the next step ---------------------------------------------------------------


def resume_at(step: WaitStep, now: datetime.datetime, zone: datetime.tzinfo) -> datetime.datetime:
    """When a wait ends: after its delay or at its date, then at the next moment within
    business hours in the account's time zone, if it asks for them."""
    moment = now
    if step.delay is not None:
        moment = now + step.delay.delta
    if step.until is not None:
        until = step.until
        if timezone.is_naive(until):
            until = until.replace(tzinfo=zone)
        moment = max(moment, until)
    hours = step.business_hours
    if hours is None:
        return moment
    local = moment.astimezone(zone)
    for _day in range(8):
        opens = local.replace(
            hour=hours.start.hour, minute=hours.start.minute, second=0, microsecond=0
        )
        closes = local.replace(
            hour=hours.end.hour, minute=hours.end.minute, second=0, microsecond=0
        )
        if local.weekday() in hours.weekdays:
            if local < opens:
                return opens
            if local < closes:
                return local
        local = opens + datetime.timedelta(days=1)
    return local


def _needs_zone(step: WaitStep) -> bool:
    return step.business_hours is not None or (
        step.until is not None and timezone.is_naive(step.until)
    )


def _zones(enrolments: Sequence[Enrolment]) -> dict[int, datetime.tzinfo]:
    """The time zone of each enrolment's account, read in one query."""
    ids = {enrolment.account_id for enrolment in enrolments}
    found = dict(Account.objects.filter(pk__in=list(ids)).values_list("pk", "time_zone"))
    default = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    zones: dict[int, datetime.tzinfo] = {}
    for account_id in ids:
        name = found.get(account_id) or ""
        try:
            zones[account_id] = zoneinfo.ZoneInfo(name) if name else default
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zones[account_id] = default
    return zones


def _schedule(pairs: Sequence[tuple[Enrolment, str | None]], now: datetime.datetime) -> None:
    """Create the run of each enrolment's next step (or complete the enrolment at the end)."""
    runs: list[StepRun] = []
    finished: list[int] = []
    email_waits: list[tuple[StepRun, Enrolment, DecisionStep]] = []
    zoned = [
        enrolment
        for enrolment, step_id in pairs
        if step_id is not None
        and isinstance(step := definition_of(enrolment.version).step(step_id), WaitStep)
        and _needs_zone(step)
    ]
    zones = _zones(zoned) if zoned else {}
    for enrolment, step_id in pairs:
        if step_id is None:
            enrolment.status = EnrolmentStatus.COMPLETED
            enrolment.finished_at = now
            finished.append(enrolment.pk)
            continue
        definition = definition_of(enrolment.version)
        step = definition.step(step_id)
        run = StepRun(
            enrolment=enrolment,
            flow_id=enrolment.flow_id,
            step_id=step.id,
            step_type=step.type,
            status=RunStatus.SCHEDULED,
            due_at=now,
        )
        if isinstance(step, WaitStep):
            zone = zones.get(enrolment.account_id) or datetime.UTC
            run.due_at = resume_at(step, now, zone)
        elif isinstance(step, DecisionStep):
            assert step.within is not None
            run.status = RunStatus.WAITING
            run.due_at = now + step.within.delta
            run.waits_for = step.wait_for.key()
            if step.wait_for.kind in (WaitFor.EMAIL_OPENED, WaitFor.EMAIL_CLICKED):
                email_waits.append((run, enrolment, step))
        runs.append(run)
    _settle_email_waits(email_waits, now)
    if runs:
        # A step runs at most once per enrolment; a run already there (a retried batch) stays.
        _insert_runs(runs, now)
    if finished:
        Enrolment.objects.filter(pk__in=finished).update(
            status=EnrolmentStatus.COMPLETED, finished_at=now
        )


# Batches of runs are written with one prepared statement executed for many rows: Django's
# bulk_update builds a CASE expression per field and row, which costs more than the work.
RUNS = StepRun._meta.db_table
_RUN_FIELDS = ("status", "outcome", "text", "detail", "error", "attempts", "due_at", "finished_at")


def _moment(value: datetime.datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(value) if value is not None else None


def _json(value: Any) -> str:
    return json.dumps(value or {}, ensure_ascii=False, default=str)


def _insert_runs(runs: Sequence[StepRun], now: datetime.datetime) -> None:
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {RUNS} (enrolment_id, flow_id, step_id, step_type, status, due_at, "  # noqa: S608
            "waits_for, attempts, created_at, outcome, text, detail, error) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 0, %s, '', '', %s, '') "
            "ON CONFLICT (enrolment_id, step_id) DO NOTHING",
            [
                (
                    run.enrolment_id,
                    run.flow_id,
                    run.step_id,
                    run.step_type,
                    run.status,
                    _moment(run.due_at),
                    run.waits_for,
                    _moment(now),
                    _json(run.detail),
                )
                for run in runs
            ],
        )


def _save_runs(runs: Sequence[StepRun]) -> None:
    sets = ", ".join(f"{name} = %s" for name in _RUN_FIELDS)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {RUNS} SET {sets} WHERE id = %s",  # noqa: S608
            [
                (
                    run.status,
                    run.outcome,
                    run.text,
                    _json(run.detail),
                    run.error,
                    run.attempts,
                    _moment(run.due_at),
                    _moment(run.finished_at),
                    run.pk,
                )
                for run in runs
            ],
        )


def _settle_email_waits(
    waits: list[tuple[StepRun, Enrolment, DecisionStep]], now: datetime.datetime
) -> None:
    """A decision waiting for an email that was never sent (the step was skipped, or every
    message was held back by the frequency cap or skipped) cannot be answered 'yes': it takes
    its 'no' path now, and says why."""
    if not waits:
        return
    sent = {
        (row.enrolment_id, row.step_id): row.outcome == "done" and row.detail.get("queued", 1) > 0
        for row in StepRun.objects.filter(
            enrolment_id__in=[enrolment.pk for _run, enrolment, _step in waits],
            step_id__in={step.wait_for.step for _run, _enrolment, step in waits},
        ).only("enrolment_id", "step_id", "outcome", "detail")
    }
    for run, enrolment, step in waits:
        if not sent.get((enrolment.pk, step.wait_for.step)):
            run.due_at = now
            run.detail = {"email_not_sent": True}


# --- Running due steps ----------------------------------------------------------------------


@dataclass
class RunReport:
    runs: int = 0
    batches: int = 0
    seconds: float = 0.0


def run_due(
    *, limit: int = BATCH, now: datetime.datetime | None = None, budget: float = 30.0
) -> RunReport:
    """Run due steps in batches until none is due (or `budget` seconds have passed)."""
    from kizuna.usage.services import writer

    report = RunReport()
    started = time.perf_counter()
    while time.perf_counter() - started < budget:
        moment = now or timezone.now()
        with writer(), transaction.atomic():
            runs = _claim(limit, moment)
            if runs:
                _process(runs, moment)
        if not runs:
            break
        report.runs += len(runs)
        report.batches += 1
    report.seconds = time.perf_counter() - started
    return report


def _claim(limit: int, now: datetime.datetime) -> list[StepRun]:
    """The due runs of live flows, oldest first, locked for this transaction (on
    PostgreSQL, runs another worker holds are skipped), then loaded with what running them
    needs. (Two queries: one locking query with the joins makes PostgreSQL plan worse.)"""
    due = (
        StepRun.objects.filter(
            status__in=[RunStatus.SCHEDULED, RunStatus.WAITING],
            due_at__lte=now,
            flow__status=FlowStatus.LIVE,
        )
        .order_by("due_at", "id")
        .values_list("id", flat=True)
    )
    if connection.vendor == "postgresql":
        due = due.select_for_update(skip_locked=True, of=("self",))
    ids = list(due[:limit])
    if not ids:
        return []
    return list(
        StepRun.objects.filter(pk__in=ids)
        .select_related("enrolment__account", "enrolment__version", "enrolment__flow")
        .order_by("due_at", "id")
    )


def _process(runs: list[StepRun], now: datetime.datetime) -> None:
    ctx = Context(today=timezone.localdate(now))
    exits = _exits(runs, ctx)
    conditions = _condition_values(runs, ctx)
    following: list[tuple[Enrolment, str | None]] = []
    closed: dict[int, Enrolment] = {}
    failures: dict[int, int] = defaultdict(int)
    successes: set[int] = set()
    for run in runs:
        enrolment = run.enrolment
        run.finished_at = now
        if enrolment.status != EnrolmentStatus.ACTIVE:
            _finish(run, RunStatus.CANCELLED, "cancelled", _("The account had left the flow."))
            continue
        if enrolment.pk in exits:
            _finish(run, RunStatus.CANCELLED, "cancelled", _("Left the flow: exit criteria met."))
            run.detail = {"exit": exits[enrolment.pk]}
            enrolment.status = EnrolmentStatus.EXITED
            enrolment.finished_at = now
            enrolment.exit_reason = _("Exit criteria met at step %(step)s.") % {"step": run.step_id}
            closed[enrolment.pk] = enrolment
            continue
        step = definition_of(enrolment.version).step(run.step_id)
        if isinstance(step, WaitStep):
            _finish(run, RunStatus.DONE, "done", _("Waited until %(time)s.") % {"time": _when(now)})
            following.append((enrolment, step.next))
        elif isinstance(step, DecisionStep):
            _decide_no(run, step)
            following.append((enrolment, step.no))
        elif isinstance(step, ConditionStep):
            outcome = conditions[(enrolment.version_id, step.id)][enrolment.account_id]
            branch = "yes" if outcome.matched else "no"
            _finish(
                run,
                RunStatus.DONE,
                branch,
                _("The condition was met.") if outcome.matched else _("The condition was not met."),
            )
            run.detail = {"condition": explain(outcome)}
            following.append((enrolment, step.yes if outcome.matched else step.no))
        elif isinstance(step, ActionStep):
            if _act(run, step, enrolment, now):
                successes.add(enrolment.flow_id)
                following.append((enrolment, step.next))
            elif run.status == RunStatus.FAILED:
                failures[enrolment.flow_id] += 1
                enrolment.status = EnrolmentStatus.FAILED
                enrolment.finished_at = now
                enrolment.exit_reason = run.error
                closed[enrolment.pk] = enrolment
            else:
                failures[enrolment.flow_id] += 1
    _save_runs(runs)
    if closed:
        Enrolment.objects.bulk_update(
            list(closed.values()), ["status", "finished_at", "exit_reason"]
        )
    _schedule(following, now)
    _record_health(failures, successes, runs)
    events.publish_many(
        [
            events.DomainEvent(type=STEP_EXECUTED, instance=run, object_id=run.pk)
            for run in runs
            if run.status in (RunStatus.DONE, RunStatus.FAILED)
        ]
    )


def _finish(run: StepRun, status: str, outcome: str, text: str) -> None:
    run.status = status
    run.outcome = outcome
    run.text = text


def _when(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _decide_no(run: StepRun, step: DecisionStep) -> None:
    if run.detail.get("email_not_sent"):
        text = _("The email was not sent, so it cannot have been opened or clicked: taking 'no'.")
    else:
        assert step.within is not None
        text = _("%(what)s did not happen within %(limit)s.") % {
            "what": WaitFor(step.wait_for.kind).label,
            "limit": describe_duration(step.within),
        }
    _finish(run, RunStatus.DONE, "no", text)


def describe_duration(duration: Any) -> str:
    parts = []
    if duration.days:
        parts.append(_("%(n)d days") % {"n": duration.days})
    if duration.hours:
        parts.append(_("%(n)d hours") % {"n": duration.hours})
    if duration.minutes:
        parts.append(_("%(n)d minutes") % {"n": duration.minutes})
    return " ".join(parts) or _("no time")


def _exits(runs: Sequence[StepRun], ctx: Context) -> dict[int, list[dict[str, Any]]]:
    """The enrolments whose exit criteria their accounts now meet (one query per version)."""
    by_version: dict[int, list[StepRun]] = defaultdict(list)
    for run in runs:
        by_version[run.enrolment.version_id].append(run)
    leaving: dict[int, list[dict[str, Any]]] = {}
    for group in by_version.values():
        condition = definition_of(group[0].enrolment.version).exit_condition()
        if condition is None:
            continue
        accounts = {run.enrolment.account_id for run in group}
        values = leaf_values(condition, accounts, ctx, Account.objects.all())
        for run in group:
            seen = values.get(run.enrolment.account_id)
            if seen is None:
                continue
            outcome = evaluate(condition, run.enrolment.account_id, ctx, values=seen)
            if outcome.matched:
                leaving[run.enrolment_id] = explain(outcome)
    return leaving


def _condition_values(runs: Sequence[StepRun], ctx: Context) -> dict[tuple[int, str], Any]:
    """Evaluate every condition step of the batch: one query per (version, step)."""
    groups: dict[tuple[int, str], list[StepRun]] = defaultdict(list)
    for run in runs:
        if run.step_type == StepType.CONDITION:
            groups[(run.enrolment.version_id, run.step_id)].append(run)
    results: dict[tuple[int, str], Any] = {}
    for key, group in groups.items():
        step = definition_of(group[0].enrolment.version).step(key[1])
        assert isinstance(step, ConditionStep)
        condition = parse(step.condition, check=False)
        accounts = {run.enrolment.account_id for run in group}
        values = leaf_values(condition, accounts, ctx, Account.objects.all())
        results[key] = {
            account_id: evaluate(
                condition,
                account_id,
                ctx,
                values=values.get(account_id) or [None] * len(condition.leaves()),
            )
            for account_id in accounts
        }
    return results


def _act(run: StepRun, step: ActionStep, enrolment: Enrolment, now: datetime.datetime) -> bool:
    """Do an action step; True when it is done (or skipped) and the flow goes on."""
    action = actions.get(step.action)
    params = action.parse(step.params)
    context = actions.ActionRun(
        account=enrolment.account,
        contact_id=enrolment.contact_id,
        flow_id=enrolment.flow_id,
        flow_name=enrolment.flow.name,
        version=enrolment.version.number,
        step_id=step.id,
        step_label=step.label,
        key=f"flow-run:{run.enrolment_id}:{step.id}",
        trigger=enrolment.trigger,
        enrolment_id=run.enrolment_id,
    )
    run.attempts += 1
    try:
        with transaction.atomic():
            result = action.execute(params, context)
    except actions.ActionUnavailable as exc:
        _finish(run, RunStatus.DONE, "skipped", _("Not done: %(reason)s") % {"reason": exc})
        return True
    except Exception as exc:
        logger.warning("Flow step %s failed for account %s", step.id, enrolment.account_id)
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        if run.attempts >= MAX_ATTEMPTS:
            _finish(
                run,
                RunStatus.FAILED,
                "failed",
                _("Failed after %(n)d attempts: %(error)s") % {"n": run.attempts, "error": exc},
            )
        else:
            run.status = RunStatus.SCHEDULED
            run.due_at = now + BACKOFF[run.attempts - 1]
            run.finished_at = None
            run.text = _("Attempt %(n)d failed: %(error)s. Trying again at %(time)s.") % {
                "n": run.attempts,
                "error": exc,
                "time": _when(run.due_at),
            }
        return False
    _finish(run, RunStatus.DONE, "done", result.text)
    run.detail = {"action": step.action, **result.detail}
    run.error = ""
    return True


def _record_health(failures: dict[int, int], successes: set[int], runs: Sequence[StepRun]) -> None:
    """Count failures in a row per flow; pause a flow that keeps failing, saying why."""
    for flow_id in successes - set(failures):
        SuccessFlow.objects.filter(pk=flow_id, consecutive_failures__gt=0).update(
            consecutive_failures=0
        )
    for flow_id, count in failures.items():
        flow = SuccessFlow.objects.select_for_update().get(pk=flow_id)
        flow.consecutive_failures += count
        errors = [run.error for run in runs if run.flow_id == flow_id and run.error]
        flow.last_error = errors[-1] if errors else flow.last_error
        fields = ["consecutive_failures", "last_error"]
        if flow.consecutive_failures >= PAUSE_AFTER_FAILURES and flow.status == FlowStatus.LIVE:
            flow.status = FlowStatus.PAUSED
            flow.paused_reason = _(
                "Paused automatically: %(n)d step runs failed in a row. Last error: %(error)s"
            ) % {"n": flow.consecutive_failures, "error": flow.last_error}
            fields += ["status", "paused_reason"]
            logger.error("Paused flow %s: %s", flow.pk, flow.paused_reason)
        flow.save(update_fields=fields)


# --- Decisions that wait for something ------------------------------------------------------


def resolve_waits(
    happened: dict[int, set[str]], now: datetime.datetime, what: dict[str, str] | None = None
) -> int:
    """Answer 'yes' to the decisions waiting for something that just happened: `happened`
    maps an account to the wait keys (see WaitForSpec.key) it now satisfies."""
    accounts = list(happened)
    answered = 0
    for offset in range(0, len(accounts), CHUNK):
        part = {key: happened[key] for key in accounts[offset : offset + CHUNK]}
        answered += _resolve(part, now, what)
    return answered


def _resolve(happened: dict[int, set[str]], now: datetime.datetime, what: Any) -> int:
    keys = {key for values in happened.values() for key in values}
    if not keys:
        return 0
    waiting = list(
        StepRun.objects.filter(
            status=RunStatus.WAITING,
            waits_for__in=keys,
            enrolment__account_id__in=list(happened),
            enrolment__status=EnrolmentStatus.ACTIVE,
            flow__status=FlowStatus.LIVE,
        ).select_related("enrolment__account", "enrolment__version", "enrolment__flow")
    )
    answered = [run for run in waiting if run.waits_for in happened[run.enrolment.account_id]]
    following: list[tuple[Enrolment, str | None]] = []
    for run in answered:
        step = definition_of(run.enrolment.version).step(run.step_id)
        assert isinstance(step, DecisionStep)
        _finish(
            run,
            RunStatus.DONE,
            "yes",
            _("%(what)s at %(time)s.")
            % {"what": (what or {}).get(run.waits_for) or run.waits_for, "time": _when(now)},
        )
        run.finished_at = now
        following.append((run.enrolment, step.yes))
    if answered:
        # In a savepoint: a failure here is the flow's, never the change that answered it.
        with transaction.atomic():
            _save_runs(answered)
            _schedule(following, now)
        events.publish_many(
            [
                events.DomainEvent(type=STEP_EXECUTED, instance=run, object_id=run.pk)
                for run in answered
            ]
        )
        transaction.on_commit(schedule_runner)
    return len(answered)


# --- Exit criteria, when the accounts' data changes -----------------------------------------


def check_exits(account_ids: Sequence[int] | None, ctx: Context) -> int:
    """The recompute step: active enrolments whose accounts now meet their flow's exit
    criteria leave it (one query per flow version with exit criteria)."""
    active = Enrolment.objects.filter(status=EnrolmentStatus.ACTIVE, holdout=False)
    if account_ids is not None:
        active = active.filter(account_id__in=list(account_ids))
    versions = FlowVersion.objects.filter(
        pk__in=active.values("version_id").distinct()
    ).select_related("flow")
    now = timezone.now()
    left = 0
    for version in versions:
        condition = definition_of(version).exit_condition()
        if condition is None:
            continue
        mine = active.filter(version=version)
        meeting = matching(
            condition, Account.objects.filter(pk__in=mine.values("account_id")), ctx
        ).values("pk")
        leaving = list(mine.filter(account_id__in=meeting).values_list("pk", flat=True))
        if leaving:
            Enrolment.objects.filter(pk__in=leaving, status=EnrolmentStatus.ACTIVE).update(
                status=EnrolmentStatus.EXITED,
                finished_at=now,
                exit_reason=_("Exit criteria met."),
            )
            StepRun.objects.filter(
                enrolment_id__in=leaving, status__in=[RunStatus.SCHEDULED, RunStatus.WAITING]
            ).update(
                status=RunStatus.CANCELLED,
                outcome="cancelled",
                text=_("Left the flow: exit criteria met."),
                finished_at=now,
            )
            left += len(leaving)
    return left


def _runner_task() -> Any:
    from kizuna.flows import tasks

    return tasks.run_due_steps


schedule_runner = Debounced(_runner_task, 0.5)
