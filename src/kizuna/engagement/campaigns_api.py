"""Campaigns in the REST API (mounted at /api/v1/ by kizuna.api.api): list and read campaigns
with their progress and results (and the A/B decision), create a draft, start it, cancel it.

Everyone with a key reads; CSMs and up (and keys with their roles) write. A refused campaign
is a 422 `validation_error` whose `fields` name the place, e.g.
``{"variants.2.weight": ["The weight of variant 2 must be 1 or more."]}``; starting or
cancelling a campaign in the wrong status is a 409 `conflict`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
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
from kizuna.engagement import campaigns
from kizuna.engagement.choices import CampaignStatus, IfInconclusive, WinnerCriterion
from kizuna.engagement.models import Campaign, EmailTemplate, SenderIdentity
from kizuna.segments.models import Segment

router = Router(tags=["Campaigns"])


class VariantOut(Schema):
    id: int
    label: str
    weight: int
    subject_ja: str
    subject_en: str
    template_id: int | None


class ResultsOut(Schema):
    audience: int
    delivered: int
    opens: int
    open_rate: float | None
    clicks: int
    click_rate: float | None
    click_to_open: float | None
    unsubscribes: int
    bounces: int
    held_by_cap: int
    skipped: int
    failed: int


class ProgressOut(Schema):
    total: int
    waiting: int
    queued: int
    sending: int
    sent: int
    failed: int
    bounced: int
    held: int
    skipped: int
    percent_done: int


class CampaignOut(Schema):
    id: int
    name: str
    description: str
    status: CampaignStatus
    template_id: int
    segment_id: int
    sender_id: int | None
    team: str
    scheduled_at: Timestamp | None
    started_at: Timestamp | None
    finished_at: Timestamp | None
    audience_count: int
    test_share: int
    winner_criterion: WinnerCriterion
    test_hours: int
    if_inconclusive: IfInconclusive
    winner_id: int | None
    decision: dict[str, Any] = Field(
        description="The A/B test's figures when the winner was picked: per variant "
        "delivered, opens, clicks and rate; z, p, the 95% confidence interval of the "
        "difference, significant, the winner and the reason."
    )
    variants: list[VariantOut]
    progress: ProgressOut
    results: ResultsOut
    created_at: Timestamp

    @staticmethod
    def resolve_variants(campaign: Campaign) -> list[Any]:
        return campaigns.variants_of(campaign)

    @staticmethod
    def resolve_progress(campaign: Campaign) -> dict[str, Any]:
        progress = campaigns.progress(campaign)
        return {**progress.__dict__, "percent_done": progress.percent_done}

    @staticmethod
    def resolve_results(campaign: Campaign) -> dict[str, Any]:
        result = campaigns.results(campaign)
        return {
            **result.__dict__,
            "open_rate": result.open_rate,
            "click_rate": result.click_rate,
            "click_to_open": result.click_to_open,
        }


class CampaignList(Schema):
    count: int
    limit: int
    offset: int
    results: list[CampaignOut]


class CampaignQuery(QueryInput):
    status: CampaignStatus | None = None


class VariantIn(Input):
    label: str = Field(max_length=20)
    weight: int = Field(1, ge=0, le=1000)
    subject_ja: str = Field("", max_length=300)
    subject_en: str = Field("", max_length=300)
    template_id: int | None = Field(None, ge=1, le=MAX_ID)


class CampaignCreate(Input):
    name: str = Field(max_length=200)
    description: str = Field("", max_length=10_000)
    template_id: int = Field(ge=1, le=MAX_ID)
    segment_id: int = Field(ge=1, le=MAX_ID)
    sender_id: int | None = Field(None, ge=1, le=MAX_ID)
    team: str = Field("", max_length=100)
    test_share: int = Field(20, ge=0, le=1000)
    winner_criterion: WinnerCriterion = WinnerCriterion.OPEN_RATE
    test_hours: int = Field(24, ge=0, le=10_000)
    if_inconclusive: IfInconclusive = IfInconclusive.BEST
    variants: list[VariantIn] = Field(default_factory=list, max_length=campaigns.MAX_VARIANTS + 1)


def _campaign(campaign_id: int) -> Campaign:
    return rest.get_or_404(Campaign.objects.all(), campaign_id, _("No campaign has this id."))


def _writer(request: HttpRequest) -> User:
    user = rest.acting_user(request)
    rest.require(user.can_write, _("Your role cannot run campaigns."))
    return user


def _lookup(model: Any, pk: int | None, field: str, message: str) -> Any:
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise rest.invalid(field, message)
    return found


def _refused(exc: ValidationError) -> ApiError:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"campaign": exc.messages}
    if "status" in fields:
        return ApiError(409, "conflict", " ".join(exc.messages), fields)
    return ApiError(422, "validation_error", _("The data is not valid. Nothing was saved."), fields)


@router.get("/campaigns", response={200: CampaignList, **READ_ERRORS}, summary="List campaigns")
def list_campaigns(request: HttpRequest, filters: Query[CampaignQuery]) -> dict[str, Any]:
    """Newest first, each with its progress and results."""
    rows = Campaign.objects.order_by("-created_at", "-id")
    if filters.status is not None:
        rows = rows.filter(status=filters.status)
    return rest.page(rows, filters)


@router.get(
    "/campaigns/{campaign_id}", response={200: CampaignOut, **ITEM_ERRORS}, summary="Get a campaign"
)
def get_campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    return _campaign(campaign_id)


@router.post(
    "/campaigns", response={201: CampaignOut, **WRITE_ERRORS}, summary="Create a draft campaign"
)
def create_campaign(request: HttpRequest, payload: CampaignCreate) -> Status[Campaign]:
    user = _writer(request)
    spec = campaigns.CampaignSpec(
        name=payload.name,
        description=payload.description,
        template=_lookup(
            EmailTemplate, payload.template_id, "template_id", _("No email template has this id.")
        ),
        segment=_lookup(Segment, payload.segment_id, "segment_id", _("No segment has this id.")),
        sender=_lookup(SenderIdentity, payload.sender_id, "sender_id", _("No sender has this id.")),
        team=payload.team,
        test_share=payload.test_share,
        winner_criterion=payload.winner_criterion,
        test_hours=payload.test_hours,
        if_inconclusive=payload.if_inconclusive,
        variants=[
            campaigns.VariantSpec(
                label=variant.label,
                weight=variant.weight,
                subject_ja=variant.subject_ja,
                subject_en=variant.subject_en,
                template=_lookup(
                    EmailTemplate,
                    variant.template_id,
                    f"variants.{number}.template_id",
                    _("No email template has this id."),
                ),
            )
            for number, variant in enumerate(payload.variants, start=1)
        ],
    )
    try:
        campaign = campaigns.create_campaign(user, spec)
    except ValidationError as exc:
        raise _refused(exc) from None
    return Status(201, _campaign(campaign.pk))


@router.post(
    "/campaigns/{campaign_id}/start",
    response={200: CampaignOut, **WRITE_ERRORS},
    summary="Start a campaign now",
)
def start_campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    """Snapshots the audience (with the A/B assignment) and queues the emails in the
    background. 409 when the campaign was already started or cancelled."""
    user = _writer(request)
    try:
        campaigns.start(_campaign(campaign_id), user)
    except ValidationError as exc:
        raise _refused(exc) from None
    return _campaign(campaign_id)


@router.post(
    "/campaigns/{campaign_id}/cancel",
    response={200: CampaignOut, **WRITE_ERRORS},
    summary="Cancel a campaign",
)
def cancel_campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    """Nothing more is queued; emails still waiting in the queue are skipped."""
    user = _writer(request)
    try:
        campaigns.cancel(_campaign(campaign_id), user)
    except ValidationError as exc:
        raise _refused(exc) from None
    return _campaign(campaign_id)
