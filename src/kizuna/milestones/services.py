"""The write side of milestones — the only module other apps import (flows, the demo, the
API).

Definitions are validated here (`InvalidMilestone` names the field and, for a condition
tree, where in it). Progress is derived in the "milestones" recompute step
(`recompute_milestones`, order 25: after stages, before health), set-based, per milestone:

1. one query finds the accounts in its stage without a row, one bulk INSERT creates them
   with their due day (the day they entered the stage + `target_days`);
2. rows not reached yet whose account re-entered the stage since follow the new stay: one
   query finds them, one bulk UPDATE moves `stage_entered_on` / `due_on` and clears
   `overdue_since`;
3. one query (the compiled condition over the accounts in the stage) finds and locks the
   open rows whose account matches now; one query reads the values each comparison saw
   (kept as `reached_values`, the "why"), one bulk UPDATE ticks them;
4. one query finds and locks the open rows past their due day, one UPDATE marks them.

Each transition publishes one domain event — `milestone.reached` or `milestone.overdue`,
whose instance is the AccountMilestone — in the transaction of the change. A row is ticked
or marked only while it is open (locked, and filtered on `reached_on` / `overdue_since`
being empty), so a transition is published exactly once.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from kizuna.core import audit, conditions, events
from kizuna.core import recompute as account_recompute
from kizuna.core.conditions import Condition, ConditionError, Context
from kizuna.core.conditions.records import LeafRecord
from kizuna.core.models import User
from kizuna.customers.choices import LifecycleStage
from kizuna.customers.models import Account
from kizuna.milestones.models import AccountMilestone, Milestone

logger = logging.getLogger(__name__)

REACHED = "milestone.reached"
OVERDUE = "milestone.overdue"
KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
MAX_KEY = 60
MAX_NAME = 200
MAX_TARGET_DAYS = 3650
MAX_ERROR = 2000
# Accounts explained and updated per statement.
CHUNK = 2000


class InvalidMilestone(ValueError):
    """A definition or change that is refused; nothing was saved.

    `field` is what is wrong ("key", "condition", …); for a condition tree `path` says where
    in it (``and[1].op``). `code` is "unique" when the key is taken, else "invalid"."""

    def __init__(self, field: str, message: str, path: str = "", *, code: str = "invalid") -> None:
        self.field = field
        self.message = message
        self.path = path
        self.code = code
        super().__init__(f"{field}.{path}: {message}" if path else f"{field}: {message}")

    @property
    def location(self) -> str:
        """The field and the path in one dotted name: ``condition.and[1].op``."""
        return f"{self.field}.{self.path}" if self.path else self.field


def _chunks[T](items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def due_on(entered: datetime.date, target_days: int) -> datetime.date:
    return entered + datetime.timedelta(days=target_days)


# --- Validating a definition --------------------------------------------------------------


def check_condition(tree: Any) -> Condition:
    """Validate a milestone's condition: a valid tree with at least one comparison (an
    empty one would tick every account at once). Raises InvalidMilestone naming where."""
    if not isinstance(tree, dict) or not tree:
        raise InvalidMilestone("condition", _("A milestone needs a condition."))
    try:
        condition = conditions.parse(tree)
    except ConditionError as exc:
        raise InvalidMilestone("condition", exc.message, exc.path) from exc
    if not condition.leaves():
        raise InvalidMilestone(
            "condition",
            _("A milestone needs at least one condition; without one every account reaches it."),
        )
    return condition


def _check_key(key: Any, milestone: Milestone | None) -> str:
    key = (key or "").strip() if isinstance(key, str) else ""
    if not key:
        raise InvalidMilestone("key", _("A milestone needs a key."))
    if len(key) > MAX_KEY or not re.match(KEY_PATTERN, key):
        raise InvalidMilestone(
            "key",
            _("A key is up to %d lower-case letters, digits, “_” and “-”, e.g. “first_login”.")
            % MAX_KEY,
        )
    others = Milestone.objects.filter(key=key)
    if milestone is not None and milestone.pk is not None:
        others = others.exclude(pk=milestone.pk)
    if others.exists():
        raise InvalidMilestone(
            "key", _("Another milestone already has the key “%s”.") % key, code="unique"
        )
    return key


def _check_name(name: Any) -> str:
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name:
        raise InvalidMilestone("name", _("A milestone needs a name."))
    if len(name) > MAX_NAME:
        raise InvalidMilestone("name", _("A name has at most %d characters.") % MAX_NAME)
    return name


def _check_stage(stage: Any) -> str:
    if stage not in LifecycleStage.values:
        raise InvalidMilestone("stage", _("“%s” is not a lifecycle stage.") % stage)
    return str(stage)


def _check_target(days: Any) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_TARGET_DAYS:
        raise InvalidMilestone(
            "target_days",
            _("The target is a whole number of days from 0 to %d.") % MAX_TARGET_DAYS,
        )
    return days


def _check_order(order: Any) -> int:
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 2**31 - 1:
        raise InvalidMilestone("order", _("The order is a whole number, 0 or more."))
    return order


# --- Defining milestones ------------------------------------------------------------------


def create_milestone(
    actor: User | None,
    *,
    stage: str,
    key: str,
    name: str,
    condition: Mapping[str, Any],
    target_days: int = 14,
    description: str = "",
    order: int | None = None,
    enabled: bool = True,
) -> Milestone:
    """Create a milestone (audit-logged); its accounts' progress follows at the next
    recompute of them (marked now, so within seconds). Raises InvalidMilestone; then
    nothing is saved. Without `order` it goes last in its stage."""
    milestone = Milestone(
        stage=_check_stage(stage),
        name=_check_name(name),
        target_days=_check_target(target_days),
        description=description or "",
        enabled=bool(enabled),
    )
    check_condition(condition)
    milestone.condition = dict(condition)
    milestone.key = _check_key(key, None)
    with transaction.atomic():
        if order is None:
            last = (
                Milestone.objects.filter(stage=milestone.stage)
                .order_by("-order")
                .values_list("order", flat=True)
                .first()
            )
            order = (last or 0) + 10
        milestone.order = _check_order(order)
        milestone.save()
        audit.record_create(actor, milestone)
        _mark_stage(milestone.stage)
    return milestone


_UNCHANGED: Any = object()


def update_milestone(
    actor: User | None,
    milestone: Milestone,
    *,
    key: str = _UNCHANGED,
    name: str = _UNCHANGED,
    description: str = _UNCHANGED,
    condition: Mapping[str, Any] = _UNCHANGED,
    target_days: int = _UNCHANGED,
    order: int = _UNCHANGED,
    enabled: bool = _UNCHANGED,
    stage: str = _UNCHANGED,
) -> Milestone:
    """Change a milestone (audit-logged). Its stage cannot change (the progress recorded
    belongs to that stage): create another milestone instead. A new target moves the due
    day of the accounts that have not reached it yet. Raises InvalidMilestone; then nothing
    is saved and `milestone` is left as it was."""
    if stage is not _UNCHANGED and stage != milestone.stage:
        raise InvalidMilestone(
            "stage", _("The stage of a milestone cannot change; create a new milestone.")
        )
    values: dict[str, Any] = {}
    if key is not _UNCHANGED:
        values["key"] = _check_key(key, milestone)
    if name is not _UNCHANGED:
        values["name"] = _check_name(name)
    if description is not _UNCHANGED:
        values["description"] = description or ""
    if condition is not _UNCHANGED:
        check_condition(condition)
        values["condition"] = dict(condition)
    if target_days is not _UNCHANGED:
        values["target_days"] = _check_target(target_days)
    if order is not _UNCHANGED:
        values["order"] = _check_order(order)
    if enabled is not _UNCHANGED:
        values["enabled"] = bool(enabled)
    before = audit.snapshot(milestone)
    target_changed = values.get("target_days", milestone.target_days) != milestone.target_days
    retick = "condition" in values and values["condition"] != milestone.condition
    retick = retick or (values.get("enabled") is True and not milestone.enabled)
    with transaction.atomic():
        for name_, value in values.items():
            setattr(milestone, name_, value)
        if "condition" in values:
            milestone.last_error = ""
        milestone.save()
        audit.record_update(actor, milestone, before)
        if target_changed:
            _move_due_days(milestone)
        if retick or target_changed:
            _mark_stage(milestone.stage)
    return milestone


def delete_milestone(actor: User | None, milestone: Milestone) -> None:
    """Delete a milestone with every account's progress on it (audit-logged)."""
    with transaction.atomic():
        object_id = milestone.pk
        milestone.delete()
        audit.record_delete(actor, milestone, object_id)


