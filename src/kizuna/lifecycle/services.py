"""The write side of lifecycle stages and tiers — the only module other apps import.

Stages move three ways, and each move is a `StageChange` row plus a `stage.changed` domain
event, and resets the account's `stage_entered_on`:

- by the stage rules, set-based, in the "stages" recompute step (`apply_stage_rules`);
- by hand, by a CSM with a reason (`set_stage`);
- through the account form, the API or an import: those publish `account.updated` with the
  stage in its changes, and `record_stage_edits` (a domain-event subscriber) records them.
  Rule and manual moves publish `stage.changed`, never `account.updated`, so nothing is
  recorded twice.

Tiers are computed by `customers.services.apply_tiers` (the tier policy lives with the
accounts); `recompute_tiers` is its recompute step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext

from kizuna.core import audit, events, recompute
from kizuna.core.conditions import (
    Condition,
    Context,
    evaluate,
    leaf_values,
    matching,
    parse,
)
from kizuna.core.conditions.records import LeafRecord
from kizuna.core.models import User
from kizuna.customers import services as customers
from kizuna.customers.choices import LifecycleStage
from kizuna.customers.models import Account, TierChange
from kizuna.lifecycle.choices import StageChangeSource
from kizuna.lifecycle.models import StageChange, StageRule

logger = logging.getLogger(__name__)

STAGE_CHANGED = "stage.changed"
TIER_CHANGED = customers.TIER_CHANGED
# Accounts explained, recorded and updated per statement when a rule moves many at once.
CHUNK = 2_000
MAX_REASON = 1_000


def _chunks[T](items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _accounts(account_ids: Iterable[int] | None) -> QuerySet[Account]:
    accounts = Account.objects.order_by()
    return accounts if account_ids is None else accounts.filter(pk__in=list(account_ids))


def _publish(changes: Sequence[StageChange]) -> None:
    events.publish_many(
        [
            events.DomainEvent(
                type=STAGE_CHANGED,
                instance=change,
                object_id=change.pk,
                changes={"stage": [change.from_stage, change.to_stage]},
                actor_id=change.actor_id,
            )
            for change in changes
        ]
    )


# --- Tiers ------------------------------------------------------------------------------


def recompute_tiers(account_ids: Sequence[int] | None, ctx: Context) -> list[TierChange]:
    """The "tiers" recompute step: re-tier these accounts (all when None) by the current
    policy, recording each change (see customers.services.apply_tiers)."""
    return customers.apply_tiers(_accounts(account_ids), ctx=ctx)


# --- Stage rules: evaluation -------------------------------------------------------------


@dataclass(frozen=True)
class PlannedMove:
    """The accounts a rule moves now: (account id, current stage) pairs."""

    rule: StageRule
    condition: Condition
    accounts: list[tuple[int, str]]


@dataclass(frozen=True)
class Plan:
    moves: list[PlannedMove]
    errors: dict[int, str]  # rule id → what went wrong

    def count(self, rule: StageRule) -> int:
        return next((len(move.accounts) for move in self.moves if move.rule.pk == rule.pk), 0)


def plan_stage_moves(
    account_ids: Sequence[int] | None = None,
    ctx: Context | None = None,
    rules: Sequence[StageRule] | None = None,
) -> Plan:
    """Which accounts each enabled rule would move now, without moving any: one query per
    rule, all reading the stages as they are (so an account moved by one rule is not moved
    again by another in the same pass). The first rule by priority wins. A rule that fails
    (a tree that no longer compiles) is reported in `errors` and the others still run."""
    ctx = ctx or Context.now()
    if rules is None:
        rules = list(StageRule.objects.filter(enabled=True).order_by("priority", "id"))
    base = _accounts(account_ids)
    claimed: set[int] = set()
    moves: list[PlannedMove] = []
    errors: dict[int, str] = {}
    for rule in rules:
        try:
            condition = parse(rule.conditions)
            # A savepoint: on PostgreSQL a failed query would abort the whole transaction.
            with transaction.atomic():
                found = list(
                    matching(condition, base.filter(stage__in=rule.from_stages), ctx)
                    .values_list("pk", "stage")
                    .order_by("pk")
                )
        except Exception as exc:
            logger.exception("Stage rule %s failed", rule.pk)
            errors[rule.pk] = f"{type(exc).__name__}: {exc}"
            continue
        mine = [(pk, stage) for pk, stage in found if pk not in claimed]
        claimed.update(pk for pk, _stage in mine)
        if mine:
            moves.append(PlannedMove(rule, condition, mine))
    return Plan(moves, errors)


def apply_stage_rules(
    account_ids: Sequence[int] | None = None, ctx: Context | None = None
) -> list[StageChange]:
    """The "stages" recompute step: move the accounts (all when None) that match an enabled
    rule from one of its stages, at most one move per account per pass.

    Set-based: per rule, one query finds the accounts, and per chunk of moved accounts one
    query reads the values that explain the move, one INSERT records the StageChanges and
    one UPDATE moves them. Running it again right after moves nothing more, unless a rule
    leads on from the stage another one moved an account to."""
    ctx = ctx or Context.now()
    rules = list(StageRule.objects.filter(enabled=True).order_by("priority", "id"))
    plan = plan_stage_moves(account_ids, ctx, rules)
    now = timezone.now()
    changes: list[StageChange] = []
    for move in plan.moves:
        rule = move.rule
        stages = dict(move.accounts)
        size = len(move.condition.leaves())
        for chunk in _chunks([pk for pk, _stage in move.accounts]):
            values = leaf_values(move.condition, chunk, ctx, Account.objects.all())
            rows: list[StageChange] = []
            for account_id in chunk:
                evaluation = evaluate(
                    move.condition,
                    account_id,
                    ctx,
                    values=values.get(account_id, [None] * size),
                )
                if not evaluation.matched:
                    continue  # its data changed since it was found: the next pass decides
                rows.append(
                    StageChange(
                        account_id=account_id,
                        from_stage=stages[account_id],
                        to_stage=rule.to_stage,
                        changed_at=now,
                        source=StageChangeSource.RULE,
                        rule=rule,
                        rule_name=rule.name,
                        reason=rule.description,
                        evaluation=LeafRecord.from_evaluation(evaluation),
                    )
                )
            if not rows:
                continue
            changes.extend(StageChange.objects.bulk_create(rows))
            Account.objects.filter(
                pk__in=[row.account_id for row in rows], stage__in=rule.from_stages
            ).update(stage=rule.to_stage, stage_entered_on=ctx.today)
    _record_errors(rules, plan.errors)
    _publish(changes)
    return changes


def _record_errors(rules: Sequence[StageRule], errors: dict[int, str]) -> None:
    for rule in rules:
        error = errors.get(rule.pk, "")
        if rule.last_error != error:
            StageRule.objects.filter(pk=rule.pk).update(last_error=error)
            rule.last_error = error


def preview_rule(rule: StageRule, ctx: Context | None = None) -> int:
    """How many accounts in the rule's stages match its conditions now (one COUNT query),
    whatever the other rules do. The rule need not be saved, but must be valid."""
    condition = parse(rule.conditions)
    accounts = Account.objects.order_by().filter(stage__in=rule.from_stages)
    return matching(condition, accounts, ctx or Context.now()).count()


# --- Moving a stage by hand, and edits through the account form ------------------------------


@transaction.atomic
def set_stage(
    actor: User | None,
    account: Account,
    stage: str,
    reason: str,
    *,
    source: str = StageChangeSource.MANUAL,
) -> StageChange:
    """Move an account to `stage` by hand (or by a success flow: `source`), with the reason
    why. Records the change (who, why), resets the time in stage, audits it, publishes
    `stage.changed` and marks the account for recomputation (its scorecard follows its
    stage). Raises ValidationError (by field) and changes nothing when the stage or the
    reason is not valid."""
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if stage not in LifecycleStage.values:
        errors["stage"] = gettext("“%(stage)s” is not a lifecycle stage.") % {"stage": stage}
    if not reason:
        errors["reason"] = gettext("Say why the stage changes.")
    elif len(reason) > MAX_REASON:
        errors["reason"] = gettext("Keep the reason under %(max)d characters.") % {
            "max": MAX_REASON
        }
    locked = Account.objects.select_for_update().filter(pk=account.pk).first()
    if locked is None:
        raise ValidationError(gettext("This account no longer exists."))
    if not errors and locked.stage == stage:
        errors["stage"] = gettext("The account is already in this stage.")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(locked)
    previous = locked.stage
    locked.stage = stage
    locked.stage_entered_on = timezone.localdate()
    locked.save(update_fields=["stage", "stage_entered_on", "updated_at"])
    audit.record_update(actor, locked, before)
    change = StageChange.objects.create(
        account=locked,
        from_stage=previous,
        to_stage=stage,
        source=source,
        actor=actor if actor is not None and actor.pk else None,
        reason=reason,
    )
    account.stage, account.stage_entered_on = locked.stage, locked.stage_entered_on
    _publish([change])
    recompute.mark([locked.pk])
    return change


def record_stage_edits(batch: Sequence[events.DomainEvent]) -> None:
    """Domain-event subscriber: a stage changed through the account form, the API or an
    import (an `account.updated` event with "stage" in its changes) is recorded as a
    StageChange and resets the time in stage — for a whole import in a few queries."""
    edits = [
        event
        for event in batch
        if event.type == "account.updated"
        and "stage" in event.changes
        and event.changes["stage"][1] in LifecycleStage.values
    ]
    if not edits:
        return
    now = timezone.now()
    today = timezone.localdate()
    rows = [
        StageChange(
            account_id=int(event.object_id),
            from_stage=old if (old := event.changes["stage"][0]) in LifecycleStage.values else "",
            to_stage=event.changes["stage"][1],
            changed_at=now,
            source=StageChangeSource.EDIT,
            actor_id=event.actor_id,
        )
        for event in edits
    ]
    created = StageChange.objects.bulk_create(rows, batch_size=CHUNK)
    ids = [row.account_id for row in rows]
    for chunk in _chunks(ids):
        Account.objects.filter(pk__in=chunk).update(stage_entered_on=today)
    for event in edits:
        if isinstance(event.instance, Account):
            event.instance.stage_entered_on = today
    _publish(created)


# --- Stage rules: configuration ----------------------------------------------------------


@transaction.atomic
def save_rule(actor: User | None, rule: StageRule, before: audit.Snapshot | None) -> StageRule:
    """Validate and save a rule (a create when `before` is None), audited. Raises
    ValidationError naming the field — for a condition tree, where in it — and saves
    nothing when the rule is not valid."""
    rule.full_clean()
    rule.save()
    if before is None:
        audit.record_create(actor, rule)
    else:
        audit.record_update(actor, rule, before)
    return rule


@transaction.atomic
def delete_rule(actor: User | None, rule: StageRule) -> None:
    """Delete a rule; the stage changes it made keep its name."""
    object_id = rule.pk
    rule.delete()
    audit.record_delete(actor, rule, object_id)


@transaction.atomic
def set_rule_enabled(actor: User | None, rule: StageRule, enabled: bool) -> StageRule:
    before = audit.snapshot(rule)
    rule.enabled = enabled
    rule.save(update_fields=["enabled", "updated_at"])
    audit.record_update(actor, rule, before)
    return rule


@transaction.atomic
def move_rule(actor: User | None, rule: StageRule, offset: int) -> None:
    """Move a rule up (-1) or down (+1) in the evaluation order. Priorities are renumbered
    10, 20, 30… so that every rule has its own."""
    rules = list(StageRule.objects.select_for_update().order_by("priority", "id"))
    index = next(i for i, item in enumerate(rules) if item.pk == rule.pk)
    target = index + offset
    if not 0 <= target < len(rules):
        return
    rules[index], rules[target] = rules[target], rules[index]
    for position, item in enumerate(rules, start=1):
        if item.priority != position * 10:
            before = audit.snapshot(item)
            item.priority = position * 10
            item.save(update_fields=["priority", "updated_at"])
            audit.record_update(actor, item, before)
    rule.priority = next(item.priority for item in rules if item.pk == rule.pk)


# The rules a new installation starts with (see ensure_default_rules).
def _default_rules() -> list[dict[str, Any]]:
    return [
        {
            "priority": 10,
            "name": gettext("Contract churned"),
            "description": gettext("The latest contract has churned: the customer has left."),
            "from_stages": ["onboarding", "adoption", "value", "renewal"],
            "to_stage": "churned",
            "conditions": {"metric": "subscription.status", "op": "in", "value": ["churned"]},
        },
        {
            "priority": 20,
            "name": gettext("Renewal coming up"),
            "description": gettext("90 days before the renewal date, the renewal work starts."),
            "from_stages": ["adoption", "value"],
            "to_stage": "renewal",
            "conditions": {"metric": "subscription.days_to_renewal", "op": "lte", "value": 90},
        },
        {
            "priority": 30,
            "name": gettext("Renewed"),
            "description": gettext(
                "The contract was renewed: the next renewal is more than half a year away."
            ),
            "from_stages": ["renewal"],
            "to_stage": "value",
            "conditions": {"metric": "subscription.days_to_renewal", "op": "gt", "value": 180},
        },
        {
            "priority": 40,
            "name": gettext("Onboarding done"),
            "description": gettext(
                "After two weeks of onboarding, with at least three people using the product "
                "in the last 30 days."
            ),
            "from_stages": ["onboarding"],
            "to_stage": "adoption",
            "conditions": {
                "and": [
                    {
                        "metric": "usage.active_users",
                        "params": {"days": 30},
                        "op": "gte",
                        "value": 3,
                    },
                    {"metric": "account.days_in_stage", "op": "gte", "value": 14},
                ]
            },
        },
    ]


def ensure_default_rules(model: Any = None) -> int:
    """Create the default stage rules when there are none yet (a new installation, the
    demo); returns how many were created. `model` is the StageRule model to use (a
    migration passes its historical one). Names are in the site's default language."""
    model = model or StageRule
    if model.objects.exists():
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        rules = [model(enabled=True, **spec) for spec in _default_rules()]
    model.objects.bulk_create(rules)
    return len(rules)
