"""Pages of success flows: the list, the template gallery, a flow with its tree (edited in
place with HTMX), testing it (dry run, simulation), its results and execution log, and the
account page panel ("why did this happen?"). Everyone who signs in reads; managers and admins
change flows.

Every edit builds a new definition dict and saves it with `services.save_version`; when the
definition is refused, the message is shown at the step it names and the form keeps what
was typed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from kizuna.core.models import User
from kizuna.core.permissions import configure_required
from kizuna.customers import search
from kizuna.customers.models import Account
from kizuna.flows import builder, engine, queries, services, templates_seed
from kizuna.flows.choices import EnrolmentStatus, FlowStatus
from kizuna.flows.definition import ActionStep, DecisionStep, DefinitionError, FlowDefinition
from kizuna.flows.forms import EMPTY_DEFINITION, FlowSettingsForm, StepForm
from kizuna.flows.models import Enrolment, FlowVersion, SuccessFlow

LOG_PAGE_SIZE = 20
PANEL_ENROLMENTS = 10
ACCOUNT_OPTIONS = 20
SIMULATION_DAYS = 30


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _flow(pk: int) -> SuccessFlow:
    return get_object_or_404(SuccessFlow.objects.select_related("version"), pk=pk)


def _raw(flow: SuccessFlow) -> dict[str, Any]:
    return dict(flow.version.definition) if flow.version else dict(EMPTY_DEFINITION)


def _parsed(flow: SuccessFlow) -> FlowDefinition:
    if flow.version is None:
        return FlowDefinition.model_validate(EMPTY_DEFINITION)
    return engine.definition_of(flow.version)


# --- The list and the gallery -----------------------------------------------------------------


def flow_list(request: HttpRequest) -> HttpResponse:
    flows = list(SuccessFlow.objects.select_related("version").order_by("name", "id"))
    counts: dict[int, Any] = {
        row["flow_id"]: row
        for row in Enrolment.objects.values("flow_id")
        .annotate(
            entered=Count("id", filter=~Q(status=EnrolmentStatus.HELD_OUT)),
            active=Count("id", filter=Q(status=EnrolmentStatus.ACTIVE)),
        )
        .order_by()
    }
    rows = [
        {
            "flow": flow,
            "trigger": builder.trigger_in_words(flow.version.definition if flow.version else None),
            "entered": (counts.get(flow.pk) or {}).get("entered", 0),
            "active": (counts.get(flow.pk) or {}).get("active", 0),
        }
        for flow in flows
    ]
    return render(request, "flows/flow_list.html", {"rows": rows, "section": "flows"})


def gallery(request: HttpRequest) -> HttpResponse:
    cards = [
        {"template": template, "tech_touch": templates_seed.needs_tech_touch(template)}
        for template in templates_seed.TEMPLATES
    ]
    return render(request, "flows/gallery.html", {"cards": cards, "section": "flows"})


@configure_required
@require_POST
def gallery_use(request: HttpRequest, key: str) -> HttpResponse:
    try:
        flow = templates_seed.create_from_template(_user(request), key)
    except KeyError:
        raise Http404 from None
    except (DefinitionError, ValidationError) as exc:
        messages.error(request, _("The template could not be used: %(error)s") % {"error": exc})
        return redirect("flows:gallery")
    messages.success(
        request,
        _("“%(name)s” was created as a draft. Adapt it, test it, then turn it live.")
        % {"name": flow.name},
    )
    return redirect("flows:detail", pk=flow.pk)


@configure_required
def flow_new(request: HttpRequest) -> HttpResponse:
    form = FlowSettingsForm(
        request.POST or None,
        initial=FlowSettingsForm.initial_from("", "", dict(EMPTY_DEFINITION)),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            definition = {**form.definition_parts(), "start": None, "steps": []}
            try:
                flow = services.create_flow(
                    _user(request),
                    form.cleaned_data["name"],
                    definition,
                    description=form.cleaned_data.get("description") or "",
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            except DefinitionError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, _("“%(name)s” was created. Now add its steps.") % {"name": flow.name}
                )
                return redirect("flows:detail", pk=flow.pk)
    return render(
        request,
        "flows/flow_new.html",
        {"form": form, "section": "flows"},
        status=status,
    )


def _form_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- The flow page ----------------------------------------------------------------------------


@dataclass
class Editing:
    """The form open on the builder: a step being edited or added, or the settings."""

    mode: str  # "edit", "add" or "settings"
    form: Any
    step_id: str = ""  # the step edited, or the id the new step will have
    parent: str = ""  # where a new step goes: after this step ("" for the start) …
    branch: str = ""  # … on this branch ("start", "next", "yes", "no")
    error: str = ""  # the refusal, shown in the form
    url: str = ""  # where the form posts


@dataclass
class Problems:
    top: str = ""
    at_step: dict[str, str] = field(default_factory=dict)


def _place_error(
    error: DefinitionError | builder.EditError | None,
    editing: Editing | None,
    step_ids: set[str],
) -> Problems:
    """Show a refusal at the step it names: in the open form when it is about that step,
    at the step's box otherwise, at the top when it is about the flow as a whole."""
    problems = Problems()
    if error is None:
        return problems
    about_the_form = editing is not None and (
        error.step == editing.step_id if editing.mode != "settings" else not error.step
    )
    if editing is not None and about_the_form:
        editing.error = error.message
    elif error.step in step_ids:
        problems.at_step[error.step] = error.message
        if editing is not None:
            editing.error = _("Not saved: see the message at step “%(step)s”.") % {
                "step": error.step
            }
    else:
        problems.top = f"{error.step}: {error.message}" if error.step else error.message
        if editing is not None:
            editing.error = _("Not saved: see the message above the steps.")
    return problems


