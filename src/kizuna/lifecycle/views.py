"""Pages of the lifecycle: the board, the stage rules (managers), and the account page
panel with the stage and tier history and the "move stage" form (CSMs). Views parse, call
a service or a query, and render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.core import audit
from kizuna.core.conditions import ConditionError
from kizuna.core.models import Role, User
from kizuna.core.permissions import configure_required, write_required
from kizuna.customers.choices import Tier
from kizuna.customers.models import Account
from kizuna.lifecycle import queries, services
from kizuna.lifecycle.forms import StageMoveForm, StageRuleForm
from kizuna.lifecycle.models import StageRule

HISTORY_SHOWN = 10


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- The board ----------------------------------------------------------------------------


def board(request: HttpRequest) -> HttpResponse:
    """One column per stage: accounts, ARR, days in stage, and the biggest accounts. Filters:
    ?owner=me|none|<id> and ?tier=…; CSMs see their own book unless they ask for all."""
    user = _user(request)
    owner = request.GET.get("owner", "me" if user.role == Role.CSM else "")
    tier = request.GET.get("tier", "")
    scope: QuerySet[Account] = Account.objects.all()
    filters: dict[str, str] = {}
    if owner == "me":
        scope = scope.filter(owner=user)
        filters["owner"] = "me"
    elif owner == "none":
        scope = scope.filter(owner__isnull=True)
        filters["owner"] = "none"
    elif owner.isdigit():
        scope = scope.filter(owner_id=int(owner))
        filters["owner"] = owner
    else:
        owner = ""
    if tier in Tier.values:
        scope = scope.filter(tier=tier)
        filters["tier"] = tier
    else:
        tier = ""
    columns = queries.board(scope, timezone.localdate())
    for column in columns:
        column_filters = {**filters, "stage": column.stage}
        column.list_url = reverse("customers:accounts") + "?" + urlencode(column_filters)
    return render(
        request,
        "lifecycle/board.html",
        {
            "section": "lifecycle",
            "columns": columns,
            "owner": owner,
            "tier": tier,
            "tiers": Tier.choices,
            "owners": User.objects.filter(is_active=True).exclude(role=Role.VIEWER),
            "total_accounts": sum(column.accounts for column in columns),
            "total_arr": sum(column.arr for column in columns),
        },
    )


# --- Stage rules (managers) ---------------------------------------------------------------


@configure_required
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = list(StageRule.objects.order_by("priority", "id"))
    plan = services.plan_stage_moves(rules=[rule for rule in rules if rule.enabled])
    return render(
        request,
        "lifecycle/rule_list.html",
        {
            "section": "stage_rules",
            "rules": [(rule, plan.count(rule) if rule.enabled else None) for rule in rules],
            "errors": plan.errors,
        },
    )


@configure_required
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(StageRule, pk=pk) if pk else StageRule()
    before = audit.snapshot(rule) if pk else None
    form = StageRuleForm(request.POST or None, instance=rule)
    preview: int | None = None
    if request.method == "POST" and form.is_valid():
        if "preview" not in request.POST:
            try:
                services.save_rule(_user(request), form.instance, before)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("“%(name)s” saved.") % {"name": form.instance})
                return redirect("lifecycle:rules")
        else:
            try:
                preview = services.preview_rule(form.instance)
            except ConditionError as exc:
                form.add_error("conditions", str(exc))
    return render(
        request,
        "lifecycle/rule_form.html",
        {
            "section": "stage_rules",
            "form": form,
            "rule": rule,
            "preview": preview,
            "title": _("Edit stage rule") if pk else _("New stage rule"),
        },
    )


@configure_required
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(StageRule, pk=pk)
    if request.method == "POST":
        services.delete_rule(_user(request), rule)
        messages.success(request, _("“%(name)s” deleted.") % {"name": rule.name})
        return redirect("lifecycle:rules")
    return render(
        request,
        "core/confirm_delete.html",
        {
            "object": rule,
            "cancel_href": reverse("lifecycle:rules"),
            "consequence": _("Accounts it moved keep their stage and history."),
            "section": "stage_rules",
        },
    )


@configure_required
@require_POST
def rule_enabled(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(StageRule, pk=pk)
    services.set_rule_enabled(_user(request), rule, request.POST.get("enabled") == "1")
    return redirect("lifecycle:rules")


@configure_required
@require_POST
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(StageRule, pk=pk)
    services.move_rule(_user(request), rule, -1 if request.POST.get("direction") == "up" else 1)
    return redirect("lifecycle:rules")


# --- The account page panel ---------------------------------------------------------------


def _panel(
    request: HttpRequest, account: Account, form: StageMoveForm | None = None, **extra: Any
) -> HttpResponse:
    today = timezone.localdate()
    if form is None and _user(request).can_write:
        form = StageMoveForm(current=account.stage)
    return render(
        request,
        "lifecycle/partials/account_panel.html",
        {
            "account": account,
            "days_in_stage": (today - account.stage_entered_on).days,
            "stage_changes": list(queries.stage_history(account.pk, HISTORY_SHOWN)),
            "tier_changes": list(queries.tier_history(account.pk, HISTORY_SHOWN)),
            "move_form": form,
            **extra,
        },
    )


def account_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The account page's lifecycle panel, loaded by HTMX after the page."""
    account = get_object_or_404(
        Account.objects.only("id", "name", "stage", "stage_entered_on", "tier"), pk=pk
    )
    return _panel(request, account)


@write_required
@require_POST
def account_stage(request: HttpRequest, pk: int) -> HttpResponse:
    """A CSM moves the account to another stage by hand (from the panel, HTMX or not)."""
    account = get_object_or_404(Account, pk=pk)
    form = StageMoveForm(request.POST, current=account.stage)
    if form.is_valid():
        try:
            services.set_stage(
                _user(request), account, form.cleaned_data["stage"], form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
    if form.is_valid():
        message = _("Moved to %(stage)s.") % {"stage": account.get_stage_display()}
        if not request.htmx:  # type: ignore[attr-defined]
            messages.success(request, message)
            return redirect(account)
        return _panel(request, account, moved=message)
    # Invalid: the panel comes back with the form's errors (200, so HTMX swaps it in).
    return _panel(request, account, form)
