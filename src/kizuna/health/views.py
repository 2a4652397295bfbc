"""Health pages: the overview (everyone), the account page's health panel (everyone reads,
CSMs override a measure), and the scorecard editor (managers and admins)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.core.conditions import Context
from kizuna.core.models import User
from kizuna.core.permissions import configure_required, write_required
from kizuna.customers.models import Account
from kizuna.health import editor, queries, scoring, services
from kizuna.health.choices import Band
from kizuna.health.definition import DefinitionError
from kizuna.health.forms import OverrideForm, ScorecardForm
from kizuna.health.models import MeasureOverride, Scorecard, ScorecardVersion


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- Overview --------------------------------------------------------------------------------


def overview(request: HttpRequest) -> HttpResponse:
    """Bands across the portfolio (or the CSM's own book), by tier and stage, the biggest
    movers of the week, ARR at risk and the accounts whose computation failed."""
    user = _user(request)
    mine = request.GET.get("owner") == "me"
    scope = queries.owner_scope(user, mine)
    distribution = queries.distribution(scope)
    up, down = queries.movers(scope)
    failing_scorecards = [sc for sc in queries.scorecards() if sc.last_error and sc.is_active]
    context = {
        "section": "health",
        "mine": mine,
        "distribution": distribution,
        "at_risk": queries.at_risk(distribution),
        "risk_arr": distribution.band(Band.RED).arr + distribution.band(Band.YELLOW).arr,
        "up": up,
        "down": down,
        "errors": list(queries.errors(scope)),
        "failing_scorecards": failing_scorecards,
        "bands": queries.BAND_ORDER,
    }
    return render(request, "health/overview.html", context)


# --- Account panel ---------------------------------------------------------------------------

CHART_WIDTH = 360
CHART_HEIGHT = 90


def chart(explanation: queries.Explanation) -> dict[str, Any]:
    """The score over the last 90 days as SVG geometry: a line over band zones."""
    points = [p for p in explanation.history if p.score is not None]
    days = queries.HISTORY_DAYS
    if not points:
        return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "points": "", "dots": []}
    last = points[-1].day
    first = last - datetime.timedelta(days=days - 1)

    def x(day: datetime.date) -> float:
        return round((day - first).days * CHART_WIDTH / max(days - 1, 1), 1)

    def y(score: float) -> float:
        return round(CHART_HEIGHT - score * CHART_HEIGHT / 100, 1)

    red = explanation.red_below if explanation.red_below is not None else 40
    green = explanation.green_from if explanation.green_from is not None else 70
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "points": " ".join(f"{x(p.day)},{y(p.score or 0)}" for p in points),
        "dots": [{"x": x(p.day), "y": y(p.score or 0), "point": p} for p in points],
        "green_y": y(green),
        "red_y": y(red),
        "yellow_height": round(y(red) - y(green), 1),
        "red_height": round(CHART_HEIGHT - y(red), 1),
        "first": first,
        "last": last,
    }


def _panel(
    request: HttpRequest, account: Account, *, form: OverrideForm | None = None, status: int = 200
) -> HttpResponse:
    explanation = queries.explain(account.pk)
    definition = (
        scoring.definition_of(explanation.version) if explanation.version is not None else None
    )
    user = _user(request)
    if form is None and user.can_write and definition is not None:
        form = OverrideForm(definition=definition)
    return render(
        request,
        "health/partials/account_panel.html",
        {
            "account": account,
            "health": explanation,
            "chart": chart(explanation),
            "form": form,
        },
        status=status,
    )


def account_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The account 360 health panel, loaded by HTMX after the page."""
    account = get_object_or_404(Account.objects.only("id", "name"), pk=pk)
    return _panel(request, account)


@write_required
@require_POST
def override_new(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.only("id", "name"), pk=pk)
    scorecard = services.scorecard_of(account.pk)
    definition = (
        scoring.definition_of(scorecard.current_version)
        if scorecard is not None and scorecard.current_version is not None
        else None
    )
    form = OverrideForm(request.POST, definition=definition)
    if form.is_valid():
        try:
            services.set_override(
                _user(request),
                account,
                measure_key=form.cleaned_data["measure_key"],
                points=form.cleaned_data["points"],
                comment=form.cleaned_data["comment"],
                expires_at=form.expires_at(),
                scorecard=scorecard,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if not request.htmx:  # type: ignore[attr-defined]
                messages.success(request, _("Override saved; the score was recomputed."))
                return redirect(account.get_absolute_url())
            return _panel(request, account)
    if not request.htmx:  # type: ignore[attr-defined]
        messages.error(request, "; ".join(_messages(form)))
        return redirect(account.get_absolute_url())
    return _panel(request, account, form=form, status=400)


def _add_errors(form: OverrideForm, exc: ValidationError) -> None:
    names = {"expires_at": "expires_on"}
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            target = names.get(name, name)
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _messages(form: OverrideForm) -> list[str]:
    return [str(message) for errors in form.errors.values() for message in errors]


@write_required
@require_POST
def override_remove(request: HttpRequest, pk: int) -> HttpResponse:
    override = get_object_or_404(MeasureOverride.objects.select_related("account"), pk=pk)
    services.remove_override(_user(request), override)
    if request.htmx:  # type: ignore[attr-defined]
        return _panel(request, override.account)
    messages.success(request, _("Override removed; the score was recomputed."))
    return redirect(override.account.get_absolute_url())


# --- Scorecard editor ------------------------------------------------------------------------


@configure_required
def scorecard_list(request: HttpRequest) -> HttpResponse:
    segments = dict(ScorecardForm().fields["segment_id"].choices)  # type: ignore[attr-defined]
    return render(
        request,
        "health/scorecard_list.html",
        {
            "section": "scorecards",
            "scorecards": queries.scorecards(),
            "segments": {int(key): label for key, label in segments.items() if key},
        },
    )


def _editor_page(
    request: HttpRequest,
    *,
    scorecard: Scorecard | None,
    form: ScorecardForm,
    raw: dict[str, Any],
    error: DefinitionError | None = None,
    status: int = 200,
    loaded: ScorecardVersion | None = None,
) -> HttpResponse:
    versions = (
        list(scorecard.versions.select_related("created_by").order_by("-number"))
        if scorecard is not None
        else []
    )
    return render(
        request,
        "health/scorecard_edit.html",
        {
            "section": "scorecards",
            "scorecard": scorecard,
            "form": form,
            "editor": editor.rows(raw, error.path if error else ""),
            "definition_error": error,
            "error_where": editor.describe_path(error.path, raw) if error else "",
            "versions": versions,
            "loaded": loaded,
        },
        status=status,
    )


def _save(request: HttpRequest, scorecard: Scorecard | None) -> HttpResponse:
    form = ScorecardForm(request.POST)
    raw = editor.read(request.POST)
    if not form.is_valid():
        return _editor_page(request, scorecard=scorecard, form=form, raw=raw, status=400)
    data = form.cleaned_data
    fields = {
        "name": data["name"],
        "description": data["description"],
        "stage": data["stage"] or "",
        "segment_id": data["segment_id"],
        "priority": data["priority"],
        "is_active": data["is_active"],
    }
    try:
        if scorecard is None:
            scorecard = services.create_scorecard(
                _user(request), definition=raw, note=data["note"], **fields
            )
            messages.success(request, _("Scorecard created; scores are being computed."))
        else:
            before = scorecard.current_version_id
            scorecard = services.update_scorecard(
                _user(request), scorecard, definition=raw, note=data["note"], **fields
            )
            if scorecard.current_version_id != before:
                messages.success(
                    request,
                    _("Saved as version %(number)d; scores are being recomputed.")
                    % {"number": scorecard.current_version.number},  # type: ignore[union-attr]
                )
            else:
                messages.success(request, _("Scorecard saved."))
    except DefinitionError as exc:
        return _editor_page(request, scorecard=scorecard, form=form, raw=raw, error=exc, status=400)
    except ValidationError as exc:
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        return _editor_page(request, scorecard=scorecard, form=form, raw=raw, status=400)
    return redirect(scorecard.get_absolute_url())


@configure_required
def scorecard_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    return _editor_page(request, scorecard=None, form=ScorecardForm(), raw=editor.STARTER)


@configure_required
def scorecard_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scorecard = get_object_or_404(Scorecard.objects.select_related("current_version"), pk=pk)
    if request.method == "POST":
        return _save(request, scorecard)
    loaded = None
    number = request.GET.get("version", "")
    if number.isdigit():
        loaded = scorecard.versions.filter(number=int(number)).first()
    version = loaded or scorecard.current_version
    form = ScorecardForm(
        initial={
            "name": scorecard.name,
            "description": scorecard.description,
            "stage": scorecard.stage,
            "segment_id": scorecard.segment_id or "",
            "priority": scorecard.priority,
            "is_active": scorecard.is_active,
            "note": _("Back to version %d") % loaded.number if loaded else "",
        }
    )
    raw = version.definition if version is not None else editor.STARTER
    return _editor_page(request, scorecard=scorecard, form=form, raw=raw, loaded=loaded)


@configure_required
@require_POST
def editor_rows(request: HttpRequest) -> HttpResponse:
    """The definition rows after one of the editor's buttons (HTMX)."""
    raw = editor.apply(editor.read(request.POST), request.POST.get("op", "refresh"))
    return render(request, "health/partials/editor.html", {"editor": editor.rows(raw)})


@configure_required
@require_POST
def editor_preview(request: HttpRequest) -> HttpResponse:
    """What the draft would give on real accounts, next to today's scores (HTMX); nothing
    is saved."""
    raw = editor.read(request.POST)
    form = ScorecardForm(request.POST)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    scorecard_id = request.POST.get("scorecard")
    scorecard = (
        Scorecard.objects.filter(pk=int(scorecard_id)).first()
        if scorecard_id and scorecard_id.isdigit()
        else None
    )
    context: dict[str, Any] = {"raw": raw}
    try:
        parsed = services.validate_definition(raw)
    except DefinitionError as exc:
        context.update(definition_error=exc, error_where=editor.describe_path(exc.path, raw))
        return render(request, "health/partials/preview.html", context)
    ctx = Context.now()
    try:
        accounts = queries.preview_accounts(data.get("stage") or "", data.get("segment_id"), ctx)
    except Exception as exc:
        context["selector_error"] = str(exc)
        return render(request, "health/partials/preview.html", context)
    draft = ScorecardVersion(definition=parsed.dump())
    if scorecard is not None:
        draft.scorecard = scorecard  # its live overrides count in the preview too
    context.update(preview=queries.preview(draft, accounts, ctx), bands=parsed.bands)
    return render(request, "health/partials/preview.html", context)