def set_enabled(actor: User | None, milestone: Milestone, enabled: bool) -> Milestone:
    """Switch a milestone on or off. A disabled one keeps its accounts' progress but is
    neither ticked nor counted (progress, overdue counts) until it is enabled again."""
    return update_milestone(actor, milestone, enabled=enabled)


def reorder(actor: User | None, stage: str, milestone_ids: Sequence[int]) -> list[Milestone]:
    """Put the stage's milestones in this order (every one of them, once); renumbered
    10, 20, 30… Raises InvalidMilestone when the ids are not exactly the stage's."""
    _check_stage(stage)
    with transaction.atomic():
        current = list(Milestone.objects.select_for_update().filter(stage=stage))
        by_id = {milestone.pk: milestone for milestone in current}
        wanted = [int(pk) for pk in milestone_ids]
        if sorted(wanted) != sorted(by_id):
            raise InvalidMilestone(
                "milestone_ids", _("Give every milestone of the stage exactly once.")
            )
        for position, pk in enumerate(wanted, start=1):
            milestone = by_id[pk]
            if milestone.order != position * 10:
                before = audit.snapshot(milestone)
                milestone.order = position * 10
                milestone.save(update_fields=["order", "updated_at"])
                audit.record_update(actor, milestone, before)
    return [by_id[pk] for pk in wanted]


