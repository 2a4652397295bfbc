"""Demo lifecycle history: how each demo account got to its stage (moves by hand with the
CSM's reason, and by the default rules with the values they saw), and a few tier changes.

Called by customers.demo.generate once the accounts, contracts and rollups exist (and the
default rules, which the moves refer to). Deterministic for a seed and a day; rows are
written with bulk_create, a few statements whatever the number of accounts.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Min
from django.utils import timezone, translation

from kizuna.core import conditions
from kizuna.customers.choices import LifecycleStage, Tier
from kizuna.customers.models import Account, Subscription, TierChange, TierPolicy
from kizuna.lifecycle.choices import StageChangeSource
from kizuna.lifecycle.models import StageChange, StageRule

BATCH_SIZE = 5_000

ADOPTION_REASONS = (
    "キックオフ完了。管理者トレーニングも実施済み。",
    "初期設定と既存データの移行が完了。",
    "主要部署で利用開始。オンボーディング完了とする。",
    "導入支援の全セッションが終了。",
)
VALUE_REASONS = (
    "定例会で導入効果(工数削減)を確認。",
    "全社展開が完了し、活用が定着。",
    "経営層へのレビューで成果を共有済み。",
    "利用率が安定して高い水準を維持。",
)


def _at(day: datetime.date, rng: random.Random) -> datetime.datetime:
    moment = datetime.datetime.combine(day, datetime.time(rng.randint(9, 18), rng.randint(0, 59)))
    return min(timezone.make_aware(moment), timezone.now())


def _leaf(metric: str, op: str, expected: Any, value: Any) -> list[dict[str, Any]]:
    found = conditions.get(metric)
    with translation.override(settings.LANGUAGE_CODE):
        description = found.describe(found.parse(None)) if found else metric
    return [
        {
            "path": "",
            "description": description,
            "op": op,
            "expected": expected,
            "value": value,
            "matched": True,
        }
    ]


def seed_history(seed: int, today: datetime.date) -> tuple[int, int]:
    """Write the stage history of every demo account and a few tier changes; returns how
    many (stage changes, tier changes)."""
    rng = random.Random(seed * 7 + 20)  # its own stream: the portfolio's stays untouched
    rules = {rule.to_stage: rule for rule in StageRule.objects.order_by("priority", "id")}
    starts = dict(
        Subscription.objects.order_by()
        .values("account")
        .annotate(first=Min("start_date"))
        .values_list("account", "first")
    )
    policy = TierPolicy.current()
    accounts = Account.objects.order_by("pk").values_list(
        "pk", "stage", "stage_entered_on", "tier", "arr", "owner_id"
    )
    stage_rows: list[StageChange] = []
    tier_rows: list[TierChange] = []
    for pk, stage, entered, tier, arr, owner_id in accounts.iterator(chunk_size=BATCH_SIZE):
        start = starts.get(pk)
        if start is None:
            continue
        path = _path(stage, start, entered, today, rng)
        previous = LifecycleStage.ONBOARDING.value
        for to_stage, day in path:
            stage_rows.append(_stage_change(pk, previous, to_stage, day, owner_id, rules, rng))
            previous = to_stage
        # Some accounts grew into high touch, a few shrank into tech touch.
        grew = tier == Tier.HIGH_TOUCH and rng.random() < 0.15
        shrank = tier == Tier.TECH_TOUCH and stage != LifecycleStage.CHURNED and rng.random() < 0.05
        if grew or shrank:
            tier_rows.append(_tier_change(pk, Tier.LOW_TOUCH, tier, arr, start, today, policy, rng))
    StageChange.objects.bulk_create(stage_rows, batch_size=BATCH_SIZE)
    TierChange.objects.bulk_create(tier_rows, batch_size=BATCH_SIZE)
    return len(stage_rows), len(tier_rows)


def _path(
    stage: str,
    start: datetime.date,
    entered: datetime.date,
    today: datetime.date,
    rng: random.Random,
) -> list[tuple[str, datetime.date]]:
    """The moves that led to `stage`, each on a day between the start and `entered`."""
    if stage == LifecycleStage.ONBOARDING:
        return []
    adopted = min(start + datetime.timedelta(days=rng.randint(21, 60)), entered)
    if stage == LifecycleStage.ADOPTION:
        return [(LifecycleStage.ADOPTION, entered)]
    moves = [(LifecycleStage.ADOPTION.value, adopted)]
    valued = adopted + datetime.timedelta(days=rng.randint(120, 200))
    if stage == LifecycleStage.VALUE:
        return [*moves, (LifecycleStage.VALUE, entered)]
    if valued < entered:
        moves.append((LifecycleStage.VALUE, valued))
    if stage == LifecycleStage.RENEWAL:
        return [*moves, (LifecycleStage.RENEWAL, entered)]
    # Churned: most went through renewal first.
    renewal_day = entered - datetime.timedelta(days=90)
    if renewal_day > moves[-1][1] and rng.random() < 0.7:
        moves.append((LifecycleStage.RENEWAL, renewal_day))
    return [*moves, (LifecycleStage.CHURNED, min(entered, today))]


def _stage_change(
    account_id: int,
    from_stage: str,
    to_stage: str,
    day: datetime.date,
    owner_id: int | None,
    rules: dict[str, StageRule],
    rng: random.Random,
) -> StageChange:
    changed_at = _at(day, rng)
    rule = rules.get(to_stage)
    if to_stage == LifecycleStage.RENEWAL and rule is not None:
        return StageChange(
            account_id=account_id,
            from_stage=from_stage,
            to_stage=to_stage,
            changed_at=changed_at,
            source=StageChangeSource.RULE,
            rule=rule,
            rule_name=rule.name,
            reason=rule.description,
            evaluation=_leaf("subscription.days_to_renewal", "lte", 90, 90),
        )
    if to_stage == LifecycleStage.CHURNED and rule is not None:
        return StageChange(
            account_id=account_id,
            from_stage=from_stage,
            to_stage=to_stage,
            changed_at=changed_at,
            source=StageChangeSource.RULE,
            rule=rule,
            rule_name=rule.name,
            reason=rule.description,
            evaluation=_leaf("subscription.status", "in", ["churned"], "churned"),
        )
    reasons = ADOPTION_REASONS if to_stage == LifecycleStage.ADOPTION else VALUE_REASONS
    return StageChange(
        account_id=account_id,
        from_stage=from_stage,
        to_stage=to_stage,
        changed_at=changed_at,
        source=StageChangeSource.MANUAL,
        actor_id=owner_id,
        reason=rng.choice(reasons),
    )


def _tier_change(
    account_id: int,
    from_tier: str,
    to_tier: str,
    arr: Decimal,
    start: datetime.date,
    today: datetime.date,
    policy: TierPolicy,
    rng: random.Random,
) -> TierChange:
    days = max((today - start).days, 1)
    day = today - datetime.timedelta(days=rng.randint(1, min(days, 180)))
    return TierChange(
        account_id=account_id,
        from_tier=from_tier,
        to_tier=to_tier,
        changed_at=_at(day, rng),
        arr=arr,
        policy=policy.snapshot(),
    )
