"""Pages of in-app guidance: the list with results, the editor (content in both languages,
tour steps, targeting, frequency), and a message with its results and a live preview drawn
by kizuna-inapp.js itself. Everyone reads; people who may write create, edit, activate and
pause."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.core import audit
from kizuna.core.models import User
from kizuna.core.permissions import write_required
from kizuna.engagement import inapp
from kizuna.engagement.choices import InAppStatus
from kizuna.engagement.forms_inapp import InAppMessageForm
from kizuna.engagement.models import InAppMessage


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def inapp_list(request: HttpRequest) -> HttpResponse:
    rows = list(InAppMessage.objects.select_related("segment").order_by("-priority", "name", "id"))
    results = inapp.results_for(row.pk for row in rows)
    return render(
        request,
        "engagement/inapp_list.html",
        {
            "rows": [{"message": row, "results": results[row.pk]} for row in rows],
            "section": "inapp",
        },
    )


def _form_page(
    request: HttpRequest, form: InAppMessageForm, message: InAppMessage | None
) -> HttpResponse:
    return render(
        request,
        "engagement/inapp_form.html",
        {
            "form": form,
            "message": message,
            "steps": form.steps or [{}],
            "section": "inapp",
        },
        status=400 if form.is_bound else 200,
    )


@write_required
def inapp_new(request: HttpRequest) -> HttpResponse:
    form = InAppMessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        message = form.save(commit=False)
        message.created_by = _user(request)
        message.save()
        audit.record_create(_user(request), message)
        inapp.forget_cached_messages()
        messages.success(request, _("“%(name)s” was created as a draft.") % {"name": message.name})
        return redirect("engagement:inapp", pk=message.pk)
    return _form_page(request, form, None)


@write_required
def inapp_edit(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(InAppMessage, pk=pk)
    before = audit.snapshot(message)
    form = InAppMessageForm(request.POST or None, instance=message)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit.record_update(_user(request), message, before)
        inapp.forget_cached_messages()
        messages.success(request, _("“%(name)s” was saved.") % {"name": message.name})
        return redirect("engagement:inapp", pk=message.pk)
    return _form_page(request, form, message)


def inapp_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(InAppMessage.objects.select_related("segment"), pk=pk)
    language = (get_language() or "ja")[:2]
    preview = {**inapp.content_for(message, "en" if language == "en" else "ja"), "preview": True}
    token = inapp.preview_token(message)
    demo_query = urlencode({"kizuna_preview": token, "lang": language})
    return render(
        request,
        "engagement/inapp_detail.html",
        {
            "message": message,
            "results": inapp.results_for([message.pk])[message.pk],
            "preview": preview,
            "preview_token": token,
            "demo_url": f"{reverse('usage:demo_app')}?{demo_query}",
            "section": "inapp",
        },
    )


@write_required
@require_POST
def inapp_status(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(InAppMessage, pk=pk)
    wanted = request.POST.get("status", "")
    if wanted not in (InAppStatus.LIVE, InAppStatus.PAUSED, InAppStatus.ARCHIVED):
        messages.error(request, _("Unknown status “%(status)s”.") % {"status": wanted})
        return redirect("engagement:inapp", pk=message.pk)
    before = audit.snapshot(message)
    message.status = wanted
    message.save(update_fields=["status", "updated_at"])
    audit.record_update(_user(request), message, before)
    inapp.forget_cached_messages()
    if wanted == InAppStatus.LIVE:
        messages.success(request, _("“%(name)s” is live.") % {"name": message.name})
    else:
        messages.success(request, _("“%(name)s” is no longer shown.") % {"name": message.name})
    return redirect("engagement:inapp", pk=message.pk)


@write_required
def step_row(request: HttpRequest) -> HttpResponse:
    """An empty tour step row for the editor (HTMX "add a step")."""
    return render(request, "engagement/partials/inapp_step_row.html", {"step": {}})
