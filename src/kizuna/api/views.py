"""Settings pages: API keys (admins) and webhooks with their delivery log (managers and
admins), plus the JSON 404 for unknown API paths. Views parse, call a service, render."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kizuna.api import services, webhooks
from kizuna.api.forms import ApiKeyForm, WebhookEndpointForm
from kizuna.api.models import ApiKey, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from kizuna.api.rest import ApiError
from kizuna.core import audit
from kizuna.core.models import User
from kizuna.core.permissions import admin_required, configure_required

LOG_PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_not_required
@csrf_exempt
def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any path under /api/v1/ that is not an operation: the API's error body, not a page."""
    error = ApiError(404, "not_found", _("There is no API operation at this path."))
    return JsonResponse(error.body(), status=404)


@login_not_required
@csrf_exempt
def api_root(request: HttpRequest) -> JsonResponse:
    """/api/v1/: where the schema and the docs are."""
    return JsonResponse(
        {
            "name": "Kizuna API",
            "version": "1",
            "openapi": reverse("api:v1:openapi-json"),
            "docs": reverse("api:v1:openapi-view"),
        }
    )


# --- API keys ---------------------------------------------------------------------------


def _keys_page(request: HttpRequest, form: ApiKeyForm, created: str = "") -> HttpResponse:
    keys = ApiKey.objects.select_related("created_by").order_by("-created_at", "-id")
    return render(
        request,
        "api/api_keys.html",
        {"keys": keys, "form": form, "created_key": created, "section": "api_keys"},
    )


# The new key waits here between the POST that creates it and the page that shows it,
# and is removed the moment it is shown (post/redirect/get, so a reload never creates a
# second key).
_NEW_KEY = "kizuna.api.new_key"


@admin_required
@never_cache
def api_keys(request: HttpRequest) -> HttpResponse:
    """The list of keys and the form for a new one. A new key is shown once: only its hash
    is stored."""
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        key, token = services.create_api_key(
            _user(request),
            name=form.cleaned_data["name"],
            role=form.cleaned_data["role"],
            expires_at=form.expires_at(),
            rate_limit_per_minute=form.cleaned_data["rate_limit_per_minute"],
        )
        request.session[_NEW_KEY] = token
        messages.success(request, _("API key “%(name)s” created.") % {"name": key.name})
        return redirect("api:keys")
    return _keys_page(request, form, created=request.session.pop(_NEW_KEY, ""))


@admin_required
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=pk)
    if request.method == "POST":
        services.revoke_api_key(_user(request), key)
        messages.success(request, _("API key “%(name)s” revoked.") % {"name": key.name})
        return redirect("api:keys")
    return render(
        request,
        "api/confirm.html",
        {
            "title": _("Revoke the API key “%(name)s”?") % {"name": key.name},
            "text": _("Requests with this key are refused from now on. This cannot be undone."),
            "button": _("Revoke"),
            "cancel_href": reverse("api:keys"),
            "section": "api_keys",
        },
    )


# --- Webhooks ---------------------------------------------------------------------------


@configure_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    endpoints = WebhookEndpoint.objects.annotate(
        deliveries_count=Count("deliveries"),
        failed_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        last_delivery_at=Max("deliveries__created_at"),
    ).order_by("name", "id")
    return render(request, "api/webhook_list.html", {"endpoints": endpoints, "section": "webhooks"})


@configure_required
def webhook_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk) if pk else WebhookEndpoint()
    before = audit.snapshot(endpoint) if pk else None
    form = WebhookEndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        saved = services.save_endpoint(_user(request), form, before)
        messages.success(request, _("Webhook “%(name)s” saved.") % {"name": saved.name})
        return redirect("api:webhook", pk=saved.pk)
    return render(
        request,
        "api/webhook_form.html",
        {
            "form": form,
            "event_groups": webhooks.grouped_choices(),
            "chosen": form["event_types"].value() or [],
            "title": _("Edit webhook") if pk else _("New webhook"),
            "cancel_href": reverse("api:webhook", args=[pk]) if pk else reverse("api:webhooks"),
            "delete_href": reverse("api:webhook_delete", args=[pk]) if pk else "",
            "section": "webhooks",
        },
    )


@configure_required
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The endpoint, its secret, and its delivery log, newest first."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    deliveries = endpoint.deliveries.order_by("-created_at", "-id")
    status = request.GET.get("status", "")
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    page = Paginator(deliveries, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    labels = {name: event_type.label for name, event_type in webhooks.EVENT_TYPES.items()}
    return render(
        request,
        "api/webhook_detail.html",
        {
            "endpoint": endpoint,
            "page": page,
            "status": status,
            "statuses": DeliveryStatus.choices,
            "event_labels": [labels.get(name, name) for name in endpoint.event_types],
            "section": "webhooks",
        },
    )


@configure_required
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if request.method == "POST":
        services.delete_endpoint(_user(request), endpoint)
        messages.success(request, _("Webhook “%(name)s” deleted.") % {"name": endpoint.name})
        return redirect("api:webhooks")
    return render(
        request,
        "core/confirm_delete.html",
        {
            "object": endpoint,
            "cancel_href": reverse("api:webhook", args=[pk]),
            "consequence": _("Its delivery log is deleted with it."),
            "section": "webhooks",
        },
    )


@configure_required
@require_POST
def webhook_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.set_endpoint_active(_user(request), endpoint, not endpoint.is_active)
    if endpoint.is_active:
        messages.success(request, _("Webhook enabled."))
    else:
        messages.success(request, _("Webhook disabled: no new events are recorded for it."))
    return redirect("api:webhook", pk=pk)


@configure_required
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if not endpoint.is_active:
        messages.error(request, _("Enable the webhook before sending a test event."))
        return redirect("api:webhook", pk=pk)
    services.send_test_event(_user(request), endpoint)
    messages.success(
        request, _("Test event queued. Its delivery appears below within a few seconds.")
    )
    return redirect("api:webhook", pk=pk)


@configure_required
@require_POST
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.rotate_secret(_user(request), endpoint)
    messages.success(
        request, _("New signing secret created. Update the receiver before the next event.")
    )
    return redirect("api:webhook", pk=pk)


@configure_required
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint", "redelivery_of"), pk=pk
    )
    return render(
        request,
        "api/delivery_detail.html",
        {
            "delivery": delivery,
            "endpoint": delivery.endpoint,
            "payload": json.dumps(delivery.payload, ensure_ascii=False, indent=2),
            "section": "webhooks",
        },
    )


@configure_required
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=pk)
    if not delivery.endpoint.is_active:
        messages.error(request, _("Enable the webhook before redelivering."))
        return redirect("api:delivery", pk=pk)
    copy = services.redeliver(_user(request), delivery)
    messages.success(request, _("Redelivery queued."))
    return redirect("api:delivery", pk=copy.pk)
