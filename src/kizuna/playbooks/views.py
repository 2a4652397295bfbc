"""Pages of the CSM workspace: My work, a CTA with its checklist, new CTAs, the team view
for managers, playbooks and assignment rules, and the account page panel. Everyone who signs
in reads; CSMs and up work CTAs; managers and admins reassign, see the team and configure."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_POST

from kizuna.core import audit
from kizuna.core.models import User
from kizuna.core.permissions import configure_required, write_required
from kizuna.customers import services as customers
from kizuna.customers.choices import Rating, Tier
from kizuna.customers.forms import TouchpointForm
from kizuna.customers.models import Account, Touchpoint
from kizuna.playbooks import queries, services
from kizuna.playbooks.choices import OPEN_STATUSES, CtaStatus, CtaType, Outcome, Priority
from kizuna.playbooks.forms import (
    SNOOZE_CHOICES,
    AssignmentRuleForm,
    BulkForm,
    CloseForm,
    CtaForm,
    MoveAccountsForm,
    MoveCtasForm,
    PlaybookForm,
    ReassignForm,
    SnoozeForm,
    StepFormSet,
)
from kizuna.playbooks.models import AssignmentRule, Cta, CtaTask, Playbook

PAGE_SIZE = 50
RECENT_TOUCHPOINTS = 5


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# --- My work ----------------------------------------------------------------------------


def work(request: HttpRequest) -> HttpResponse:
    """My CTAs by priority then due date, with filters, bulk actions and my notifications.
    Managers can look at someone else's list, everyone's, or the unowned CTAs."""
    user = _user(request)
    spec = queries.WorkFilter.from_query(request.GET)
    paginator = Paginator(queries.work(spec, user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "section": "work",
        "spec": spec,
        "page": page,
        "today": timezone.localdate(),
        "types": CtaType.choices,
        "priorities": Priority.choices,
        "statuses": [
            ("open", pgettext("CTA status", "Open")),
            ("snoozed", _("Snoozed")),
            ("closed", _("Closed")),
            ("all", _("All")),
        ],
        "snooze_choices": SNOOZE_CHOICES,
        "outcomes": Outcome.choices,
    }
    if request.htmx and request.htmx.target == "work-results":  # type: ignore[attr-defined]
        return render(request, "playbooks/partials/work_results.html", context)
    context["counts"] = queries.work_counts(user)
    context["notifications"] = queries.unread_notifications(user)
    if user.can_configure:
        context["assignees"] = list(services.assignable_users().order_by("username"))
    return render(request, "playbooks/work.html", context)


@write_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Done, snooze or reassign the ticked CTAs (reassigning needs a manager). A CSM acts on
    their own CTAs only."""
    user = _user(request)
    rows = Cta.objects.filter(status__in=OPEN_STATUSES)
    if not user.can_configure:
        rows = rows.filter(owner=user)
    raw_ids = [value for value in request.POST.getlist("ids") if value.isdigit()]
    allowed = list(rows.filter(pk__in=raw_ids).values_list("pk", flat=True))
    form = BulkForm(request.POST, allowed_ids=allowed)
    back = _back(request, reverse("playbooks:work"))
    if not form.is_valid():
        if "ids" in form.errors:
            messages.error(request, _("Tick at least one open CTA. Nothing was changed."))
        else:
            errors = [str(error) for field in form.errors.values() for error in field]
            messages.error(request, " ".join(errors) + " " + _("Nothing was changed."))
        return redirect(back)
    chosen = list(Cta.objects.filter(pk__in=form.cleaned_data["ids"]).order_by("pk"))
    action = form.cleaned_data["action"]
    try:
        if action == "done":
            count = services.bulk_close(user, chosen, form.cleaned_data["outcome"] or "resolved")
            messages.success(
                request, ngettext("%(n)d CTA done.", "%(n)d CTAs done.", count) % {"n": count}
            )
        elif action == "snooze":
            count = services.bulk_snooze(user, chosen, form.cleaned_data["days"])
            messages.success(
                request,
                ngettext("%(n)d CTA snoozed.", "%(n)d CTAs snoozed.", count) % {"n": count},
            )
        else:
            if not user.can_configure:
                messages.error(request, _("Only managers can reassign CTAs."))
                return redirect(back)
            count = services.reassign(user, chosen, form.cleaned_data["owner"])
            messages.success(
                request,
                ngettext("%(n)d CTA reassigned.", "%(n)d CTAs reassigned.", count) % {"n": count},
            )
    except services.InvalidCta as exc:
        messages.error(request, exc.message)
    return redirect(back)


