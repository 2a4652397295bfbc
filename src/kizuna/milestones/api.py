"""Milestones in the REST API (mounted at /api/v1/): define milestones, read an account's
progress. Everyone with a key reads; managers and admins (and keys with their roles) write.
An invalid condition tree is a 422 whose `fields` name where it is wrong, e.g.
``{"condition.and[1].op": ["Operator “gt” does not apply to …"]}``. `AccountMilestoneOut`
is also the `data.object` of the `milestone.reached` and `milestone.overdue` webhooks.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kizuna.api import rest
from kizuna.api.rest import (
    ITEM_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    ApiError,
    Input,
    QueryInput,
    Timestamp,
)
from kizuna.core.models import User
from kizuna.customers.choices import LifecycleStage
from kizuna.customers.models import Account
from kizuna.milestones import services
from kizuna.milestones.choices import MilestoneStatus
from kizuna.milestones.models import AccountMilestone, Milestone

router = Router(tags=["Milestones"])


# === Schemas ==============================================================================


class MilestoneOut(Schema):
    id: int
    stage: LifecycleStage
    key: str = Field(description="A stable slug, e.g. `first_login`.")
    name: str
    description: str
    condition: dict[str, Any] = Field(
        description="The condition tree an account reaches it by, e.g. "
        '`{"metric": "usage.logins", "params": {"days": 30}, "op": "gte", "value": 1}`.'
    )
    target_days: int = Field(description="Days after entering the stage by when it is due.")
    order: int
    enabled: bool
    last_error: str = Field(description="Why the last recompute could not evaluate it.")
    created_at: Timestamp
    updated_at: Timestamp


class MilestoneList(Schema):
    count: int
    limit: int
    offset: int
    results: list[MilestoneOut]


class MilestoneCreate(Input):
    stage: LifecycleStage
    key: str = Field(max_length=services.MAX_KEY)
    name: str = Field(max_length=services.MAX_NAME)
    description: str = Field("", max_length=10_000)
    condition: dict[str, Any]
    target_days: int = Field(14, ge=0, le=services.MAX_TARGET_DAYS)
    order: int | None = Field(
        None, ge=0, le=2**31 - 1, description="Last in its stage when omitted."
    )
    enabled: bool = True


class MilestonePatch(Input):
    key: str | None = Field(None, max_length=services.MAX_KEY)
    name: str | None = Field(None, max_length=services.MAX_NAME)
    description: str | None = Field(None, max_length=10_000)
    condition: dict[str, Any] | None = None
    target_days: int | None = Field(None, ge=0, le=services.MAX_TARGET_DAYS)
    order: int | None = Field(None, ge=0, le=2**31 - 1)
    enabled: bool | None = None


class MilestoneQuery(QueryInput):
    stage: LifecycleStage | None = None
    enabled: bool | None = None


class MilestoneRef(Schema):
    id: int
    key: str
    name: str
    stage: LifecycleStage


class AccountRef(Schema):
    id: int
    name: str
    external_id: str | None


class SeenOut(Schema):
    path: str
    description: str
    op: str
    expected: Any
    value: Any
    matched: bool


class AccountMilestoneOut(Schema):
    id: int
    milestone: MilestoneRef
    account: AccountRef
    stage_entered_on: datetime.date = Field(description="The stay in the stage it is due for.")
    due_on: datetime.date
    reached_on: datetime.date | None
    reached_values: list[SeenOut] = Field(
        description="Each comparison of the condition with the value the account had when "
        "it reached the milestone."
    )
    overdue_since: datetime.date | None = Field(
        description="The day it was found overdue (kept once reached late)."
    )
    status: MilestoneStatus = Field(description="`reached`, `overdue` or `pending` (due).")

    @staticmethod
    def resolve_status(row: AccountMilestone) -> str:
        return row.status(timezone.localdate())


class AccountMilestoneList(Schema):
    count: int
    limit: int
    offset: int
    results: list[AccountMilestoneOut]


class AccountMilestoneQuery(QueryInput):
    current_stage: bool = Field(
        False, description="Only the milestones of the account's current stage."
    )


# === Helpers ==============================================================================


def _milestone(milestone_id: int) -> Milestone:
    return rest.get_or_404(Milestone.objects.all(), milestone_id, _("No milestone has this id."))


def _configure_allowed(request: HttpRequest) -> User:
    user = rest.acting_user(request)
    rest.require(user.can_configure, _("Only managers and admins can change milestones."))
    return user


def _refused(exc: services.InvalidMilestone) -> ApiError:
    fields = {exc.location: [exc.message]}
    if exc.code == "unique":
        return ApiError(409, "conflict", _("Another record already has this value."), fields)
    return ApiError(422, "validation_error", _("The data is not valid. Nothing was saved."), fields)


def serialize_account_milestones(instances: Sequence[models.Model]) -> list[dict[str, Any]]:
    """Batch serializer of the milestone webhooks: the rows with their milestone and
    account loaded in at most two queries."""
    stored = [row for row in instances if row.pk is not None]
    models.prefetch_related_objects(stored, "milestone", "account")
    return [AccountMilestoneOut.model_validate(row).model_dump(mode="json") for row in instances]


# === Milestones ===========================================================================


@router.get("/milestones", response={200: MilestoneList, **READ_ERRORS}, summary="List milestones")
def list_milestones(request: HttpRequest, filters: Query[MilestoneQuery]) -> dict[str, Any]:
    rows = Milestone.objects.order_by("stage", "order", "id")
    if filters.stage is not None:
        rows = rows.filter(stage=filters.stage)
    if filters.enabled is not None:
        rows = rows.filter(enabled=filters.enabled)
    return rest.page(rows, filters)


@router.post(
    "/milestones", response={201: MilestoneOut, **WRITE_ERRORS}, summary="Create a milestone"
)
def create_milestone(request: HttpRequest, payload: MilestoneCreate) -> Status[Milestone]:
    """The accounts in its stage are ticked, or become due, at their next recompute
    (within seconds)."""
    user = _configure_allowed(request)
    try:
        milestone = services.create_milestone(
            user,
            stage=payload.stage,
            key=payload.key,
            name=payload.name,
            description=payload.description,
            condition=payload.condition,
            target_days=payload.target_days,
            order=payload.order,
            enabled=payload.enabled,
        )
    except services.InvalidMilestone as exc:
        raise _refused(exc) from None
    except IntegrityError:
        raise ApiError(409, "conflict", _("Another milestone was saved with this key.")) from None
    return Status(201, milestone)


@router.get(
    "/milestones/{milestone_id}",
    response={200: MilestoneOut, **ITEM_ERRORS},
    summary="Get a milestone",
)
def get_milestone(request: HttpRequest, milestone_id: int) -> Milestone:
    return _milestone(milestone_id)


@router.patch(
    "/milestones/{milestone_id}",
    response={200: MilestoneOut, **WRITE_ERRORS},
    summary="Update a milestone",
)
def update_milestone(request: HttpRequest, milestone_id: int, payload: MilestonePatch) -> Milestone:
    """The stage cannot change. A new target moves the due day of the accounts that have
    not reached it yet."""
    user = _configure_allowed(request)
    milestone = _milestone(milestone_id)
    changes = payload.model_dump(exclude_unset=True)
    for name in ("key", "name", "condition", "target_days", "order", "enabled"):
        if name in changes and changes[name] is None:
            raise rest.invalid(name, _("This field cannot be null."))
    if "description" in changes and changes["description"] is None:
        changes["description"] = ""
    try:
        return services.update_milestone(user, milestone, **changes)
    except services.InvalidMilestone as exc:
        raise _refused(exc) from None
    except IntegrityError:
        raise ApiError(409, "conflict", _("Another milestone was saved with this key.")) from None


@router.delete(
    "/milestones/{milestone_id}",
    response={204: None, **ITEM_ERRORS},
    summary="Delete a milestone",
)
def delete_milestone(request: HttpRequest, milestone_id: int) -> Status[None]:
    """Every account's progress on it is deleted with it."""
    user = _configure_allowed(request)
    services.delete_milestone(user, _milestone(milestone_id))
    return Status(204, None)


@router.get(
    "/accounts/{account_id}/milestones",
    response={200: AccountMilestoneList, **ITEM_ERRORS},
    summary="List an account's milestones",
)
def list_account_milestones(
    request: HttpRequest, account_id: int, filters: Query[AccountMilestoneQuery]
) -> dict[str, Any]:
    """The account's progress on every milestone it has met a stage of: reached (when, and
    the values seen), overdue or due. In stage and lifecycle order."""
    account = rest.get_or_404(
        Account.objects.only("pk", "stage"), account_id, _("No account has this id.")
    )
    rows = AccountMilestone.objects.filter(account=account).select_related("milestone", "account")
    if filters.current_stage:
        rows = rows.filter(milestone__stage=account.stage)
    return rest.page(rows.order_by("milestone__stage", "milestone__order", "milestone_id"), filters)
