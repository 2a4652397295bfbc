"""Lifecycle stages and tiers in the REST API (mounted at /api/v1/ by kizuna.api.api): the
stage rules, an account's stage and tier history, moving an account's stage by hand, and
the lifecycle board's figures.

Handlers are thin: writes go through kizuna.lifecycle.services, so validation, the audit
log and the domain events (webhooks) are exactly those of the UI. `StageChangeOut` and
`TierChangeOut` are also the `data.object` of the `stage.changed` and `tier.changed`
webhook payloads.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kizuna.api import rest
from kizuna.api.rest import (
    ITEM_ERRORS,
    MAX_ID,
    READ_ERRORS,
    WRITE_ERRORS,
    ApiError,
    Input,
    Money,
    PageParams,
    Timestamp,
)
from kizuna.core import audit
from kizuna.core.conditions import ConditionError, parse
from kizuna.core.models import User
from kizuna.customers.choices import LifecycleStage, Tier, TierMode
from kizuna.customers.models import Account
from kizuna.lifecycle import queries, services
from kizuna.lifecycle.choices import StageChangeSource
from kizuna.lifecycle.models import StageChange, StageRule

router = Router(tags=["Lifecycle"])

SMALL_INT = 2_147_483_647
CONDITIONS_EXAMPLE = {"metric": "subscription.days_to_renewal", "op": "lte", "value": 90}


# === Schemas ==============================================================================


class StageRuleOut(Schema):
    id: int
    name: str
    description: str
    from_stages: list[LifecycleStage] = Field(description="The stages the rule moves from.")
    to_stage: LifecycleStage
    conditions: dict[str, Any] = Field(
        description="The condition tree accounts must match.", examples=[CONDITIONS_EXAMPLE]
    )
    priority: int = Field(description="Rules run lowest first; the first match wins.")
    enabled: bool
    last_error: str = Field(description="Why the rule failed in the last recompute, if it did.")
    created_at: Timestamp
    updated_at: Timestamp


class StageRuleList(Schema):
    count: int
    limit: int
    offset: int
    results: list[StageRuleOut]


class StageRulePatch(Input):
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=2000)
    from_stages: list[LifecycleStage] | None = Field(None, min_length=1)
    to_stage: LifecycleStage | None = None
    conditions: dict[str, Any] | None = Field(None, examples=[CONDITIONS_EXAMPLE])
    priority: int | None = Field(None, ge=0, le=SMALL_INT)
    enabled: bool | None = None


class StageRuleCreate(StageRulePatch):
    name: str = Field(min_length=1, max_length=120)
    from_stages: list[LifecycleStage] = Field(min_length=1)
    to_stage: LifecycleStage
    conditions: dict[str, Any] = Field(examples=[CONDITIONS_EXAMPLE])


class LeafOut(Schema):
    path: str = Field(description="Where the condition is in the rule's tree.")
    description: str
    op: str
    expected: Any
    value: Any = Field(description="The account's value when the rule moved it.")
    matched: bool


class StageChangeOut(Schema):
    id: int
    account_id: int
    from_stage: LifecycleStage | None
    to_stage: LifecycleStage
    changed_at: Timestamp
    source: StageChangeSource = Field(
        description="`rule`, `manual` (moved by hand) or `edit` (the account was edited)."
    )
    rule_id: int | None
    rule_name: str
    actor_id: int | None = Field(description="The user who moved it, for manual and edit.")
    reason: str
    evaluation: list[LeafOut] = Field(
        description="For a rule: each condition with the account's value then."
    )

    @staticmethod
    def resolve_from_stage(obj: StageChange) -> str | None:
        return obj.from_stage or None


class StageChangeList(Schema):
    count: int
    limit: int
    offset: int
    results: list[StageChangeOut]


class TierChangeOut(Schema):
    id: int
    account_id: int
    from_tier: Tier
    to_tier: Tier
    changed_at: Timestamp
    arr: Money = Field(description="The account's ARR when its tier changed.")
    mode: TierMode
    reason: str = Field(examples=["ARR ¥7,200,000 ≥ ¥6,000,000 (high-touch threshold)"])
    policy: dict[str, Any] = Field(description="The tier policy that decided.")


class TierChangeList(Schema):
    count: int
    limit: int
    offset: int
    results: list[TierChangeOut]


class StageMove(Input):
    stage: LifecycleStage
    reason: str = Field(min_length=1, max_length=services.MAX_REASON)


class StageFiguresOut(Schema):
    stage: LifecycleStage
    label: str
    accounts: int
    arr: Money
    average_days: float | None = Field(description="Average days in the stage.")
    median_days: float | None = Field(description="Median days in the stage.")


class BoardOut(Schema):
    accounts: int
    arr: Money
    stages: list[StageFiguresOut]


class BoardQuery(Schema):
    owner_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only this owner's book.")
    tier: Tier | None = None


# === Helpers ==============================================================================


def _configure_allowed(request: HttpRequest) -> User:
    user = rest.acting_user(request)
    rest.require(user.can_configure, _("Only managers and admins can change stage rules."))
    return user


def _rule(rule_id: int) -> StageRule:
    rule = StageRule.objects.filter(pk=rule_id).first() if 1 <= rule_id <= MAX_ID else None
    if rule is None:
        raise rest.not_found(_("No stage rule has this id."))
    return rule


def _account(account_id: int) -> Account:
    account = Account.objects.filter(pk=account_id).first() if 1 <= account_id <= MAX_ID else None
    if account is None:
        raise rest.not_found(_("No account has this id."))
    return account


def _validation_error(exc: ValidationError) -> ApiError:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    return ApiError(
        422, "validation_error", _("The data is not valid. Nothing was saved."), fields=fields
    )


def _save_rule(request: HttpRequest, rule: StageRule, changes: dict[str, Any]) -> StageRule:
    user = _configure_allowed(request)
    if "conditions" in changes:
        try:
            parse(changes["conditions"])
        except ConditionError as exc:
            key = f"conditions.{exc.path}" if exc.path else "conditions"
            raise rest.invalid(key, exc.message) from None
    before = audit.snapshot(rule) if rule.pk else None
    for name, value in changes.items():
        if name == "from_stages" and value is not None:
            value = [str(stage) for stage in value]
        if value is not None or name == "description":
            setattr(rule, name, value if value is not None else "")
    try:
        return services.save_rule(user, rule, before)
    except ValidationError as exc:
        raise _validation_error(exc) from None


def _page(queryset: QuerySet[Any], params: PageParams) -> dict[str, Any]:
    return rest.page(queryset, params)


# === Stage rules ==========================================================================


@router.get(
    "/stage-rules", response={200: StageRuleList, **READ_ERRORS}, summary="List stage rules"
)
def list_stage_rules(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    """The stage rules in the order they run (priority, then id)."""
    return _page(StageRule.objects.order_by("priority", "id"), params)


@router.post(
    "/stage-rules", response={201: StageRuleOut, **WRITE_ERRORS}, summary="Create a stage rule"
)
def create_stage_rule(request: HttpRequest, payload: StageRuleCreate) -> Status[StageRule]:
    """An invalid condition tree is refused with where it is wrong, e.g. the field
    `conditions.and[1].op`; nothing is saved."""
    return Status(201, _save_rule(request, StageRule(), payload.model_dump(exclude_unset=True)))


@router.get(
    "/stage-rules/{rule_id}",
    response={200: StageRuleOut, **ITEM_ERRORS},
    summary="Get a stage rule",
)
def get_stage_rule(request: HttpRequest, rule_id: int) -> StageRule:
    return _rule(rule_id)


@router.patch(
    "/stage-rules/{rule_id}",
    response={200: StageRuleOut, **WRITE_ERRORS},
    summary="Update a stage rule",
)
def update_stage_rule(request: HttpRequest, rule_id: int, payload: StageRulePatch) -> StageRule:
    _configure_allowed(request)
    return _save_rule(request, _rule(rule_id), payload.model_dump(exclude_unset=True))


@router.delete(
    "/stage-rules/{rule_id}", response={204: None, **ITEM_ERRORS}, summary="Delete a stage rule"
)
def delete_stage_rule(request: HttpRequest, rule_id: int) -> Status[None]:
    """Accounts the rule moved keep their stage and their history."""
    rule = _rule(rule_id)
    services.delete_rule(_configure_allowed(request), rule)
    return Status(204, None)


# === An account's stage and tier ==========================================================


@router.get(
    "/accounts/{account_id}/stage-history",
    response={200: StageChangeList, **ITEM_ERRORS},
    summary="List an account's stage changes",
)
def list_stage_changes(
    request: HttpRequest, account_id: int, params: Query[PageParams]
) -> dict[str, Any]:
    """Newest first: who or which rule moved the account, and why."""
    account = _account(account_id)
    return _page(queries.stage_history(account.pk), params)


@router.get(
    "/accounts/{account_id}/tier-history",
    response={200: TierChangeList, **ITEM_ERRORS},
    summary="List an account's tier changes",
)
def list_tier_changes(
    request: HttpRequest, account_id: int, params: Query[PageParams]
) -> dict[str, Any]:
    """Newest first, each with the ARR and the tier policy that decided."""
    account = _account(account_id)
    return _page(queries.tier_history(account.pk), params)


@router.post(
    "/accounts/{account_id}/stage",
    response={201: StageChangeOut, **WRITE_ERRORS},
    summary="Move an account's stage by hand",
)
def move_stage(request: HttpRequest, account_id: int, payload: StageMove) -> Status[StageChange]:
    """What a CSM does from the account page: the reason is kept in the stage history, the
    time in stage restarts, and `stage.changed` is sent to webhooks."""
    account = _account(account_id)
    user = rest.acting_user(request)
    rest.require(user.can_write, _("Viewers can only read."))
    try:
        change = services.set_stage(user, account, payload.stage, payload.reason)
    except ValidationError as exc:
        raise _validation_error(exc) from None
    return Status(201, change)


# === The lifecycle board ==================================================================


@router.get("/lifecycle/board", response={200: BoardOut, **READ_ERRORS}, summary="Lifecycle board")
def lifecycle_board(request: HttpRequest, filters: Query[BoardQuery]) -> dict[str, Any]:
    """Per stage, in lifecycle order: accounts, ARR, average and median days in the stage."""
    scope = Account.objects.all()
    if filters.owner_id is not None:
        scope = scope.filter(owner_id=filters.owner_id)
    if filters.tier is not None:
        scope = scope.filter(tier=filters.tier)
    columns = queries.board(scope, timezone.localdate(), limit=0)
    return {
        "accounts": sum(column.accounts for column in columns),
        "arr": sum((column.arr for column in columns), start=Decimal(0)),
        "stages": [
            {
                "stage": column.stage,
                "label": column.label,
                "accounts": column.accounts,
                "arr": column.arr,
                "average_days": column.average_days,
                "median_days": column.median_days,
            }
            for column in columns
        ],
    }


# === Webhook serializers ==================================================================


def serialize_stage_changes(instances: Sequence[Any]) -> list[dict[str, Any]]:
    return [StageChangeOut.model_validate(item).model_dump(mode="json") for item in instances]


def serialize_tier_changes(instances: Sequence[Any]) -> list[dict[str, Any]]:
    return [TierChangeOut.model_validate(item).model_dump(mode="json") for item in instances]
