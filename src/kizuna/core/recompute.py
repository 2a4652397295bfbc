"""Derived data per account — tier, lifecycle stage, health score, segment membership — is
recomputed set-based: for every account on a schedule, and within seconds for the accounts
whose data changed.

Apps register *steps* (`register_step`) with an order: tiers, then stages, then health
(its scorecard is chosen by stage), then segments (which may read all of those). A step
receives the account ids to recompute (None: every account) and the evaluation context, and
must do its work in a few queries whatever the number of accounts.

Changes mark accounts as dirty (`mark`, in the transaction of the change: customer data
through domain events, usage through the rollup worker); `run_pending` recomputes them. It
runs right after each usage rollup in the same task, after other changes through a
debounced task, and every minute as a safety net. A step that fails is logged and recorded
(`last_errors`), and never stops the steps after it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kizuna.core import events
from kizuna.core.conditions import Context
from kizuna.core.debounce import Debounced
from kizuna.core.models import DirtyAccount

logger = logging.getLogger(__name__)

StepFunction = Callable[[Sequence[int] | None, Context], Any]

# Accounts recomputed per run of `run_pending`; the rest wait for the next run.
BATCH = 20_000
# PostgreSQL advisory lock: one recompute of pending accounts at a time.
RECOMPUTE_LOCK = 0x6B697A_7263


@dataclass(frozen=True)
class Step:
    key: str
    order: int
    run: StepFunction


_STEPS: dict[str, Step] = {}


def register_step(key: str, order: int, run: StepFunction) -> None:
    """Add a recompute step (called from an AppConfig.ready). Orders used: 10 tiers,
    20 stages, 30 health, 40 segments."""
    _STEPS[key] = Step(key, order, run)


def steps() -> list[Step]:
    return sorted(_STEPS.values(), key=lambda step: (step.order, step.key))


@dataclass
class Report:
    accounts: int | None  # None: all accounts
    seconds: float = 0.0
    step_seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


last_errors: dict[str, str] = {}


def recompute(account_ids: Sequence[int] | None = None, ctx: Context | None = None) -> Report:
    """Run every step for these accounts (every account when None)."""
    ctx = ctx or Context.now()
    report = Report(accounts=None if account_ids is None else len(account_ids))
    started = time.perf_counter()
    marked_before = timezone.now()
    for step in steps():
        step_started = time.perf_counter()
        try:
            with transaction.atomic():
                step.run(account_ids, ctx)
        except Exception as exc:
            logger.exception("Recompute step %s failed", step.key)
            report.errors[step.key] = f"{type(exc).__name__}: {exc}"
        report.step_seconds[step.key] = time.perf_counter() - step_started
    report.seconds = time.perf_counter() - started
    if account_ids is None and not report.errors:
        # Everything is fresh: what was marked before this run needs no second pass.
        DirtyAccount.objects.filter(marked_at__lte=marked_before).delete()
    last_errors.clear()
    last_errors.update(report.errors)
    return report


def mark(account_ids: Iterable[int]) -> None:
    """Record that these accounts need recomputing; call it inside the transaction of the
    change. A recompute is scheduled once the transaction commits."""
    ids = {int(account_id) for account_id in account_ids if account_id is not None}
    if not ids:
        return
    now = timezone.now()
    DirtyAccount.objects.bulk_create(
        [DirtyAccount(account_id=account_id, marked_at=now) for account_id in sorted(ids)],
        update_conflicts=True,
        unique_fields=["account_id"],
        update_fields=["marked_at"],
        batch_size=1000,
    )
    transaction.on_commit(schedule)


def pending() -> int:
    return DirtyAccount.objects.count()


def run_pending(limit: int = BATCH) -> int:
    """Recompute the accounts marked dirty (up to `limit`), then run the follow-ups (the
    success-flow steps this made due); returns how many accounts were recomputed."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RECOMPUTE_LOCK])
            done = _run_pending(limit) if cursor.fetchone()[0] else 0
    else:
        done = _run_pending(limit)
    for follow_up in _FOLLOW_UPS:
        try:
            follow_up()
        except Exception:
            logger.exception("Recompute follow-up %s failed", follow_up)
    return done


# Work that should happen right after a recompute, in the same task (success flows run the
# steps that triggers just made due: the reaction follows the data within seconds).
_FOLLOW_UPS: list[Callable[[], Any]] = []


def register_follow_up(follow_up: Callable[[], Any]) -> None:
    if follow_up not in _FOLLOW_UPS:
        _FOLLOW_UPS.append(follow_up)


def _run_pending(limit: int) -> int:
    claimed_at = timezone.now()
    ids = list(
        DirtyAccount.objects.filter(marked_at__lte=claimed_at)
        .order_by("marked_at")
        .values_list("account_id", flat=True)[:limit]
    )
    if not ids:
        return 0
    recompute(ids)
    # Accounts marked again while they were recomputed keep their row for the next run.
    DirtyAccount.objects.filter(account_id__in=ids, marked_at__lte=claimed_at).delete()
    return len(ids)


def _task() -> Any:
    from kizuna.core import tasks

    return tasks.recompute_pending_accounts


schedule = Debounced(_task, 1.0)


# Customer data that scores, segments, tiers and stages read: a change to any of it marks
# the account. (Usage is marked by the rollup worker, per rolled-up batch.)
WATCHED = {"account", "subscription", "touchpoint", "contact"}


def _on_domain_events(batch: Sequence[events.DomainEvent]) -> None:
    ids: set[int] = set()
    for event in batch:
        model, _sep, action = event.type.partition(".")
        if model not in WATCHED:
            continue
        if model == "account":
            if action != "deleted":
                ids.add(int(event.object_id))
        else:
            account_id = getattr(event.instance, "account_id", None)
            if account_id is not None:
                ids.add(int(account_id))
    mark(ids)


events.subscribe(_on_domain_events)
