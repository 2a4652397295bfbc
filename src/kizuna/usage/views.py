"""Pages of product usage: the data sources settings page (managers and admins), and the
lazily loaded usage panels of the account 360 and contact pages (everyone who signs in)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.core import audit
from kizuna.core.models import User
from kizuna.core.permissions import configure_required
from kizuna.customers.models import Account, Contact
from kizuna.usage import queries, rollups, services
from kizuna.usage.forms import SourceForm, UsageSettingsForm
from kizuna.usage.models import Source, UsageSettings


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- Settings: data sources and login events -----------------------------------------------


def _sources_page(
    request: HttpRequest,
    *,
    source_form: SourceForm | None = None,
    settings_form: UsageSettingsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    usage_settings = UsageSettings.current()
    context = {
        "section": "sources",
        "sources": Source.objects.order_by("name", "id"),
        "source_form": source_form or SourceForm(),
        "settings_form": settings_form or UsageSettingsForm.for_settings(usage_settings),
        "rollup": rollups.status(),
        "endpoint": request.build_absolute_uri("/"),
    }
    return render(request, "usage/sources.html", context, status=status)


@configure_required
def source_list(request: HttpRequest) -> HttpResponse:
    return _sources_page(request)


def _key_page(request: HttpRequest, issued: services.IssuedKey, *, rotated: bool) -> HttpResponse:
    """The write key, shown once, with how to use it (the kizuna.js snippet and the settings
    of Segment's and RudderStack's libraries)."""
    return render(
        request,
        "usage/source_key.html",
        {
            "section": "sources",
            "source": issued.source,
            "write_key": issued.write_key,
            "rotated": rotated,
            "host": request.build_absolute_uri("/").rstrip("/"),
            "host_name": request.get_host(),
            "tracker_url": request.build_absolute_uri(reverse("usage:tracker_js")),
        },
    )


@configure_required
@require_POST
def source_new(request: HttpRequest) -> HttpResponse:
    form = SourceForm(request.POST)
    if not form.is_valid():
        return _sources_page(request, source_form=form, status=400)
    try:
        issued = services.create_source(_user(request), form.cleaned_data["name"])
    except ValidationError as exc:
        form.add_error(None, exc)
        return _sources_page(request, source_form=form, status=400)
    response = _key_page(request, issued, rotated=False)
    # The key must not linger in a cache or be shown again by the back button.
    response["Cache-Control"] = "no-store"
    return response


@configure_required
@require_POST
def source_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    issued = services.rotate_key(_user(request), source)
    response = _key_page(request, issued, rotated=True)
    response["Cache-Control"] = "no-store"
    return response


@configure_required
@require_POST
def source_enabled(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    enabled = request.POST.get("enabled") == "1"
    services.set_enabled(_user(request), source, enabled)
    if enabled:
        messages.success(request, _("“%(name)s” is enabled.") % {"name": source.name})
    else:
        messages.success(
            request,
            _("“%(name)s” is disabled: its calls are refused until you enable it again.")
            % {"name": source.name},
        )
    return redirect("usage:sources")


@configure_required
@require_POST
def usage_settings(request: HttpRequest) -> HttpResponse:
    current = UsageSettings.current()
    form = UsageSettingsForm.for_settings(current, request.POST)
    if not form.is_valid():
        return _sources_page(request, settings_form=form, status=400)
    before = audit.snapshot(current)
    current.login_events = form.cleaned_data["login_events"]
    services.update_settings(_user(request), current, before)
    messages.success(request, _("Login events saved; every account's login figures were updated."))
    return redirect("usage:sources")


# --- Usage panels ------------------------------------------------------------------------------


def account_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The account 360 usage panel, loaded by HTMX after the page."""
    account = get_object_or_404(Account.objects.only("id", "name"), pk=pk)
    usage = queries.account_usage(account.pk)
    return render(
        request,
        "usage/partials/account_panel.html",
        {"account": account, "usage": usage, "chart": _chart(usage)},
    )


def contact_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """A contact's recent product activity, loaded by HTMX after the contact page."""
    contact = get_object_or_404(Contact.objects.only("id", "name"), pk=pk)
    return render(
        request,
        "usage/partials/contact_panel.html",
        {"contact": contact, "usage": queries.contact_usage(contact.pk)},
    )


CHART_WIDTH = 720
CHART_HEIGHT = 120


def _chart(usage: queries.AccountUsage) -> dict[str, Any]:
    """The daily trend as SVG bar geometry (events per day, with the active users as a
    tooltip), drawn by the template without any JavaScript."""
    days = usage.daily
    peak = max((day.events for day in days), default=0)
    slot = CHART_WIDTH / max(len(days), 1)
    bars = []
    for index, day in enumerate(days):
        height = round(day.events / peak * (CHART_HEIGHT - 4), 1) if peak else 0
        bars.append(
            {
                "x": round(index * slot + 1, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "width": round(max(slot - 2, 1), 1),
                "height": height,
                "day": day,
                "weekend": day.day.weekday() >= 5,
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "bars": bars,
        "peak": peak,
        "first": days[0].day if days else None,
        "last": days[-1].day if days else None,
    }
