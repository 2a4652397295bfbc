"""Segments in the REST API (mounted at /api/v1/ by kizuna.api.api): define segments, read
their members (now or on a past day) and an account's segments, pick the members of static
segments, recompute.

Everyone with a key reads; managers and admins (and keys with their roles) write. An
invalid condition tree is a 422 whose `fields` name where it is wrong, e.g.
``{"conditions.and[1].op": ["Operator “gt” does not apply to …"]}``. `MembershipOut` is also
the `data.object` of the `segment.entered` and `segment.exited` webhooks.
"""

import datetime
from collections.abc import Sequence
from typing import Any, Literal

from django.db import IntegrityError, models
from django.http import HttpRequest
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
    QueryInput,
    Timestamp,
)
from kizuna.core.models import User
from kizuna.customers.models import Account
from kizuna.segments import queries, services
from kizuna.segments.choices import MembershipSource, SegmentKind
from kizuna.segments.models import Segment, SegmentMembership

router = Router(tags=["Segments"])

MAX_IDS = 10_000


# === Schemas ==============================================================================


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    kind: SegmentKind = Field(
        description="`dynamic`: members follow the conditions; `static`: picked by hand."
    )
    conditions: dict[str, Any] = Field(
        description="The condition tree (empty for a static segment), e.g. "
        '`{"and": [{"metric": "subscription.arr", "op": "gte", "value": 1000000}]}`.'
    )
    version: int = Field(description="Goes up each time the conditions change.")
    is_active: bool
    is_calculating: bool = Field(description="A full recompute is queued or running.")
    last_calculated_at: Timestamp | None
    last_error: str = Field(description="Why the last computation failed; empty when it worked.")
    member_count: int
    created_by_id: int | None
    created_at: Timestamp
    updated_at: Timestamp


class SegmentList(Schema):
    count: int
    limit: int
    offset: int
    results: list[SegmentOut]


class SegmentCreate(Input):
    name: str = Field(max_length=200)
    description: str = Field("", max_length=10_000)
    kind: SegmentKind = SegmentKind.DYNAMIC
    conditions: dict[str, Any] | None = Field(
        None, description="Required for a dynamic segment; omitted for a static one."
    )
    is_active: bool = True


class SegmentPatch(Input):
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    conditions: dict[str, Any] | None = None
    is_active: bool | None = None


class SegmentQuery(QueryInput):
    kind: SegmentKind | None = None
    is_active: bool | None = None
    ordering: Literal["name", "-name", "id", "-id", "member_count", "-member_count"] = "name"


SEGMENT_ORDERINGS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "id": ("id",),
    "-id": ("-id",),
    "member_count": ("member_count", "id"),
    "-member_count": ("-member_count", "id"),
}


class SegmentRef(Schema):
    id: int
    name: str


class AccountRef(Schema):
    id: int
    name: str
    external_id: str | None


class MembershipOut(Schema):
    id: int
    segment: SegmentRef
    account: AccountRef
    entered_at: Timestamp
    exited_at: Timestamp | None = Field(description="Null while the account is a member.")
    source: MembershipSource = Field(
        description="`rule` (the conditions), `manual` (added by hand) or `import`."
    )
    added_by_id: int | None


class MembershipList(Schema):
    count: int
    limit: int
    offset: int
    results: list[MembershipOut]


class MemberQuery(QueryInput):
    as_of: datetime.date | None = Field(
        None,
        ge=datetime.date(rest.MIN_YEAR, 1, 1),
        le=datetime.date(rest.MAX_YEAR, 12, 31),
        description="The members at the end of this day (from the history); today's "
        "members when omitted.",
    )


class AccountSegmentQuery(QueryInput):
    include_past: bool = Field(False, description="Also the stays that have ended.")


class MembersIn(Input):
    account_ids: list[int] | None = Field(
        None, max_length=MAX_IDS, description="Kizuna account ids."
    )
    external_ids: list[str] | None = Field(
        None, max_length=MAX_IDS, description="Account external (CRM) ids."
    )


