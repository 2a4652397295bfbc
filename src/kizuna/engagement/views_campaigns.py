"""Campaign pages: the list, the form (with the audience counted as the segment changes), and
a campaign's page: the audience before sending, Send / Schedule / Cancel, the progress
(polled every 2 s while emails are going out), the results, the A/B test's figures and
winner, and the results by segment. Everyone who signs in reads; CSMs and up run campaigns;
managers pick an A/B winner early."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.core.models import User
from kizuna.core.permissions import configure_required, write_required
from kizuna.engagement import abtest, campaign_queries, campaigns
from kizuna.engagement.choices import CampaignStatus, RecipientPhase
from kizuna.engagement.forms_campaigns import (
    SCHEDULED,
    CampaignForm,
    ScheduleForm,
    build_spec,
    place_errors,
    variant_formset,
)
from kizuna.engagement.models import Campaign, CampaignVariant, EmailTemplate
from kizuna.segments.models import Segment

PAGE_SIZE = 50
SECTION = "campaigns"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def percent(value: float | None) -> str:
    """A rate as a percentage with one decimal, or an en dash when there is none."""
    if value is None:
        return "–"
    return f"{number_format(value * 100, 1)}%"


def _campaign(pk: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related(
            "template", "template__category", "segment", "sender", "winner"
        ),
        pk=pk,
    )


# --- The list ---------------------------------------------------------------------------------


def campaign_list(request: HttpRequest) -> HttpResponse:
    rows = Campaign.objects.select_related("segment").order_by("-created_at", "-id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    figures = campaign_queries.results_for_list(campaign.pk for campaign in page)
    items = []
    for campaign in page:
        result = figures.get(campaign.pk)
        items.append(
            {
                "campaign": campaign,
                "sent": result.delivered if result else 0,
                "open_rate": percent(result.open_rate if result else None),
                "click_rate": percent(result.click_rate if result else None),
            }
        )
    return render(
        request,
        "engagement/campaign_list.html",
        {"items": items, "page": page, "section": SECTION},
    )


# --- The form ---------------------------------------------------------------------------------


def _save(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    initial = CampaignForm.initial_from(campaign) if campaign else {}
    form = CampaignForm(request.POST or None, initial=initial)
    formset = variant_formset(request.POST or None, campaign)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid() and formset.is_valid():
            spec, filled = build_spec(form, formset)
            try:
                if campaign is None:
                    saved = campaigns.create_campaign(_user(request), spec)
                else:
                    saved = campaigns.update_campaign(_user(request), campaign, spec)
                if form.cleaned_data["delivery"] == SCHEDULED:
                    campaigns.schedule(saved, form.cleaned_data["send_at"], _user(request))
                elif saved.status == CampaignStatus.SCHEDULED:
                    campaigns.unschedule(saved, _user(request))
            except ValidationError as exc:
                place_errors(form, filled, formset, exc)
            else:
                messages.success(
                    request, _("The campaign “%(name)s” was saved.") % {"name": saved.name}
                )
                return redirect("engagement:campaign", pk=saved.pk)
    segment = form["segment"].value()
    template = form["template"].value()
    return render(
        request,
        "engagement/campaign_form.html",
        {
            "form": form,
            "formset": formset,
            "campaign": campaign,
            "audience": _audience_for(segment, template),
            "section": SECTION,
        },
        status=status,
    )


@write_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@write_required
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    if campaign.status not in campaigns.EDITABLE:
        messages.error(request, _("Only a draft or scheduled campaign can be changed."))
        return redirect("engagement:campaign", pk=pk)
    return _save(request, campaign)


def _audience_for(segment_id: Any, template_id: Any) -> campaigns.Audience | None:
    try:
        segment = Segment.objects.get(pk=int(segment_id))
    except (TypeError, ValueError, Segment.DoesNotExist):
        return None
    category = None
    if template_id:
        try:
            category = (
                EmailTemplate.objects.select_related("category").get(pk=int(template_id)).category
            )
        except (TypeError, ValueError, EmailTemplate.DoesNotExist):
            category = None
    return campaigns.audience(segment, category)


def campaign_audience(request: HttpRequest) -> HttpResponse:
    """The audience of the segment chosen in the form (HTMX, when the segment changes)."""
    audience = _audience_for(request.GET.get("segment"), request.GET.get("template"))
    return render(request, "engagement/partials/campaign_audience.html", {"audience": audience})


# --- A campaign -------------------------------------------------------------------------------


def _figures(result: campaign_queries.Results) -> dict[str, Any]:
    return {
        "result": result,
        "open_rate": percent(result.open_rate),
        "click_rate": percent(result.click_rate),
        "click_to_open": percent(result.click_to_open),
    }


def _ab_rows(campaign: Campaign, variants: list[CampaignVariant]) -> list[dict[str, Any]]:
    live = campaign_queries.results_by_variant(campaign, phase=RecipientPhase.TEST)
    decided = {row["id"]: row for row in campaign.decision.get("variants", [])}
    rows = []
    for variant in variants:
        result = live.get(variant.pk)
        rows.append(
            {
                "variant": variant,
                "decided": decided.get(variant.pk),
                "decided_rate": percent(decided[variant.pk]["rate"])
                if variant.pk in decided
                else "",
                **_figures(result or campaign_queries.Results(*([0] * 10))),
                "is_winner": campaign.winner_id == variant.pk,
            }
        )
    return rows


def _decision(campaign: Campaign) -> dict[str, Any] | None:
    decision = campaign.decision
    if not decision:
        return None
    return {
        **decision,
        "difference_text": percent(decision.get("difference")),
        "ci_text": f"{percent(decision.get('ci_low'))} … {percent(decision.get('ci_high'))}",
        "z_text": number_format(decision.get("z", 0), 2),
        "p_text": number_format(decision.get("p", 1), 4),
        "chi2_text": number_format(decision["chi2"], 2) if decision.get("chi2") is not None else "",
        "chi2_p_text": number_format(decision["chi2_p"], 4)
        if decision.get("chi2_p") is not None
        else "",
        "reason_text": abtest.reason_text(decision),
    }


def _live_context(campaign: Campaign) -> dict[str, Any]:
    progress = campaigns.progress(campaign)
    polling = campaign.status == CampaignStatus.SENDING or (
        campaign.status == CampaignStatus.TESTING and (progress.queued or progress.sending)
    )
    return {
        "campaign": campaign,
        "progress": progress,
        "polling": bool(polling),
        "figures": _figures(campaigns.results(campaign)),
    }


def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    variants = campaigns.variants_of(campaign)
    not_started = campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
    context = {
        **_live_context(campaign),
        "variants": variants,
        "audience": campaigns.audience(campaign.segment, campaign.template.category)
        if not_started
        else None,
        "not_started": not_started,
        "editable": campaign.status in campaigns.EDITABLE,
        "cancellable": campaign.status in campaigns.UNFINISHED,
        "ab_rows": _ab_rows(campaign, variants) if variants and not not_started else [],
        "decision": _decision(campaign),
        "by_segment": [
            {"row": row, **_figures(row.figures)} for row in campaigns.results_by_segment(campaign)
        ]
        if not not_started
        else [],
        "schedule_form": ScheduleForm(),
        "can_write": _user(request).can_write,
        "can_configure": _user(request).can_configure,
        "section": SECTION,
    }
    return render(request, "engagement/campaign_detail.html", context)


def campaign_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar and the results (HTMX, every 2 s while emails are going out)."""
    campaign = _campaign(pk)
    return render(request, "engagement/partials/campaign_progress.html", _live_context(campaign))


