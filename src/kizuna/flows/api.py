"""Success flows in the REST API (mounted at /api/v1/ by kizuna.api.api): read flows and
their current definition, create a flow or save a new version from a JSON definition (the
same shape the builder saves, see kizuna.flows.definition), pause and resume, read the
enrolments of a flow and an account's execution log.

Everyone with a key reads; managers and admins (and keys with their roles) write. A
definition that cannot be saved is a 422 with code `invalid_definition` whose `fields` name
the step at fault, e.g. ``{"steps.call": ["params.reason: this parameter is required"]}``
(``definition`` when the problem is the flow as a whole).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
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
from kizuna.flows import services
from kizuna.flows.choices import EnrolmentStatus, FlowStatus
from kizuna.flows.definition import DefinitionError
from kizuna.flows.models import Enrolment, StepRun, SuccessFlow

router = Router(tags=["Success flows"])


# === Schemas ==============================================================================


class FlowOut(Schema):
    id: int
    name: str
    description: str
    status: FlowStatus = Field(description="`draft`, `live` or `paused`.")
    paused_reason: str = Field(description="Why the flow is paused (empty otherwise).")
    trigger_type: str
    template_key: str
    version: int | None = Field(description="The number of the current version.")
    created_at: Timestamp
    updated_at: Timestamp

    @staticmethod
    def resolve_version(flow: SuccessFlow) -> int | None:
        return flow.version.number if flow.version else None


class FlowDetailOut(FlowOut):
    definition: dict[str, Any] = Field(
        description="The current version's definition: trigger, audience, exit, reentry, "
        "holdout_percent, start and steps."
    )

    @staticmethod
    def resolve_definition(flow: SuccessFlow) -> dict[str, Any]:
        return dict(flow.version.definition) if flow.version else {}


class FlowList(Schema):
    count: int
    limit: int
    offset: int
    results: list[FlowOut]


class FlowQuery(QueryInput):
    status: FlowStatus | None = None


class FlowCreate(Input):
    name: str = Field(max_length=200)
    description: str = Field("", max_length=10_000)
    definition: dict[str, Any] = Field(
        description="A flow definition, e.g. "
        '`{"trigger": {"type": "event", "event": "$login", "occurrence": 2}, "start": "call", '
        '"steps": [{"id": "call", "type": "action", "action": "cta.create", '
        '"params": {"type": "onboarding", "reason": "Offer a tutorial"}}]}`.'
    )


class VersionCreate(Input):
    definition: dict[str, Any]
    note: str = Field("", max_length=200)
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=10_000)


class VersionOut(Schema):
    flow_id: int
    number: int
    definition: dict[str, Any]
    note: str
    created_at: Timestamp


class AccountRef(Schema):
    id: int
    name: str
    external_id: str | None


class FlowRef(Schema):
    id: int
    name: str


class StepRunOut(Schema):
    id: int
    step_id: str
    step_type: str
    status: str = Field(description="`scheduled`, `waiting`, `done`, `failed` or `cancelled`.")
    outcome: str = Field(description="`done`, `skipped`, `yes`, `no`, `failed`, `cancelled`.")
    text: str = Field(description="What happened, in words.")
    detail: dict[str, Any] = Field(
        description="The data the step saw; `condition` lists each condition with the value "
        "seen and whether it matched."
    )
    error: str
    due_at: Timestamp
    finished_at: Timestamp | None


class EnrolmentOut(Schema):
    id: int
    flow: FlowRef
    version: int
    account: AccountRef
    status: EnrolmentStatus
    holdout: bool
    entered_at: Timestamp
    finished_at: Timestamp | None
    trigger: dict[str, Any] = Field(
        description="What made the account enter, and (`audience`) what the audience saw."
    )
    exit_reason: str
    runs: list[StepRunOut]

    @staticmethod
    def resolve_version(enrolment: Enrolment) -> int:
        return enrolment.version.number

    @staticmethod
    def resolve_runs(enrolment: Enrolment) -> list[StepRun]:
        return list(enrolment.runs.all())


class EnrolmentList(Schema):
    count: int
    limit: int
    offset: int
    results: list[EnrolmentOut]


class EnrolmentQuery(QueryInput):
    status: EnrolmentStatus | None = None


# === Helpers ==============================================================================


def _flow(flow_id: int) -> SuccessFlow:
    return rest.get_or_404(
        SuccessFlow.objects.select_related("version"), flow_id, _("No success flow has this id.")
    )


def _configure_allowed(request: HttpRequest) -> User:
    user = rest.acting_user(request)
    rest.require(user.can_configure, _("Only managers and admins can change success flows."))
    return user


def _refused(exc: DefinitionError | ValidationError) -> ApiError:
    if isinstance(exc, DefinitionError):
        where = f"steps.{exc.step}" if exc.step else "definition"
        return ApiError(
            422,
            "invalid_definition",
            (
                _("Step “%(step)s”: %(message)s") % {"step": exc.step, "message": exc.message}
                if exc.step
                else exc.message
            ),
            {where: [exc.message]},
        )
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    return ApiError(422, "validation_error", _("The data is not valid. Nothing was saved."), fields)


def _enrolments() -> Any:
    return Enrolment.objects.select_related("flow", "version", "account").prefetch_related("runs")


# === Flows ================================================================================


@router.get("/flows", response={200: FlowList, **READ_ERRORS}, summary="List success flows")
def list_flows(request: HttpRequest, filters: Query[FlowQuery]) -> dict[str, Any]:
    rows = SuccessFlow.objects.select_related("version").order_by("name", "id")
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    return rest.page(rows, filters)


@router.post(
    "/flows", response={201: FlowDetailOut, **WRITE_ERRORS}, summary="Create a success flow"
)
def create_flow(request: HttpRequest, payload: FlowCreate) -> Status[SuccessFlow]:
    """A draft with the definition as version 1; turn it live with `resume`."""
    user = _configure_allowed(request)
    try:
        flow = services.create_flow(
            user, payload.name, payload.definition, description=payload.description
        )
    except (DefinitionError, ValidationError) as exc:
        raise _refused(exc) from None
    except IntegrityError:
        raise ApiError(409, "conflict", _("Another flow was saved with this name.")) from None
    return Status(201, _flow(flow.pk))


@router.get(
    "/flows/{flow_id}", response={200: FlowDetailOut, **ITEM_ERRORS}, summary="Get a success flow"
)
def get_flow(request: HttpRequest, flow_id: int) -> SuccessFlow:
    return _flow(flow_id)


@router.post(
    "/flows/{flow_id}/versions",
    response={201: VersionOut, **WRITE_ERRORS},
    summary="Save a new version of a success flow",
)
def create_flow_version(request: HttpRequest, flow_id: int, payload: VersionCreate) -> Status[Any]:
    """New enrolments start on it; accounts already in the flow finish on their version."""
    user = _configure_allowed(request)
    flow = _flow(flow_id)
    try:
        version = services.save_version(
            user,
            flow,
            payload.definition,
            note=payload.note,
            name=payload.name,
            description=payload.description,
        )
    except (DefinitionError, ValidationError) as exc:
        raise _refused(exc) from None
    return Status(201, version)


def _set_status(request: HttpRequest, flow_id: int, status: str) -> SuccessFlow:
    user = _configure_allowed(request)
    flow = _flow(flow_id)
    try:
        services.set_status(user, flow, status)
    except ValidationError as exc:
        raise ApiError(409, "conflict", " ".join(exc.messages), {"status": exc.messages}) from None
    return _flow(flow_id)


@router.post(
    "/flows/{flow_id}/pause",
    response={200: FlowDetailOut, **WRITE_ERRORS},
    summary="Pause a success flow",
)
def pause_flow(request: HttpRequest, flow_id: int) -> SuccessFlow:
    """Waiting runs wait; they go on when the flow is resumed."""
    return _set_status(request, flow_id, FlowStatus.PAUSED)


@router.post(
    "/flows/{flow_id}/resume",
    response={200: FlowDetailOut, **WRITE_ERRORS},
    summary="Turn a success flow live (or resume it)",
)
def resume_flow(request: HttpRequest, flow_id: int) -> SuccessFlow:
    """Refused (409) when the flow cannot go live, e.g. it has no steps."""
    return _set_status(request, flow_id, FlowStatus.LIVE)


@router.get(
    "/flows/{flow_id}/enrolments",
    response={200: EnrolmentList, **ITEM_ERRORS},
    summary="List a success flow's enrolments",
)
def list_flow_enrolments(
    request: HttpRequest, flow_id: int, filters: Query[EnrolmentQuery]
) -> dict[str, Any]:
    """Newest first, each with its step runs (the execution log)."""
    flow = _flow(flow_id)
    rows = _enrolments().filter(flow=flow)
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    return rest.page(rows.order_by("-entered_at", "-id"), filters)


@router.get(
    "/accounts/{account_id}/flow-runs",
    response={200: EnrolmentList, **ITEM_ERRORS},
    summary="An account's success flow log",
)
def list_account_flow_runs(
    request: HttpRequest, account_id: int, filters: Query[EnrolmentQuery]
) -> dict[str, Any]:
    """Every flow the account entered, newest first: which version, what made it enter,
    and each step with the data it saw and what happened ("why did this happen?")."""
    if not (1 <= account_id <= MAX_ID and Account.objects.filter(pk=account_id).exists()):
        raise rest.not_found(_("No account has this id."))
    rows = _enrolments().filter(account_id=account_id)
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    return rest.page(rows.order_by("-entered_at", "-id"), filters)