class MembershipChangeOut(Schema):
    added: int
    removed: int
    already: int = Field(description="Accounts that were already members.")


# === Helpers ==============================================================================


def _segment(segment_id: int) -> Segment:
    segment = Segment.objects.filter(pk=segment_id).first() if 1 <= segment_id <= MAX_ID else None
    if segment is None:
        raise rest.not_found(_("No segment has this id."))
    return segment


def _configure_allowed(request: HttpRequest) -> User:
    user = rest.acting_user(request)
    rest.require(user.can_configure, _("Only managers and admins can change segments."))
    return user


def _refused(exc: services.InvalidSegment) -> ApiError:
    fields = {exc.location: [exc.message]}
    if exc.code == "unique":
        return ApiError(409, "conflict", _("Another record already has this value."), fields)
    if exc.code == "conflict":
        return ApiError(409, "conflict", exc.message, fields)
    return ApiError(422, "validation_error", _("The data is not valid. Nothing was saved."), fields)


def serialize_memberships(instances: Sequence[models.Model]) -> list[dict[str, Any]]:
    """Batch serializer of the segment webhooks (membership rows): the rows with their
    segment and account loaded in at most two queries."""
    stored = [row for row in instances if row.pk is not None]
    models.prefetch_related_objects(stored, "segment", "account")
    return [MembershipOut.model_validate(row).model_dump(mode="json") for row in instances]


# === Segments =============================================================================


@router.get("/segments", response={200: SegmentList, **READ_ERRORS}, summary="List segments")
def list_segments(request: HttpRequest, filters: Query[SegmentQuery]) -> dict[str, Any]:
    rows = Segment.objects.all()
    if filters.kind is not None:
        rows = rows.filter(kind=filters.kind)
    if filters.is_active is not None:
        rows = rows.filter(is_active=filters.is_active)
    return rest.page(rest.order(rows, filters.ordering, SEGMENT_ORDERINGS), filters)


@router.post("/segments", response={201: SegmentOut, **WRITE_ERRORS}, summary="Create a segment")
def create_segment(request: HttpRequest, payload: SegmentCreate) -> Status[Segment]:
    """A dynamic segment is computed in the background right after; `is_calculating` is
    true until then."""
    user = _configure_allowed(request)
    try:
        segment = services.create_segment(
            user,
            name=payload.name,
            kind=payload.kind,
            conditions=payload.conditions,
            description=payload.description,
            is_active=payload.is_active,
        )
    except services.InvalidSegment as exc:
        raise _refused(exc) from None
    except IntegrityError:
        raise ApiError(409, "conflict", _("Another segment was saved with this name.")) from None
    return Status(201, segment)


@router.get(
    "/segments/{segment_id}", response={200: SegmentOut, **ITEM_ERRORS}, summary="Get a segment"
)
def get_segment(request: HttpRequest, segment_id: int) -> Segment:
    return _segment(segment_id)


@router.patch(
    "/segments/{segment_id}",
    response={200: SegmentOut, **WRITE_ERRORS},
    summary="Update a segment",
)
def update_segment(request: HttpRequest, segment_id: int, payload: SegmentPatch) -> Segment:
    """New conditions raise the version and recompute the segment in the background. The
    kind cannot change."""
    user = _configure_allowed(request)
    segment = _segment(segment_id)
    changes = {key: value for key, value in payload.model_dump(exclude_unset=True).items()}
    for name in ("name", "is_active", "conditions"):
        if name in changes and changes[name] is None:
            raise rest.invalid(name, _("This field cannot be null."))
    if "description" in changes and changes["description"] is None:
        changes["description"] = ""
    try:
        return services.update_segment(user, segment, **changes)
    except services.InvalidSegment as exc:
        raise _refused(exc) from None
    except IntegrityError:
        raise ApiError(409, "conflict", _("Another segment was saved with this name.")) from None