@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    ids = [int(value) for value in request.POST.getlist("id") if value.isdigit()]
    services.mark_read(_user(request), ids or None)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "playbooks/partials/notifications.html", {"notifications": []})
    return redirect(_back(request, reverse("playbooks:work")))


def notification_badge(request: HttpRequest) -> HttpResponse:
    """The unread count, for a header to load lazily (hx-get, hx-trigger="load")."""
    return render(
        request,
        "playbooks/partials/notification_badge.html",
        {"unread": queries.unread_count(_user(request))},
    )


# --- A CTA ------------------------------------------------------------------------------


def _touchpoint_form(account: Account, data: Any = None) -> TouchpointForm:
    return TouchpointForm(data, account=account)


def _recent_touchpoints(account: Account) -> list[Touchpoint]:
    return list(
        Touchpoint.objects.filter(account=account)
        .select_related("author")
        .order_by("-occurred_at", "-id")[:RECENT_TOUCHPOINTS]
    )


def cta_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cta = get_object_or_404(
        Cta.objects.select_related(
            "account__owner", "account__health", "owner", "playbook", "closed_by", "created_by"
        ),
        pk=pk,
    )
    user = _user(request)
    context: dict[str, Any] = {
        "section": "work",
        "cta": cta,
        "tasks": list(cta.tasks.select_related("done_by")),
        "today": timezone.localdate(),
        "touchpoints": _recent_touchpoints(cta.account),
        "others": list(queries.account_ctas(cta.account_id).exclude(pk=cta.pk)[:5]),
    }
    if user.can_write:
        context["close_form"] = CloseForm()
        context["snooze_choices"] = SNOOZE_CHOICES
        context["touchpoint_form"] = _touchpoint_form(cta.account)
        context["ratings"] = Rating.choices
    if user.can_configure:
        context["reassign_form"] = ReassignForm(initial={"owner": cta.owner_id})
    return render(request, "playbooks/cta_detail.html", context)


@write_required
def cta_new(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    account_id = request.GET.get("account", "")
    if account_id.isdigit():
        initial["account"] = account_id
    form = CtaForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cta, created = services.open_cta(
                account_id=data["account"].pk,
                type=data["type"],
                reason=data["reason"],
                priority=data["priority"] or None,
                due_in_days=data["due_in_days"],
                playbook_key=data["playbook"].key if data["playbook"] else None,
                owner_id=data["owner"].pk if data["owner"] else None,
                actor=_user(request),
            )
        except services.InvalidCta as exc:
            field = {"account_id": "account", "owner_id": "owner"}.get(exc.field, exc.field)
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            if created:
                messages.success(request, _("CTA created."))
            else:
                messages.info(
                    request,
                    _("This CTA was already open; here it is. Nothing new was created."),
                )
            return redirect(cta)
    return render(
        request,
        "playbooks/cta_form.html",
        {"form": form, "section": "work", "title": _("New CTA")},
        status=400 if form.is_bound and form.errors else 200,
    )


def _cta_for_write(pk: int) -> Cta:
    return get_object_or_404(Cta.objects.select_related("account"), pk=pk)


@write_required
@require_POST
def cta_close(request: HttpRequest, pk: int) -> HttpResponse:
    cta = _cta_for_write(pk)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the outcome to close the CTA. Nothing was changed."))
        return redirect(cta)
    try:
        services.close_cta(
            _user(request),
            cta,
            status=form.cleaned_data["status"],
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
        )
    except services.InvalidCta as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("CTA closed."))
    return redirect(cta)


@write_required
@require_POST
def cta_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    """Snooze for a number of days (`days`) or until a date (`until`)."""
    cta = _cta_for_write(pk)
    days = request.POST.get("days", "")
    if days.isdigit():
        until = timezone.localdate() + datetime.timedelta(days=int(days))
    else:
        form = SnoozeForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(str(error) for error in form.errors.get("until", [])))
            return redirect(_back(request, cta.get_absolute_url()))
        until = form.cleaned_data["until"]
    try:
        services.snooze(_user(request), cta, until)
    except services.InvalidCta as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Snoozed until %(day)s.") % {"day": until.strftime("%Y-%m-%d")})
    return redirect(_back(request, cta.get_absolute_url()))


@write_required
@require_POST
def cta_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    cta = _cta_for_write(pk)
    try:
        services.reopen(_user(request), cta)
    except services.InvalidCta as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("CTA open again."))
    return redirect(cta)