def _builder_context(
    request: HttpRequest,
    flow: SuccessFlow,
    *,
    editing: Editing | None = None,
    error: DefinitionError | builder.EditError | None = None,
) -> dict[str, Any]:
    definition = _parsed(flow)
    tree = builder.build_tree(definition, builder.step_counts(flow))
    problems = _place_error(error, editing, set(definition.by_id()))
    for node in tree.nodes():
        node.error = problems.at_step.get(node.id, "")
        if editing is not None and editing.mode == "edit" and editing.step_id == node.id:
            node.editing = True
        if editing is not None and editing.mode == "add" and editing.parent == node.id:
            node.adding_after = editing.branch == "next"
    if editing is not None and editing.mode == "add":
        for lane in tree.lanes_below():
            if lane.parent == editing.parent and lane.branch == editing.branch:
                lane.adding_at_top = True
    raw = _raw(flow)
    return {
        "flow": flow,
        "definition": definition,
        "tree": tree,
        "editing": editing,
        "problems": problems,
        "settings": {
            "trigger": builder.describe_trigger(definition.trigger),
            "audience": builder.describe_condition(raw.get("audience")),
            "exit": builder.describe_condition(raw.get("exit")),
        },
        "can_configure": _user(request).can_configure,
        "is_live": flow.status == FlowStatus.LIVE,
        "next_version": (flow.version.number + 1) if flow.version else 1,
    }


def _flow_page(
    request: HttpRequest,
    flow: SuccessFlow,
    *,
    editing: Editing | None = None,
    error: DefinitionError | builder.EditError | None = None,
    status: int = 200,
) -> HttpResponse:
    if _is_htmx(request):
        # The builder region only: HTMX swaps it in place (and does not swap error statuses).
        context = _builder_context(request, flow, editing=editing, error=error)
        return render(request, "flows/partials/builder.html", context)
    context = _builder_context(request, flow, editing=editing, error=error)
    definition = context["definition"]
    context.update(
        {
            "section": "flows",
            "versions": list(
                FlowVersion.objects.filter(flow=flow)
                .select_related("created_by")
                .order_by("-number")[:20]
            ),
            "blockers": services.blockers(flow) if flow.status != FlowStatus.LIVE else [],
            "unavailable": services.unavailable_steps(definition),
            "decisions": [step for step in definition.steps if isinstance(step, DecisionStep)],
            "accounts": list(Account.objects.order_by("name", "id")[:ACCOUNT_OPTIONS]),
            "simulation_days": SIMULATION_DAYS,
            "definition_json": json.dumps(_raw(flow), indent=2, ensure_ascii=False),
        }
    )
    return render(request, "flows/flow_detail.html", context, status=status)


