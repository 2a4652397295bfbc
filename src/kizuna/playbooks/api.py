"""CTAs and playbooks in the REST API (mounted at /api/v1/ by kizuna.api.api).

Everyone with a key reads. CSMs, managers and admins (and keys with their roles) create,
update and close CTAs; deleting a CTA and writing playbooks need a manager or admin.

Creating a CTA has the semantics of `services.open_cta`: the same `source_key` sent again
answers 200 with the CTA created the first time (a safe retry); another open CTA with the
same account, type and reason answers 409 naming it. `CtaOut` is also the `data.object`
of the `cta.created` and `cta.closed` webhooks.
"""

import datetime
from collections.abc import Sequence
from typing import Any, Literal

from django.db import models, transaction
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
    QueryInput,
    Timestamp,
)
from kizuna.core import audit
from kizuna.core.models import User
from kizuna.playbooks import queries, services
from kizuna.playbooks.choices import (
    OPEN_STATUSES,
    CtaSource,
    CtaStatus,
    CtaType,
    Outcome,
    Priority,
)
from kizuna.playbooks.models import Cta, Playbook
from kizuna.playbooks.schema import Step

router = Router(tags=["CTAs"])


# === Schemas ==============================================================================


class AccountRef(Schema):
    id: int
    name: str
    external_id: str | None


class TaskOut(Schema):
    id: int
    order: int
    title: str
    guidance: str
    due_on: datetime.date | None
    done_at: Timestamp | None
    done_by_id: int | None


class CtaOut(Schema):
    id: int
    account: AccountRef
    type: CtaType
    reason: str = Field(description="Why the CTA exists, shown wherever it is listed.")
    priority: Priority
    due_on: datetime.date
    owner_id: int | None
    status: CtaStatus = Field(description="`open`, `snoozed`, `done` or `cancelled`.")
    snoozed_until: datetime.date | None
    outcome: Outcome | None = Field(description="Set when the CTA is closed.")
    outcome_note: str
    playbook_key: str | None
    source: CtaSource
    source_label: str
    source_key: str = Field(description="The idempotency key it was created with, if any.")
    tasks: list[TaskOut]
    created_at: Timestamp
    updated_at: Timestamp
    closed_at: Timestamp | None
    closed_by_id: int | None

    @staticmethod
    def resolve_outcome(obj: Cta) -> str | None:
        return obj.outcome or None

    @staticmethod
    def resolve_playbook_key(obj: Cta) -> str | None:
        return obj.playbook.key if obj.playbook_id and obj.playbook else None

    @staticmethod
    def resolve_tasks(obj: Cta) -> list[Any]:
        return list(obj.tasks.all())


class CtaList(Schema):
    count: int
    limit: int
    offset: int
    results: list[CtaOut]


class CtaCreate(Input):
    account_id: int = Field(ge=1, le=MAX_ID)
    type: CtaType
    reason: str = Field(min_length=1, max_length=200)
    priority: Priority | None = Field(None, description="The playbook's when omitted.")
    due_in_days: int | None = Field(
        None,
        ge=0,
        le=services.MAX_DUE_DAYS,
        description="Days from today; the playbook's length (or 7) when omitted.",
    )
    playbook_key: str | None = Field(None, max_length=64)
    owner_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The assignment rules decide when omitted."
    )
    source_label: str = Field("", max_length=200)
    source_key: str = Field(
        "", max_length=200, description="An idempotency key: the same key never creates two CTAs."
    )


class CtaPatch(Input):
    reason: str | None = Field(None, min_length=1, max_length=200)
    type: CtaType | None = None
    priority: Priority | None = None
    due_on: datetime.date | None = None
    owner_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: CtaStatus | None = Field(
        None,
        description="`done`/`cancelled` closes the CTA (with `outcome`), `snoozed` needs "
        "`snoozed_until`, `open` wakes or reopens it.",
    )
    outcome: Outcome | None = None
    outcome_note: str | None = Field(None, max_length=10_000)
    snoozed_until: datetime.date | None = None