def _refused(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


@write_required
@require_POST
def campaign_start(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    try:
        campaigns.start(campaign, _user(request))
    except ValidationError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The campaign is being sent."))
    return redirect("engagement:campaign", pk=pk)


@write_required
@require_POST
def campaign_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the date and time to send at."))
        return redirect("engagement:campaign", pk=pk)
    try:
        campaigns.schedule(campaign, form.cleaned_data["send_at"], _user(request))
    except ValidationError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The campaign is scheduled."))
    return redirect("engagement:campaign", pk=pk)


@write_required
@require_POST
def campaign_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    try:
        campaigns.cancel(campaign, _user(request))
    except ValidationError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The campaign was cancelled."))
    return redirect("engagement:campaign", pk=pk)


@configure_required
@require_POST
def campaign_pick_winner(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    variant = None
    chosen = request.POST.get("variant", "")
    if chosen:
        if chosen.isdigit():
            variant = CampaignVariant.objects.filter(campaign=campaign, pk=int(chosen)).first()
        if variant is None:
            messages.error(request, _("This variant is not part of the campaign."))
            return redirect("engagement:campaign", pk=pk)
    try:
        abtest.decide(campaign, actor=_user(request), force=True, variant=variant)
    except ValidationError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The winner was picked; the rest of the audience receives it."))
    return redirect("engagement:campaign", pk=pk)