@router.delete(
    "/segments/{segment_id}", response={204: None, **ITEM_ERRORS}, summary="Delete a segment"
)
def delete_segment(request: HttpRequest, segment_id: int) -> Status[None]:
    """Refused (409) while another segment's conditions refer to it."""
    user = _configure_allowed(request)
    segment = _segment(segment_id)
    try:
        services.delete_segment(user, segment)
    except services.InvalidSegment as exc:
        raise _refused(exc) from None
    return Status(204, None)


@router.post(
    "/segments/{segment_id}/recompute",
    response={200: SegmentOut, **WRITE_ERRORS},
    summary="Recompute a segment",
)
def recompute_segment(request: HttpRequest, segment_id: int) -> Segment:
    """Computes the members now (and then the segments that refer to this one). A failure
    is reported in `last_error`."""
    _configure_allowed(request)
    segment = _segment(segment_id)
    services.recompute_with_dependents(segment.pk)
    segment.refresh_from_db()
    return segment


# === Members ==============================================================================


@router.get(
    "/segments/{segment_id}/members",
    response={200: MembershipList, **ITEM_ERRORS},
    summary="List a segment's members",
)
def list_segment_members(
    request: HttpRequest, segment_id: int, filters: Query[MemberQuery]
) -> dict[str, Any]:
    """The members today, or at the end of `as_of`, with when each entered, highest ARR
    first."""
    segment = _segment(segment_id)
    rows = queries.members(segment, as_of=filters.as_of).select_related("segment")
    return rest.page(rows, filters)


@router.post(
    "/segments/{segment_id}/members",
    response={200: MembershipChangeOut, **WRITE_ERRORS},
    summary="Add members to a static segment",
)
def add_segment_members(
    request: HttpRequest, segment_id: int, payload: MembersIn
) -> services.MembershipChange:
    """Give Kizuna ids or external ids (not both). Every id must be an account's, or
    nothing is added and the unknown ids are listed."""
    user = _configure_allowed(request)
    segment = _segment(segment_id)
    if (payload.account_ids is None) == (payload.external_ids is None):
        raise rest.invalid("non_field_errors", _("Give either account_ids or external_ids."))
    try:
        if payload.account_ids is not None:
            if any(not 1 <= pk <= MAX_ID for pk in payload.account_ids):
                raise rest.invalid("account_ids", _("Account ids are positive integers."))
            return services.add_members(user, segment, payload.account_ids)
        return services.import_members(user, segment, payload.external_ids or [])
    except services.InvalidSegment as exc:
        raise _refused(exc) from None


@router.delete(
    "/segments/{segment_id}/members/{account_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Remove a member from a static segment",
)
def remove_segment_member(request: HttpRequest, segment_id: int, account_id: int) -> Status[None]:
    user = _configure_allowed(request)
    segment = _segment(segment_id)
    try:
        change = services.remove_members(user, segment, [account_id])
    except services.InvalidSegment as exc:
        raise _refused(exc) from None
    if not change.removed:
        raise rest.not_found(_("This account is not a member of the segment."))
    return Status(204, None)


@router.get(
    "/accounts/{account_id}/segments",
    response={200: MembershipList, **ITEM_ERRORS},
    summary="List an account's segments",
)
def list_account_segments(
    request: HttpRequest, account_id: int, filters: Query[AccountSegmentQuery]
) -> dict[str, Any]:
    """The segments the account is in, with since when; with `include_past`, also the
    stays that ended. Newest first."""
    if not (1 <= account_id <= MAX_ID and Account.objects.filter(pk=account_id).exists()):
        raise rest.not_found(_("No account has this id."))
    rows = SegmentMembership.objects.filter(account_id=account_id).select_related(
        "segment", "account"
    )
    if not filters.include_past:
        rows = rows.filter(exited_at__isnull=True)
    return rest.page(rows.order_by("-entered_at", "-id"), filters)