@configure_required
@require_POST
def cta_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    cta = _cta_for_write(pk)
    form = ReassignForm(request.POST)
    if form.is_valid():
        services.reassign(_user(request), [cta], form.cleaned_data["owner"])
        messages.success(request, _("CTA reassigned."))
    else:
        messages.error(request, _("Choose the new owner. Nothing was changed."))
    return redirect(cta)


@write_required
@require_POST
def task_toggle(request: HttpRequest, pk: int, task_id: int) -> HttpResponse:
    task = get_object_or_404(CtaTask.objects.select_related("cta"), pk=task_id, cta_id=pk)
    services.toggle_task(_user(request), task)
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request,
            "playbooks/partials/task.html",
            {"task": task, "cta": task.cta, "today": timezone.localdate()},
        )
    return redirect(task.cta)


@write_required
@require_POST
def cta_touchpoint(request: HttpRequest, pk: int) -> HttpResponse:
    """Quick activity logging from a CTA: a touchpoint of its account, through Customer
    360's services (audited, `touchpoint.created` published), shown without a reload."""
    cta = _cta_for_write(pk)
    data = request.POST.copy()
    if not data.get("occurred_at"):
        data["occurred_at"] = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    form = _touchpoint_form(cta.account, data)
    logged = False
    if form.is_valid():
        form.instance.author = _user(request)
        customers.save_form(_user(request), form, None)
        form = _touchpoint_form(cta.account)
        logged = True
    context = {
        "cta": cta,
        "touchpoint_form": form,
        "touchpoints": _recent_touchpoints(cta.account),
        "logged": logged,
        "ratings": Rating.choices,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "playbooks/partials/touchpoints.html", context)
    if logged:
        messages.success(request, _("Touchpoint logged."))
    else:
        messages.error(request, _("The touchpoint was not logged: give it a subject."))
    return redirect(cta)


# --- The account page panel ------------------------------------------------------------


