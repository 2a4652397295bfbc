"""The scorecard editor's backtest (managers and admins): the draft in the editor, or a saved
version, scored at past dates and compared with what happened; moving a band threshold
re-reads the figures from the remembered scores. Also the "Load the seed templates" button."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.core.models import User
from kizuna.core.permissions import configure_required
from kizuna.health import backtest, editor, scoring, services, templates_seed
from kizuna.health.backtest import Backtest, BacktestError, Selector
from kizuna.health.definition import DefinitionError
from kizuna.health.forms import ScorecardForm
from kizuna.health.models import Scorecard, ScorecardVersion

PREFIX = "bt-"
DRAFT = "draft"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@dataclass
class Request:
    """What the backtest controls asked for."""

    version: ScorecardVersion
    selector: Selector
    horizon: int
    red_below: float | None
    green_from: float | None
    source: str


class BadRequest(ValueError):
    pass


def _number(data: Any, name: str) -> float | None:
    raw = str(data.get(PREFIX + name, "")).strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(_("The thresholds must be numbers from 0 to 100.")) from None
    if not 0 <= value <= 100:
        raise BadRequest(_("The thresholds must be numbers from 0 to 100."))
    return value


def _scorecard(data: Any) -> Scorecard | None:
    raw = str(data.get("scorecard", ""))
    return Scorecard.objects.filter(pk=int(raw)).first() if raw.isdigit() else None


def _draft(
    data: Any, scorecard: Scorecard | None, all_stages: bool
) -> tuple[ScorecardVersion, Selector]:
    """The definition in the editor, with the stage and segment its settings give."""
    parsed = services.validate_definition(editor.read(data))
    form = ScorecardForm(data)
    form.is_valid()
    cleaned = getattr(form, "cleaned_data", {})
    draft = ScorecardVersion(definition=parsed.dump())
    if scorecard is not None:
        draft.scorecard = scorecard  # its overrides of the past days count, as in the preview
    return draft, Selector(
        stage=cleaned.get("stage") or "",
        segment_id=cleaned.get("segment_id"),
        all_stages=all_stages,
    )


def _parse(data: Any) -> Request:
    horizon_raw = str(data.get(PREFIX + "horizon", backtest.DEFAULT_HORIZON))
    if not horizon_raw.isdigit() or int(horizon_raw) not in backtest.HORIZONS:
        raise BadRequest(
            _("Choose a horizon of %s days.") % " / ".join(str(h) for h in backtest.HORIZONS)
        )
    all_stages = data.get(PREFIX + "all") in ("on", "1", "true")
    source = str(data.get(PREFIX + "source", DRAFT))
    scorecard = _scorecard(data)
    if source == DRAFT:
        version, selector = _draft(data, scorecard, all_stages)
    elif source.isdigit():
        found = ScorecardVersion.objects.select_related("scorecard").filter(pk=int(source)).first()
        if found is None:
            raise BadRequest(_("That scorecard version does not exist."))
        version = found
        selector = Selector(
            stage=found.scorecard.stage,
            segment_id=found.scorecard.segment_id,
            all_stages=all_stages,
        )
    else:
        raise BadRequest(_("Choose the draft or a saved version."))
    reset = data.get(PREFIX + "reset") == "1"
    red_below = None if reset else _number(data, "red_below")
    green_from = None if reset else _number(data, "green_from")
    return Request(version, selector, int(horizon_raw), red_below, green_from, source)


def _figures(result: Backtest, asked: Request) -> Any:
    # Unset thresholds are the definition's: a remembered backtest may come from a draft
    # that differed only in its bands.
    bands = scoring.definition_of(asked.version).bands
    red = bands.red_below if asked.red_below is None else asked.red_below
    green = bands.green_from if asked.green_from is None else asked.green_from
    if red > green:
        raise BadRequest(_("“Red below” cannot be above “green from”."))
    return result.figures(red, green)


@configure_required
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    """The backtest result (HTMX): the controls' thresholds and the figures. With
    ``bt-only=figures`` (a threshold moved) only the figures, from the remembered scores.
    A large portfolio is backtested by the worker: the result then shows its progress and
    asks again until it is done."""
    only_figures = request.POST.get(PREFIX + "only") == "figures"
    template = (
        "health/partials/backtest_figures.html"
        if only_figures
        else "health/partials/backtest_result.html"
    )
    context: dict[str, Any] = {"horizons": backtest.HORIZONS}
    try:
        asked = _parse(request.POST)
        spec = backtest.Spec.of(asked.version, horizon=asked.horizon, selector=asked.selector)
        fetched = backtest.fetch(spec)
        if fetched.backtest is None:
            assert fetched.running is not None
            context["running"] = fetched.running
            return render(request, "health/partials/backtest_running.html", context)
        figures = _figures(fetched.backtest, asked)
    except DefinitionError as exc:
        raw = editor.read(request.POST)
        context.update(
            definition_error=exc,
            error_where=editor.describe_path(exc.path, raw),
        )
        return render(request, template, context, status=400)
    except (BadRequest, BacktestError) as exc:
        context["error"] = str(exc)
        return render(request, template, context, status=400)
    context.update(
        backtest=fetched.backtest, figures=figures, cached=fetched.cached, source=asked.source
    )
    return render(request, template, context)


@configure_required
@require_POST
def install_templates(request: HttpRequest) -> HttpResponse:
    """Load the seed templates (idempotent: what exists is kept)."""
    try:
        result = templates_seed.install(_user(request))
    except templates_seed.TemplateError as exc:
        messages.error(request, str(exc))
        return redirect("health:scorecards")
    if result.created:
        messages.success(
            request,
            _(
                "Seed templates loaded: %(scorecards)d scorecards, %(segments)d segments, "
                "%(fields)d custom fields. Scores are being computed."
            )
            % {
                "scorecards": len(result.scorecards_created),
                "segments": len(result.segments_created),
                "fields": len(result.fields_created),
            },
        )
    else:
        messages.info(request, _("The seed templates are already loaded; nothing changed."))
    return redirect("health:scorecards")