def move(actor: User | None, milestone: Milestone, offset: int) -> None:
    """Move a milestone up (-1) or down (+1) among the milestones of its stage."""
    ids = list(
        Milestone.objects.filter(stage=milestone.stage)
        .order_by("order", "id")
        .values_list("pk", flat=True)
    )
    index = ids.index(milestone.pk)
    target = index + offset
    if not 0 <= target < len(ids):
        return
    ids[index], ids[target] = ids[target], ids[index]
    reorder(actor, milestone.stage, ids)
    milestone.order = (ids.index(milestone.pk) + 1) * 10


def _mark_stage(stage: str) -> None:
    """The accounts in the stage are recomputed soon (a definition changed)."""
    ids = Account.objects.filter(stage=stage).values_list("pk", flat=True)
    account_recompute.mark(ids)


def _move_due_days(milestone: Milestone) -> None:
    """After a new target: the due day of the open rows, and no longer overdue where the
    new day is not past (the next recompute marks the others again when they are)."""
    rows = list(
        AccountMilestone.objects.filter(milestone=milestone, reached_on__isnull=True).only(
            "pk", "stage_entered_on", "due_on", "overdue_since"
        )
    )
    for row in rows:
        row.due_on = due_on(row.stage_entered_on, milestone.target_days)
        if row.overdue_since is not None and row.overdue_since <= row.due_on:
            row.overdue_since = None
    AccountMilestone.objects.bulk_update(rows, ["due_on", "overdue_since"], batch_size=CHUNK)


# --- Progress: the recompute step ---------------------------------------------------------


def _in_stage(milestone: Milestone, account_ids: Sequence[int] | None) -> QuerySet[Account]:
    accounts = Account.objects.order_by().filter(stage=milestone.stage)
    return accounts if account_ids is None else accounts.filter(pk__in=list(account_ids))


def _open_rows(milestone: Milestone, account_ids: Sequence[int] | None) -> Any:
    """Rows of the milestone not reached yet, of accounts in its stage now, for the
    current stay."""
    rows = AccountMilestone.objects.order_by().filter(
        milestone=milestone,
        reached_on__isnull=True,
        account__stage=milestone.stage,
        account__stage_entered_on=F("stage_entered_on"),
    )
    return rows if account_ids is None else rows.filter(account_id__in=list(account_ids))


def _create_missing(milestone: Milestone, account_ids: Sequence[int] | None) -> int:
    missing = list(
        _in_stage(milestone, account_ids)
        .exclude(pk__in=AccountMilestone.objects.filter(milestone=milestone).values("account_id"))
        .values_list("pk", "stage_entered_on")
    )
    AccountMilestone.objects.bulk_create(
        [
            AccountMilestone(
                account_id=pk,
                milestone=milestone,
                stage_entered_on=entered,
                due_on=due_on(entered, milestone.target_days),
            )
            for pk, entered in missing
        ],
        batch_size=CHUNK,
        ignore_conflicts=True,  # a concurrent pass created it: same row
    )
    return len(missing)


def _follow_new_stays(milestone: Milestone, account_ids: Sequence[int] | None) -> int:
    """Open rows whose account left the stage and came back: due from the new stay."""
    rows = AccountMilestone.objects.order_by().filter(
        milestone=milestone, reached_on__isnull=True, account__stage=milestone.stage
    )
    if account_ids is not None:
        rows = rows.filter(account_id__in=list(account_ids))
    stale = [
        AccountMilestone(
            pk=pk,
            stage_entered_on=entered,
            due_on=due_on(entered, milestone.target_days),
            overdue_since=None,
        )
        for pk, entered in rows.exclude(stage_entered_on=F("account__stage_entered_on"))
        .values_list("pk", "account__stage_entered_on")
        .order_by("pk")
    ]
    AccountMilestone.objects.bulk_update(
        stale, ["stage_entered_on", "due_on", "overdue_since"], batch_size=CHUNK
    )
    return len(stale)


