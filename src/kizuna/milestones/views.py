"""Pages of milestones: Settings → Milestones (managers and admins) and the account page
panel (everyone signed in). Views parse, call a service or a query, and render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.core.models import User
from kizuna.core.permissions import configure_required
from kizuna.customers.choices import LifecycleStage
from kizuna.customers.models import Account
from kizuna.milestones import queries, services
from kizuna.milestones.forms import MilestoneForm
from kizuna.milestones.models import Milestone


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@configure_required
def milestone_list(request: HttpRequest) -> HttpResponse:
    """The milestones per stage with how many accounts reached each, are overdue, are due."""
    return render(
        request,
        "milestones/milestone_list.html",
        {"section": "milestones", "stages": queries.by_stage(timezone.localdate())},
    )


@configure_required
def milestone_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    milestone = get_object_or_404(Milestone, pk=pk) if pk else None
    initial = {}
    if milestone is None and request.GET.get("stage") in LifecycleStage.values:
        initial["stage"] = request.GET["stage"]
    form = MilestoneForm(request.POST or None, instance=milestone, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = form.save_through_services(_user(request))
            except services.InvalidMilestone as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("“%(name)s” saved.") % {"name": saved.name})
                return redirect("milestones:list")
        status = 400
    return render(
        request,
        "milestones/milestone_form.html",
        {
            "section": "milestones",
            "form": form,
            "milestone": milestone,
            "title": _("Edit milestone") if milestone else _("New milestone"),
        },
        status=status,
    )


@configure_required
def milestone_delete(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = get_object_or_404(Milestone, pk=pk)
    if request.method == "POST":
        services.delete_milestone(_user(request), milestone)
        messages.success(request, _("“%(name)s” deleted.") % {"name": milestone.name})
        return redirect("milestones:list")
    return render(
        request,
        "core/confirm_delete.html",
        {
            "object": milestone,
            "cancel_href": reverse("milestones:list"),
            "consequence": _("Every account's progress on it is deleted with it."),
            "section": "milestones",
        },
    )


@configure_required
@require_POST
def milestone_enabled(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = get_object_or_404(Milestone, pk=pk)
    services.set_enabled(_user(request), milestone, request.POST.get("enabled") == "1")
    return redirect("milestones:list")


@configure_required
@require_POST
def milestone_move(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = get_object_or_404(Milestone, pk=pk)
    services.move(_user(request), milestone, -1 if request.POST.get("direction") == "up" else 1)
    return redirect("milestones:list")


def account_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The account page's milestones panel (loaded by HTMX after the page)."""
    account = get_object_or_404(Account.objects.only("id", "stage", "stage_entered_on"), pk=pk)
    today = timezone.localdate()
    return render(
        request,
        "milestones/partials/account_panel.html",
        {
            "account": account,
            "progress": queries.account_progress(account, today),
            "today": today,
        },
    )