class CtaQuery(QueryInput):
    status: CtaStatus | None = None
    open: bool | None = Field(None, description="Only open and snoozed CTAs (true) or closed.")
    type: CtaType | None = None
    priority: Priority | None = None
    owner_id: int | None = Field(None, ge=1, le=MAX_ID)
    account_id: int | None = Field(None, ge=1, le=MAX_ID)
    overdue: bool | None = Field(None, description="Open and past the due date.")
    source_key: str | None = Field(None, max_length=200)
    ordering: Literal["due_on", "-due_on", "priority", "created_at", "-created_at"] = "due_on"


CTA_ORDERINGS: dict[str, tuple[str, ...]] = {
    "due_on": ("due_on", "id"),
    "-due_on": ("-due_on", "-id"),
    "priority": ("priority_rank", "due_on", "id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}


class PlaybookOut(Schema):
    id: int
    key: str
    name: str
    description: str
    cta_type: CtaType
    priority: Priority
    steps: list[Step] = Field(
        description='e.g. `[{"title": "Call the champion", "guidance": "…", "due_offset_days": 2}]`'
    )
    enabled: bool
    shipped: bool
    customized: bool = Field(description="A shipped playbook someone has edited.")
    updated_at: Timestamp


class PlaybookList(Schema):
    count: int
    limit: int
    offset: int
    results: list[PlaybookOut]


class PlaybookCreate(Input):
    key: str = Field(min_length=1, max_length=64, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    cta_type: CtaType = CtaType.OTHER
    priority: Priority = Priority.MEDIUM
    steps: list[dict[str, Any]] = Field(default_factory=list)
    enabled: bool = True


class PlaybookPatch(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    cta_type: CtaType | None = None
    priority: Priority | None = None
    steps: list[dict[str, Any]] | None = None
    enabled: bool | None = None


class PlaybookQuery(QueryInput):
    enabled: bool | None = None
    cta_type: CtaType | None = None


# === Helpers ==============================================================================


def serialize_ctas(instances: Sequence[models.Model]) -> list[dict[str, Any]]:
    """Batch serializer of the CTA webhooks: accounts, playbooks and tasks loaded in at
    most three queries."""
    stored = [row for row in instances if row.pk is not None]
    models.prefetch_related_objects(stored, "account", "playbook", "tasks")
    return [CtaOut.model_validate(row).model_dump(mode="json") for row in instances]


def _cta(cta_id: int) -> Cta:
    return rest.get_or_404(
        Cta.objects.select_related("account", "playbook"), cta_id, _("No CTA has this id.")
    )


def _writer(request: HttpRequest) -> User:
    user = rest.acting_user(request)
    rest.require(user.can_write, _("Viewers cannot change CTAs."))
    return user


def _configurer(request: HttpRequest, message: str) -> User:
    user = rest.acting_user(request)
    rest.require(user.can_configure, message)
    return user


def _refused(exc: services.InvalidCta) -> ApiError:
    fields = {exc.field: [exc.message]}
    if exc.code == "conflict":
        return ApiError(409, "conflict", exc.message, fields)
    return ApiError(422, "validation_error", _("The data is not valid. Nothing was saved."), fields)


def _playbook_refused(exc: services.InvalidPlaybook) -> ApiError:
    if exc.code in ("unique", "conflict"):
        message = next(iter(exc.errors.values()))[0]
        return ApiError(409, "conflict", message, exc.errors)
    return ApiError(
        422, "validation_error", _("The data is not valid. Nothing was saved."), exc.errors
    )


def _fresh(cta: Cta) -> Cta:
    return _cta(cta.pk)


# === CTAs =================================================================================


@router.get("/ctas", response={200: CtaList, **READ_ERRORS}, summary="List CTAs")
def list_ctas(request: HttpRequest, filters: Query[CtaQuery]) -> dict[str, Any]:
    rows = Cta.objects.select_related("account", "playbook").annotate(
        priority_rank=queries.PRIORITY_ORDER
    )
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    if filters.open is not None:
        rows = (
            rows.filter(status__in=OPEN_STATUSES)
            if filters.open
            else rows.exclude(status__in=OPEN_STATUSES)
        )
    for name in ("type", "priority", "owner_id", "account_id", "source_key"):
        value = getattr(filters, name)
        if value is not None:
            rows = rows.filter(**{name: value})
    if filters.overdue is not None:
        overdue = models.Q(status__in=OPEN_STATUSES, due_on__lt=timezone.localdate())
        rows = rows.filter(overdue) if filters.overdue else rows.exclude(overdue)
    rows = rest.order(rows, filters.ordering, CTA_ORDERINGS).prefetch_related("tasks")
    return rest.page(rows, filters)


@router.post(
    "/ctas",
    response={200: CtaOut, 201: CtaOut, **WRITE_ERRORS},
    summary="Create a CTA",
)
def create_cta(request: HttpRequest, payload: CtaCreate) -> Status[Cta]:
    """201 with the new CTA; 200 with the existing one when `source_key` was used before;
    409 when another open CTA has the same account, type and reason."""
    user = _writer(request)
    if payload.source_key:
        existing = Cta.objects.filter(source_key=payload.source_key.strip()).first()
        if existing is not None:
            return Status(200, _fresh(existing))
    try:
        cta, created = services.open_cta(
            account_id=payload.account_id,
            type=payload.type,
            reason=payload.reason,
            priority=payload.priority,
            due_in_days=payload.due_in_days,
            playbook_key=payload.playbook_key,
            owner_id=payload.owner_id,
            source=CtaSource.API,
            source_label=payload.source_label,
            source_key=payload.source_key,
            actor=user,
        )
    except services.InvalidCta as exc:
        if exc.code == "not_found":
            raise rest.invalid(exc.field, exc.message) from None
        raise _refused(exc) from None
    if created:
        return Status(201, _fresh(cta))
    if payload.source_key and cta.source_key == payload.source_key.strip():
        return Status(200, _fresh(cta))
    raise ApiError(
        409,
        "conflict",
        _("An open CTA with this account, type and reason already exists (id %(id)d).")
        % {"id": cta.pk},
        {"reason": [_("Already open as CTA %(id)d.") % {"id": cta.pk}]},
    )


@router.get("/ctas/{cta_id}", response={200: CtaOut, **ITEM_ERRORS}, summary="Get a CTA")
def get_cta(request: HttpRequest, cta_id: int) -> Cta:
    return _cta(cta_id)


@router.patch("/ctas/{cta_id}", response={200: CtaOut, **WRITE_ERRORS}, summary="Update a CTA")
def update_cta(request: HttpRequest, cta_id: int, payload: CtaPatch) -> Cta:
    """Change fields, and/or move the status: close (`done`/`cancelled` with `outcome`),
    snooze (`snoozed` with `snoozed_until`) or reopen (`open`)."""
    user = _writer(request)
    cta = _cta(cta_id)
    changes = payload.model_dump(exclude_unset=True)
    status = changes.pop("status", None)
    outcome = changes.pop("outcome", None)
    note = changes.pop("outcome_note", None)
    until = changes.pop("snoozed_until", None)
    for name in ("reason", "type", "priority", "due_on"):
        if name in changes and changes[name] is None:
            raise rest.invalid(name, _("This field cannot be null."))
    try:
        with transaction.atomic():  # all of the patch, or nothing
            cta = _apply_patch(user, cta, changes, status, outcome, note, until)
    except services.InvalidCta as exc:
        raise _refused(exc) from None
    return _fresh(cta)


def _apply_patch(
    user: User,
    cta: Cta,
    changes: dict[str, Any],
    status: str | None,
    outcome: str | None,
    note: str | None,
    until: datetime.date | None,
) -> Cta:
    if changes:
        cta = services.update_cta(user, cta, **changes)
    if status in (CtaStatus.DONE, CtaStatus.CANCELLED):
        if outcome is None:
            raise rest.invalid("outcome", _("Give the outcome to close a CTA."))
        return services.close_cta(user, cta, status=status, outcome=outcome, note=note or "")
    if status == CtaStatus.SNOOZED:
        if until is None:
            raise rest.invalid("snoozed_until", _("Give the day the snooze ends."))
        return services.snooze(user, cta, until)
    if status == CtaStatus.OPEN:
        return services.reopen(user, cta)
    if outcome is not None or until is not None:
        raise rest.invalid("status", _("Give the status this applies to."))
    return cta


@router.delete("/ctas/{cta_id}", response={204: None, **ITEM_ERRORS}, summary="Delete a CTA")
def delete_cta(request: HttpRequest, cta_id: int) -> Status[None]:
    """Managers and admins only; others cancel a CTA instead."""
    user = _configurer(request, _("Only managers and admins can delete CTAs; cancel it instead."))
    services.delete_cta(user, _cta(cta_id))
    return Status(204, None)


# === Playbooks ============================================================================


def _playbook(key: str) -> Playbook:
    playbook = Playbook.objects.filter(key=key[:64]).first()
    if playbook is None:
        raise rest.not_found(_("No playbook has this key."))
    return playbook


@router.get("/playbooks", response={200: PlaybookList, **READ_ERRORS}, summary="List playbooks")
def list_playbooks(request: HttpRequest, filters: Query[PlaybookQuery]) -> dict[str, Any]:
    rows = Playbook.objects.order_by("name", "id")
    if filters.enabled is not None:
        rows = rows.filter(enabled=filters.enabled)
    if filters.cta_type is not None:
        rows = rows.filter(cta_type=filters.cta_type)
    return rest.page(rows, filters)


@router.get(
    "/playbooks/{key}", response={200: PlaybookOut, **ITEM_ERRORS}, summary="Get a playbook"
)
def get_playbook(request: HttpRequest, key: str) -> Playbook:
    return _playbook(key)


@router.post("/playbooks", response={201: PlaybookOut, **WRITE_ERRORS}, summary="Create a playbook")
def create_playbook(request: HttpRequest, payload: PlaybookCreate) -> Status[Playbook]:
    user = _configurer(request, _("Only managers and admins can change playbooks."))
    playbook = Playbook(**payload.model_dump())
    try:
        return Status(201, services.save_playbook(user, playbook, None))
    except services.InvalidPlaybook as exc:
        raise _playbook_refused(exc) from None


@router.patch(
    "/playbooks/{key}", response={200: PlaybookOut, **WRITE_ERRORS}, summary="Update a playbook"
)
def update_playbook(request: HttpRequest, key: str, payload: PlaybookPatch) -> Playbook:
    """Editing a shipped playbook marks it `customized`: library updates leave it alone."""
    user = _configurer(request, _("Only managers and admins can change playbooks."))
    playbook = _playbook(key)
    before = audit.snapshot(playbook)
    for name, value in payload.model_dump(exclude_unset=True).items():
        if value is None:
            if name == "description":
                value = ""
            else:
                raise rest.invalid(name, _("This field cannot be null."))
        setattr(playbook, name, value)
    try:
        return services.save_playbook(user, playbook, before)
    except services.InvalidPlaybook as exc:
        raise _playbook_refused(exc) from None


@router.delete(
    "/playbooks/{key}", response={204: None, **WRITE_ERRORS}, summary="Delete a playbook"
)
def delete_playbook(request: HttpRequest, key: str) -> Status[None]:
    """A shipped playbook cannot be deleted (409); disable it instead."""
    user = _configurer(request, _("Only managers and admins can change playbooks."))
    try:
        services.delete_playbook(user, _playbook(key))
    except services.InvalidPlaybook as exc:
        raise _playbook_refused(exc) from None
    return Status(204, None)
