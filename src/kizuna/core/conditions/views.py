"""The condition builder's endpoints (catalogue, choices for given parameters, live preview)
and "Find accounts", a page where anyone signed in builds a condition and sees who matches.

Every view only reads; the preview is a POST because a tree can be longer than a URL."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

from django import forms
from django.db import DatabaseError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kizuna.core.conditions import catalogue
from kizuna.core.conditions.forms import ConditionField
from kizuna.core.conditions.metrics import Context
from kizuna.core.conditions.tree import Condition, ConditionError, compile_condition, parse
from kizuna.customers.models import Account

logger = logging.getLogger(__name__)

PREVIEW_SIZE = 10


@dataclass(frozen=True)
class Preview:
    """How many accounts match a condition, out of how many, and the largest of them."""

    matched: int
    total: int
    accounts: list[Account]


def preview_accounts(condition: Condition, limit: int = PREVIEW_SIZE) -> Preview:
    """Count the matching accounts and list the `limit` with the highest ARR: two queries
    whatever the number of accounts (one aggregate for both counts, one for the list)."""
    compiled = compile_condition(condition, Context.now())
    accounts = Account.objects.alias(**compiled.aliases)
    counts = accounts.aggregate(total=Count("pk"), matched=Count("pk", filter=compiled.q))
    first = list(accounts.filter(compiled.q).order_by("-arr", "name_kana", "name", "pk")[:limit])
    return Preview(matched=counts["matched"], total=counts["total"], accounts=first)


def _error_context(exc: ConditionError) -> dict[str, Any]:
    return {"error": exc.message, "error_path": exc.path}


def preview_context(raw: Any, *, count: bool = True) -> dict[str, Any]:
    """The template context of the preview partial for a tree as submitted (JSON text)."""
    try:
        tree = json.loads(raw) if isinstance(raw, str) and raw.strip() else raw
    except ValueError:
        return {"error": _("This is not valid JSON."), "error_path": None}
    if tree in (None, "", {}):
        tree = {"and": []}
    try:
        condition = parse(tree)
    except ConditionError as exc:
        return _error_context(exc)
    if not count:
        return {"valid": True}
    try:
        result = preview_accounts(condition)
    except DatabaseError:
        logger.exception("The condition preview failed for %s", tree)
        return {
            "error": _("The preview could not be computed; the error is in the log."),
            "error_path": None,
        }
    return {"valid": True, "preview": result}


@require_GET
def metrics_json(request: HttpRequest) -> JsonResponse:
    """Every metric the builder offers, by category (see catalogue.build)."""
    return JsonResponse(catalogue.build(), json_dumps_params={"ensure_ascii": False})


@require_GET
def choices_json(request: HttpRequest) -> JsonResponse:
    """A metric's value type, operators and choices for given parameters:
    ``?metric=account.custom_field&params={"field": "plan"}``."""
    key = request.GET.get("metric", "")
    try:
        params = json.loads(request.GET.get("params") or "{}")
    except ValueError:
        params = None
    if not isinstance(params, dict):
        return JsonResponse(
            {"error": _("Parameters must be a JSON object."), "error_path": "params"},
            status=400,
        )
    resolved = catalogue.resolve_key(key, params)
    return JsonResponse(asdict(resolved), json_dumps_params={"ensure_ascii": False})


@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The live preview partial: "N of M accounts match" and the first accounts, or where the
    tree is wrong. ``count=0`` only validates (for builders without a preview)."""
    context = preview_context(request.POST.get("tree", ""), count=request.POST.get("count") != "0")
    return render(request, "core/conditions/partials/preview.html", context)


class ExploreForm(forms.Form):
    tree = ConditionField(label=gettext_lazy("Accounts where"), required=False)


@require_GET
def explore(request: HttpRequest) -> HttpResponse:
    """Find accounts: build a condition, see how many accounts match and the largest ones.
    Submitting the form (a GET, so the address can be shared) shows the same result without
    JavaScript."""
    form = ExploreForm(request.GET if "tree" in request.GET else None)
    result: dict[str, Any] = {}
    if form.is_valid():  # an invalid tree is shown as the field's error
        result = preview_context(form.cleaned_data["tree"])
    return render(
        request,
        "core/conditions/explore.html",
        {"form": form, "result": result, "section": "accounts"},
    )