def account_panel(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    return render(
        request,
        "playbooks/partials/account_panel.html",
        {
            "account": account,
            "ctas": list(queries.account_ctas(account.pk)),
            "today": timezone.localdate(),
        },
    )


# --- Team view --------------------------------------------------------------------------


@configure_required
def team(request: HttpRequest) -> HttpResponse:
    """Per CSM: open and overdue CTAs, CTAs closed and touchpoints logged per week, accounts
    by tier and ARR; and handing CTAs or accounts from one person to another."""
    figures = queries.team()
    peak = max((max([*row.closed, *row.touchpoints], default=0) for row in figures.rows), default=0)
    return render(
        request,
        "playbooks/team.html",
        {
            "section": "team",
            "team": figures,
            "peak": peak or 1,
            "tiers": Tier.choices,
            "move_ctas_form": MoveCtasForm(),
            "move_accounts_form": MoveAccountsForm(),
        },
    )


@configure_required
@require_POST
def team_move_ctas(request: HttpRequest) -> HttpResponse:
    form = MoveCtasForm(request.POST)
    if form.is_valid():
        ctas = list(
            Cta.objects.filter(owner=form.cleaned_data["from_user"], status__in=OPEN_STATUSES)
        )
        count = services.reassign(_user(request), ctas, form.cleaned_data["to_user"])
        messages.success(
            request,
            ngettext("%(n)d CTA reassigned.", "%(n)d CTAs reassigned.", count) % {"n": count},
        )
    else:
        messages.error(request, _("Choose both people. Nothing was changed."))
    return redirect("playbooks:team")


@configure_required
@require_POST
def team_move_accounts(request: HttpRequest) -> HttpResponse:
    form = MoveAccountsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose both people. Nothing was changed."))
        return redirect("playbooks:team")
    data = form.cleaned_data
    accounts = Account.objects.filter(owner=data["from_user"])
    if data["tier"]:
        accounts = accounts.filter(tier=data["tier"])
    chosen = list(accounts.order_by("pk"))
    user = _user(request)
    count = services.reassign_accounts(user, chosen, data["to_user"])
    moved = 0
    if data["move_ctas"] and chosen:
        ctas = Cta.objects.filter(
            owner=data["from_user"],
            status__in=OPEN_STATUSES,
            account__in=[account.pk for account in chosen],
        )
        moved = services.reassign(user, list(ctas), data["to_user"])
    messages.success(
        request,
        _("%(accounts)d accounts and %(ctas)d CTAs handed over.")
        % {"accounts": count, "ctas": moved},
    )
    return redirect("playbooks:team")


# --- Playbooks --------------------------------------------------------------------------


def playbook_list(request: HttpRequest) -> HttpResponse:
    rows = Playbook.objects.annotate(
        open_ctas=Count("ctas", filter=Q(ctas__status__in=OPEN_STATUSES))
    ).order_by("-enabled", "name", "id")
    return render(
        request, "playbooks/playbook_list.html", {"playbooks": rows, "section": "playbooks"}
    )


def _playbook_page(
    request: HttpRequest,
    playbook: Playbook | None,
    form: PlaybookForm,
    steps: Any,
    step_errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "playbooks/playbook_form.html",
        {
            "section": "playbooks",
            "playbook": playbook,
            "form": form,
            "steps": steps,
            "step_errors": step_errors or {},
            "title": _("Edit %(name)s") % {"name": playbook.name}
            if playbook
            else _("New playbook"),
        },
        status=status,
    )


def _playbook_edit(request: HttpRequest, playbook: Playbook | None) -> HttpResponse:
    before = audit.snapshot(playbook) if playbook else None
    instance = playbook or Playbook()
    if request.method != "POST":
        form = PlaybookForm(instance=instance)
        steps = StepFormSet(initial=instance.steps, prefix="steps")
        return _playbook_page(request, playbook, form, steps)
    form = PlaybookForm(request.POST, instance=instance)
    steps = StepFormSet(request.POST, prefix="steps")
    if not (form.is_valid() and steps.is_valid()):
        return _playbook_page(request, playbook, form, steps, status=400)
    saved = form.save(commit=False)
    saved.steps = steps.steps()  # type: ignore[attr-defined]  # our formset class
    try:
        services.save_playbook(_user(request), saved, before)
    except services.InvalidPlaybook as exc:
        for name, errors in exc.errors.items():
            if name in form.fields:
                for error in errors:
                    form.add_error(name, error)
        step_errors = {k: v for k, v in exc.errors.items() if k not in form.fields}
        return _playbook_page(request, playbook, form, steps, step_errors, status=400)
    messages.success(request, _("“%(name)s” saved.") % {"name": saved.name})
    return redirect("playbooks:playbooks")


@configure_required
def playbook_results(request: HttpRequest, pk: int) -> HttpResponse:
    """Does the playbook work? Its CTAs' outcomes, and — where success flows open it — the
    accounts that got it against those flows' hold-out groups (loaded after the page)."""
    from kizuna.flows import queries as flow_queries

    playbook = get_object_or_404(Playbook, pk=pk)
    flows, outcomes = flow_queries.playbook_comparison(playbook.key)
    return render(
        request,
        "playbooks/partials/playbook_results.html",
        {
            "playbook": playbook,
            "stats": queries.playbook_stats(playbook),
            "statuses": CtaStatus.choices,
            "flows": flows,
            "outcomes": outcomes,
        },
    )


@configure_required
def playbook_new(request: HttpRequest) -> HttpResponse:
    return _playbook_edit(request, None)


@configure_required
def playbook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _playbook_edit(request, get_object_or_404(Playbook, pk=pk))


@configure_required
@require_POST
def playbook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    try:
        services.delete_playbook(_user(request), playbook)
    except services.InvalidPlaybook as exc:
        messages.error(request, " ".join(next(iter(exc.errors.values()))))
        return redirect(playbook)
    messages.success(request, _("Playbook deleted."))
    return redirect("playbooks:playbooks")


# --- Assignment rules ------------------------------------------------------------------


@configure_required
def rules(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "playbooks/rules.html",
        {
            "section": "assignment",
            "rules": AssignmentRule.objects.select_related("user").prefetch_related("users"),
        },
    )


def _rule_edit(request: HttpRequest, rule: AssignmentRule | None) -> HttpResponse:
    before = audit.snapshot(rule) if rule else None
    form = AssignmentRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        try:
            services.save_assignment_rule(
                _user(request), saved, before, list(form.cleaned_data["users"])
            )
        except services.InvalidCta as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Assignment rule saved."))
            return redirect("playbooks:rules")
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "section": "assignment",
            "title": _("Edit assignment rule") if rule else _("New assignment rule"),
            "cancel_href": reverse("playbooks:rules"),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@configure_required
def rule_new(request: HttpRequest) -> HttpResponse:
    return _rule_edit(request, None)


@configure_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_edit(request, get_object_or_404(AssignmentRule, pk=pk))


@configure_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.delete_assignment_rule(_user(request), get_object_or_404(AssignmentRule, pk=pk))
    messages.success(request, _("Assignment rule deleted."))
    return redirect("playbooks:rules")


@configure_required
@require_POST
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    offset = -1 if request.POST.get("direction") == "up" else 1
    services.move_assignment_rule(_user(request), get_object_or_404(AssignmentRule, pk=pk), offset)
    return redirect("playbooks:rules")
