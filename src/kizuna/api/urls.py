from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.utils.translation import gettext as _

from kizuna.api import views
from kizuna.api.api import api
from kizuna.api.rest import ApiError

app_name = "api"


def _json_405(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """ninja answers a method a path does not have with a plain-text 405; give it the API's
    error body instead (keeping the Allow header)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            error = ApiError(405, "method_not_allowed", _("This path does not take this method."))
            allowed = JsonResponse(error.body(), status=405)
            allowed["Allow"] = response.get("Allow", "")
            return allowed
        return response

    return wrapped


def _api_urls() -> tuple[list[URLPattern | URLResolver], str, str]:
    """The API's URLs, exempt from the sign-in redirect: they answer 401 JSON themselves.
    The docs page stays a normal page, so a visitor who is not signed in is sent to log in.
    """
    patterns, app, namespace = api.urls
    for pattern in patterns:
        if not isinstance(pattern, URLPattern) or pattern.name == "openapi-view":
            continue
        if pattern.name == "api-root":
            pattern.callback = views.api_root
        else:
            pattern.callback = login_not_required(_json_405(pattern.callback))
    return patterns, app, namespace


patterns, _app, namespace = _api_urls()

urlpatterns = [
    path("api/v1/", include((patterns, "v1"), namespace=namespace)),
    re_path(r"^api/v1/(?P<rest>.*)$", views.api_not_found, name="not_found"),
    path("settings/api-keys/", views.api_keys, name="keys"),
    path("settings/api-keys/<int:pk>/revoke/", views.api_key_revoke, name="key_revoke"),
    path("settings/webhooks/", views.webhook_list, name="webhooks"),
    path("settings/webhooks/new/", views.webhook_edit, name="webhook_new"),
    path("settings/webhooks/<int:pk>/", views.webhook_detail, name="webhook"),
    path("settings/webhooks/<int:pk>/edit/", views.webhook_edit, name="webhook_edit"),
    path("settings/webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook_delete"),
    path("settings/webhooks/<int:pk>/toggle/", views.webhook_toggle, name="webhook_toggle"),
    path("settings/webhooks/<int:pk>/test/", views.webhook_test, name="webhook_test"),
    path("settings/webhooks/<int:pk>/rotate/", views.webhook_rotate, name="webhook_rotate"),
    path("settings/webhooks/deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path(
        "settings/webhooks/deliveries/<int:pk>/redeliver/",
        views.delivery_redeliver,
        name="delivery_redeliver",
    ),
]