def flow_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _flow_page(request, _flow(pk))


def _saved(request: HttpRequest, flow: SuccessFlow, version: FlowVersion) -> HttpResponse:
    messages.success(request, _("Saved as version %(n)d.") % {"n": version.number})
    url = reverse("flows:detail", args=[flow.pk])
    if _is_htmx(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _save(
    request: HttpRequest,
    flow: SuccessFlow,
    definition: dict[str, Any],
    editing: Editing,
    **changes: Any,
) -> HttpResponse:
    try:
        version = services.save_version(_user(request), flow, definition, **changes)
    except DefinitionError as exc:
        return _flow_page(request, flow, editing=editing, error=exc, status=400)
    except ValidationError as exc:
        _form_errors(editing.form, exc)
        return _flow_page(request, flow, editing=editing, status=400)
    return _saved(request, flow, version)


def _email_steps(definition: FlowDefinition) -> list[tuple[str, str]]:
    return [
        (step.id, step.label or step.id)
        for step in definition.steps
        if isinstance(step, ActionStep) and step.action == "email.send"
    ]


def _step_form(
    request: HttpRequest,
    flow: SuccessFlow,
    *,
    is_new: bool,
    stored: dict[str, Any] | None = None,
) -> StepForm:
    """The step form: bound on POST; on GET, from the stored step, or from the values sent
    when the type or the action was changed (the form is drawn again for it)."""
    source = request.POST if request.method == "POST" else request.GET
    initial = StepForm.initial_from(stored) if stored else {}
    if request.method == "GET" and "kind" in request.GET:
        initial = {key: request.GET.get(key) for key in request.GET}
        initial["weekdays"] = request.GET.getlist("weekdays")
        for name in ("condition",):
            if isinstance(initial.get(name), str):
                try:
                    initial[name] = json.loads(initial[name])
                except ValueError:
                    initial.pop(name)
    kind = source.get("kind") or initial.get("kind") or "action"
    action = source.get("action") or initial.get("action") or ""
    return StepForm(
        request.POST if request.method == "POST" else None,
        kind=kind,
        action=action,
        email_steps=_email_steps(_parsed(flow)),
        is_new=is_new,
        initial=initial,
    )


def _redraw_on_change(form: StepForm, url: str) -> None:
    """Changing the step type or the action draws the form again with its fields."""
    for name in ("kind", "action"):
        if name in form.fields:
            form.fields[name].widget.attrs.update(
                {
                    "hx-get": url,
                    "hx-trigger": "change",
                    "hx-target": "#flow-builder",
                    "hx-swap": "outerHTML",
                    "hx-include": "closest form",
                }
            )


@configure_required
def step_edit(request: HttpRequest, pk: int, step_id: str) -> HttpResponse:
    flow = _flow(pk)
    raw = _raw(flow)
    stored = next((step for step in raw.get("steps", []) if step.get("id") == step_id), None)
    if stored is None:
        raise Http404
    form = _step_form(request, flow, is_new=False, stored=stored)
    editing = Editing(
        "edit", form, step_id=step_id, url=reverse("flows:step_edit", args=[flow.pk, step_id])
    )
    _redraw_on_change(form, editing.url)
    if request.method != "POST":
        return _flow_page(request, flow, editing=editing)
    if not form.is_valid():
        return _flow_page(request, flow, editing=editing, status=400)
    definition = builder.replace_step(raw, step_id, form.to_step())
    return _save(request, flow, definition, editing)


@configure_required
def step_add(request: HttpRequest, pk: int) -> HttpResponse:
    flow = _flow(pk)
    raw = _raw(flow)
    source = request.POST if request.method == "POST" else request.GET
    parent = source.get("parent", "")
    branch = source.get("branch") or ("next" if parent else "start")
    if branch not in builder.BRANCHES or (parent and branch == "start"):
        raise Http404
    if parent and not any(step.get("id") == parent for step in raw.get("steps", [])):
        raise Http404
    form = _step_form(request, flow, is_new=True)
    editing = Editing(
        "add", form, parent=parent, branch=branch, url=reverse("flows:step_add", args=[flow.pk])
    )
    _redraw_on_change(form, editing.url)
    if request.method != "POST":
        return _flow_page(request, flow, editing=editing)
    if not form.is_valid():
        return _flow_page(request, flow, editing=editing, status=400)
    step = form.to_step()
    step["id"] = form.cleaned_data.get("step_id") or builder.new_step_id(raw, form.kind_value)
    editing.step_id = step["id"]
    try:
        definition = builder.add_step(raw, parent, branch, step)
    except builder.EditError as exc:
        return _flow_page(request, flow, editing=editing, error=exc, status=400)
    return _save(request, flow, definition, editing)


@configure_required
@require_POST
def step_delete(request: HttpRequest, pk: int, step_id: str) -> HttpResponse:
    flow = _flow(pk)
    try:
        definition = builder.delete_step(_raw(flow), step_id)
        version = services.save_version(_user(request), flow, definition)
    except (builder.EditError, DefinitionError) as exc:
        return _flow_page(request, flow, error=exc, status=400)
    return _saved(request, flow, version)


@configure_required
def flow_settings(request: HttpRequest, pk: int) -> HttpResponse:
    flow = _flow(pk)
    raw = _raw(flow)
    form = FlowSettingsForm(
        request.POST or None,
        initial=FlowSettingsForm.initial_from(flow.name, flow.description, raw),
    )
    editing = Editing("settings", form, url=reverse("flows:settings", args=[flow.pk]))
    if request.method != "POST":
        return _flow_page(request, flow, editing=editing)
    if not form.is_valid():
        return _flow_page(request, flow, editing=editing, status=400)
    definition = {**raw, **form.definition_parts()}
    return _save(
        request,
        flow,
        definition,
        editing,
        name=form.cleaned_data["name"],
        description=form.cleaned_data.get("description") or "",
    )


@configure_required
@require_POST
def flow_status(request: HttpRequest, pk: int) -> HttpResponse:
    flow = _flow(pk)
    wanted = request.POST.get("status", "")
    try:
        services.set_status(_user(request), flow, wanted)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if wanted == FlowStatus.LIVE:
            messages.success(request, _("“%(name)s” is live.") % {"name": flow.name})
        else:
            messages.success(request, _("“%(name)s” is paused.") % {"name": flow.name})
    return redirect("flows:detail", pk=flow.pk)


@configure_required
def flow_delete(request: HttpRequest, pk: int) -> HttpResponse:
    flow = _flow(pk)
    if request.method == "POST":
        try:
            services.delete_flow(_user(request), flow)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("flows:detail", pk=flow.pk)
        messages.success(request, _("“%(name)s” deleted.") % {"name": flow.name})
        return redirect("flows:list")
    return render(
        request,
        "core/confirm_delete.html",
        {
            "object": flow,
            "cancel_href": reverse("flows:detail", args=[flow.pk]),
            "consequence": _("Its versions are deleted with it."),
            "section": "flows",
        },
    )


# --- Testing before going live ----------------------------------------------------------------


def account_options(request: HttpRequest, pk: int) -> HttpResponse:
    """The dry run's account choices matching the search (HTMX, as one types)."""
    _flow(pk)
    needle = search.normalize(request.GET.get("q", ""))
    accounts = Account.objects.order_by("name_kana", "name", "id")
    if needle:
        accounts = accounts.filter(search_text__contains=needle)
    return render(
        request,
        "flows/partials/account_options.html",
        {"accounts": list(accounts[:ACCOUNT_OPTIONS]), "searched": bool(needle)},
    )


def dry_run(request: HttpRequest, pk: int) -> HttpResponse:
    flow = _flow(pk)
    definition = _parsed(flow)
    account = None
    chosen = request.GET.get("account", "")
    if chosen.isdigit():
        account = Account.objects.select_related("owner").filter(pk=int(chosen)).first()
    if account is None:
        return render(
            request,
            "flows/partials/dry_run.html",
            {"problem": _("Choose an account to run the flow for.")},
        )
    result = services.dry_run(
        definition, account, assume=builder.assumed(request.GET, definition), flow=flow
    )
    labels = {step.id: step.label or step.id for step in definition.steps}
    return render(
        request,
        "flows/partials/dry_run.html",
        {
            "flow": flow,
            "result": result,
            "steps": [(labels.get(step.step_id, step.step_id), step) for step in result.steps],
        },
    )


def simulate(request: HttpRequest, pk: int) -> HttpResponse:
    flow = _flow(pk)
    definition = _parsed(flow)
    try:
        days = int(request.GET.get("days") or SIMULATION_DAYS)
        result = services.simulate(definition, days)
    except ValueError:
        return render(
            request,
            "flows/partials/simulation.html",
            {"problem": _("Give a number of days between 1 and 365.")},
        )
    except ValidationError as exc:
        return render(
            request, "flows/partials/simulation.html", {"problem": " ".join(exc.messages)}
        )
    has_decision = any(isinstance(step, DecisionStep) for step in definition.steps)
    return render(
        request,
        "flows/partials/simulation.html",
        {
            "result": result,
            "reached": [
                (step.label or step.id, step.type, result.reached.get(step.id, 0))
                for step in definition.steps
            ],
            "has_decision": has_decision,
        },
    )


def flow_results(request: HttpRequest, pk: int) -> HttpResponse:
    """Does it work? The funnel and the outcomes against the hold-out group (loaded after
    the page: the outcome query reads health and opportunities)."""
    flow = _flow(pk)
    results = queries.results(flow)
    return render(
        request,
        "flows/partials/results.html",
        {"flow": flow, "results": results},
    )


# --- The execution log ------------------------------------------------------------------------


@dataclass
class LoggedRun:
    run: Any
    label: str


@dataclass
class LogEntry:
    enrolment: Enrolment
    entry: list[tuple[str, str]]
    audience: list[dict[str, Any]]
    runs: list[LoggedRun]


def _log_entries(enrolments: list[Enrolment]) -> list[LogEntry]:
    """Enrolments with their runs, each step named as in the version it ran on."""
    entries = []
    for enrolment in enrolments:
        try:
            steps = engine.definition_of(enrolment.version).by_id()
        except Exception:  # an old version that no longer parses still shows its log
            steps = {}
        runs = [
            LoggedRun(
                run,
                (steps[run.step_id].label or run.step_id) if run.step_id in steps else run.step_id,
            )
            for run in enrolment.runs.all()
        ]
        trigger = enrolment.trigger or {}
        entries.append(
            LogEntry(
                enrolment,
                builder.describe_entry(trigger),
                list(trigger.get("audience") or []),
                runs,
            )
        )
    return entries


def flow_log(request: HttpRequest, pk: int) -> HttpResponse:
    flow = _flow(pk)
    rows = (
        Enrolment.objects.filter(flow=flow)
        .select_related("account", "version")
        .prefetch_related("runs")
        .order_by("-entered_at", "-id")
    )
    page = Paginator(rows, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "flows/partials/log.html",
        {"flow": flow, "page": page, "entries": _log_entries(list(page.object_list))},
    )


def account_panel(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.only("pk", "name"), pk=pk)
    enrolments = list(
        Enrolment.objects.filter(account=account)
        .select_related("flow", "version")
        .prefetch_related("runs")
        .order_by("-entered_at", "-id")[:PANEL_ENROLMENTS]
    )
    return render(
        request,
        "flows/partials/account_panel.html",
        {"account": account, "entries": _log_entries(enrolments)},
    )