def _tick(
    milestone: Milestone,
    condition: Condition,
    account_ids: Sequence[int] | None,
    ctx: Context,
) -> list[AccountMilestone]:
    matched = conditions.matching(condition, _in_stage(milestone, account_ids), ctx)
    rows = list(
        _open_rows(milestone, account_ids)
        .filter(account_id__in=matched.values("pk"))
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    if not rows:
        return []
    size = len(condition.leaves())
    reached: list[AccountMilestone] = []
    for chunk in _chunks(rows):
        values = conditions.leaf_values(
            condition, [row.account_id for row in chunk], ctx, Account.objects.all()
        )
        ticked: list[AccountMilestone] = []
        for row in chunk:
            evaluation = conditions.evaluate(
                condition, row.account_id, ctx, values=values.get(row.account_id, [None] * size)
            )
            if not evaluation.matched:
                continue  # its data changed since it was found: the next pass decides
            row.reached_on = ctx.today
            row.reached_values = LeafRecord.from_evaluation(evaluation)
            ticked.append(row)
        AccountMilestone.objects.bulk_update(
            ticked, ["reached_on", "reached_values"], batch_size=CHUNK
        )
        reached.extend(ticked)
    return reached


def _mark_overdue(
    milestone: Milestone, account_ids: Sequence[int] | None, ctx: Context
) -> list[AccountMilestone]:
    rows = list(
        _open_rows(milestone, account_ids)
        .filter(overdue_since__isnull=True, due_on__lt=ctx.today)
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    for chunk in _chunks(rows):
        AccountMilestone.objects.filter(pk__in=[row.pk for row in chunk]).update(
            overdue_since=ctx.today
        )
    for row in rows:
        row.overdue_since = ctx.today
    return rows


def _events(kind: str, rows: Sequence[AccountMilestone]) -> list[events.DomainEvent]:
    field = "reached_on" if kind == REACHED else "overdue_since"
    return [
        events.DomainEvent(
            type=kind,
            instance=row,
            object_id=row.pk,
            changes={field: ["", str(getattr(row, field))]},
        )
        for row in rows
    ]


def recompute_milestones(
    account_ids: Sequence[int] | None = None, ctx: Context | None = None
) -> dict[str, int]:
    """The "milestones" recompute step, for these accounts (every account when None): create
    the rows of accounts new in a milestone's stage, tick the ones reached, mark the ones
    overdue, and publish `milestone.reached` / `milestone.overdue` once per transition.

    A few queries per enabled milestone whatever the number of accounts. Idempotent: a
    second run changes nothing. A milestone whose condition fails is recorded in its
    `last_error` and skipped; the others still run. Returns counts of what changed."""
    ctx = ctx or Context.now()
    totals = {"created": 0, "moved": 0, "reached": 0, "overdue": 0}
    reached: list[AccountMilestone] = []
    overdue: list[AccountMilestone] = []
    milestones = Milestone.objects.filter(enabled=True).order_by("stage", "order", "id")
    if account_ids is not None:
        # Only the stages these accounts are in have work to do (every step below is about
        # accounts in the milestone's stage).
        milestones = milestones.filter(
            stage__in=Account.objects.filter(pk__in=list(account_ids)).values("stage")
        )
    for milestone in milestones:
        error = ""
        try:
            # A savepoint: on PostgreSQL a failed query would abort the whole transaction.
            with transaction.atomic():
                condition = conditions.parse(milestone.condition)
                totals["created"] += _create_missing(milestone, account_ids)
                totals["moved"] += _follow_new_stays(milestone, account_ids)
                mine = _tick(milestone, condition, account_ids, ctx)
                late = _mark_overdue(milestone, account_ids, ctx)
        except Exception as exc:
            logger.exception("Milestone %s (%s) could not be computed", milestone.pk, milestone.key)
            if isinstance(exc, ConditionError):
                error = _("Invalid condition at %(path)s: %(message)s") % {
                    "path": exc.path or "/",
                    "message": exc.message,
                }
            else:
                error = f"{type(exc).__name__}: {exc}"
        else:
            reached.extend(mine)
            overdue.extend(late)
        error = error[:MAX_ERROR]
        if milestone.last_error != error:
            Milestone.objects.filter(pk=milestone.pk).update(last_error=error)
            milestone.last_error = error
    totals["reached"], totals["overdue"] = len(reached), len(overdue)
    # One batch, so subscribers (webhooks, flows) record their work in one go.
    events.publish_many([*_events(OVERDUE, overdue), *_events(REACHED, reached)])
    return totals


# --- The milestones a new installation starts with ----------------------------------------


def _logins(days: int) -> dict[str, Any]:
    return {"metric": "usage.logins", "params": {"days": days}, "op": "gte", "value": 1}


def _event(name: str, days: int, times: int = 1) -> dict[str, Any]:
    return {
        "metric": "usage.event_count",
        "params": {"event": name, "days": days},
        "op": "gte",
        "value": times,
    }


def default_milestones() -> list[dict[str, Any]]:
    """The defaults (seed 004: what the customer should do in onboarding — first login,
    settings completed, colleagues invited, the core feature used — and a few for adoption
    and renewal). Event names are the demo product's track events; edit them to your
    product's."""
    return [
        {
            "stage": "onboarding",
            "key": "first_login",
            "order": 10,
            "target_days": 7,
            "name": _("First login"),
            "description": _("Someone at the customer signed in for the first time."),
            "condition": _logins(30),
        },
        {
            "stage": "onboarding",
            "key": "settings_completed",
            "order": 20,
            "target_days": 14,
            "name": _("Settings completed"),
            "description": _(
                "The initial setup is done: the customer connected their first integration."
            ),
            "condition": _event("Integration Connected", 90),
        },
        {
            "stage": "onboarding",
            "key": "colleagues_invited",
            "order": 30,
            "target_days": 30,
            "name": _("Colleagues invited"),
            "description": _("Colleagues were invited and at least three people use it."),
            "condition": {
                "and": [
                    _event("User Invited", 90),
                    {
                        "metric": "usage.active_users",
                        "params": {"days": 30},
                        "op": "gte",
                        "value": 3,
                    },
                ]
            },
        },
        {
            "stage": "onboarding",
            "key": "core_feature_used",
            "order": 40,
            "target_days": 21,
            "name": _("Core feature used"),
            "description": _("The customer exported their first report."),
            "condition": _event("Report Exported", 90),
        },
        {
            "stage": "adoption",
            "key": "workflow_automated",
            "order": 10,
            "target_days": 45,
            "name": _("First workflow automated"),
            "description": _("The customer built a workflow: work moves into the product."),
            "condition": _event("Workflow Created", 90),
        },
        {
            "stage": "adoption",
            "key": "half_of_seats_active",
            "order": 20,
            "target_days": 60,
            "name": _("Half of the seats active"),
            "description": _("At least half of the licensed seats used it in the last 30 days."),
            "condition": {
                "metric": "usage.login_rate",
                "params": {"days": 30},
                "op": "gte",
                "value": 50,
            },
        },
        {
            "stage": "renewal",
            "key": "renewal_meeting_held",
            "order": 10,
            "target_days": 30,
            "name": _("Renewal meeting held"),
            "description": _("A meeting on the renewal took place with the customer."),
            "condition": {
                "metric": "touchpoint.count",
                "params": {"days": 90, "kind": "meeting"},
                "op": "gte",
                "value": 1,
            },
        },
        {
            "stage": "renewal",
            "key": "healthy_before_renewal",
            "order": 20,
            "target_days": 45,
            "name": _("Healthy before renewal"),
            "description": _("The health band is green before the renewal date."),
            "condition": {"metric": "health.band", "op": "in", "value": ["green"]},
        },
    ]


def install_defaults(model: Any = None) -> int:
    """Create the default milestones whose key does not exist yet; returns how many were
    created. Idempotent and never overwrites edits (an existing key is left as it is).
    `model` is the Milestone model to use (a migration passes its historical one). Names
    are in the site's default language."""
    model = model or Milestone
    with translation.override(settings.LANGUAGE_CODE):
        specs = [{**spec, "name": str(spec["name"])} for spec in default_milestones()]
        for spec in specs:
            spec["description"] = str(spec["description"])
    existing = set(
        model.objects.filter(key__in=[spec["key"] for spec in specs]).values_list("key", flat=True)
    )
    new = [model(enabled=True, **spec) for spec in specs if spec["key"] not in existing]
    model.objects.bulk_create(new)
    return len(new)
