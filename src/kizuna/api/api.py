"""The REST API at /api/v1/: one NinjaAPI, with the routers of each app's api.py, key or
session authentication, and one error body for every failure.

The OpenAPI schema is at /api/v1/openapi.json and the interactive docs at /api/v1/docs,
served from the Swagger UI files in the ninja package — nothing comes from a CDN.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.operation import Operation

from kizuna.api.auth import AUTH
from kizuna.api.rest import ApiError

logger = logging.getLogger(__name__)

DESCRIPTION = gettext_lazy(
    "Customer 360 data of Kizuna. Authenticate with an API key (created by an admin in "
    "Settings → API keys, or with `kizuna apikey create`) as `Authorization: Bearer <key>` "
    "or `X-API-Key: <key>`; the key's role allows what the same role allows in the UI. "
    "Lists take `limit` and `offset` and return `count`; every error has the body "
    '`{"error": {"code", "message", "fields"}}`.'
)


class LocalSwagger(Swagger):
    """Swagger UI from the local static files, without the online validator badge (the one
    thing in it that would call out to the internet)."""

    template = "api/docs.html"


class KizunaAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # "list_accounts" rather than "kizuna_customers_api_list_accounts": the names
        # clients generated from the schema give their methods. Handler names are unique.
        return operation.view_func.__name__


api = KizunaAPI(
    title="Kizuna API",
    version="1",
    # Lazy: rendered in the language of each request for the schema.
    description=cast(str, DESCRIPTION),
    urls_namespace="api:v1",
    auth=AUTH,
    docs=LocalSwagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _response(request: HttpRequest, error: ApiError) -> HttpResponse:
    response = api.create_response(request, error.body(), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "payload", "name") → "name"; ("query", "limit") → "limit".
    parts = [str(part) for part in location]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    elif parts:
        parts = parts[1:]
    return ".".join(parts) or "non_field_errors"


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _response(request, exc)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        message = str(error.get("msg", ""))
        # Our own value checks raise ValueError; pydantic prefixes those messages.
        message = message.removeprefix("Value error, ")
        fields.setdefault(_field_name(error.get("loc", ())), []).append(message)
    return _response(
        request,
        ApiError(422, "validation_error", _("The request is not valid."), fields=fields),
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    error = ApiError(
        401,
        "not_authenticated",
        _("Send an API key as “Authorization: Bearer <key>” or “X-API-Key: <key>”."),
        headers={"WWW-Authenticate": 'Bearer realm="kizuna"'},
    )
    return _response(request, error)


_HTTP_CODES = {
    400: "bad_request",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "rate_limited",
}


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja raises these for a body that is not JSON (400) and the like.
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = _("The request body is not valid JSON.") if exc.status_code == 400 else str(exc)
    return _response(request, ApiError(exc.status_code, code, message))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _response(request, ApiError(404, "not_found", _("Not found.")))


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _response(
        request, ApiError(403, "permission_denied", _("Your role does not allow this action."))
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _response(
        request, ApiError(413, "payload_too_large", _("The request body is too large."))
    )


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return _response(
        request,
        ApiError(500, "server_error", _("Something went wrong on the server; it was logged.")),
    )


def _mount() -> None:
    from kizuna.api.usage_api import router as usage_router
    from kizuna.customers.api import router as customers_router
    from kizuna.lifecycle.api import router as lifecycle_router
    from kizuna.segments.api import router as segments_router

    api.add_router("", customers_router)
    api.add_router("", usage_router)
    api.add_router("", "kizuna.health.api.router")
    api.add_router("", segments_router)
    api.add_router("", lifecycle_router)
    api.add_router("", "kizuna.milestones.api.router")
    api.add_router("", "kizuna.playbooks.api.router")
    api.add_router("", "kizuna.flows.api.router")
    api.add_router("", "kizuna.engagement.api_templates.router")
    api.add_router("", "kizuna.engagement.api_tracking.router")
    api.add_router("", "kizuna.engagement.campaigns_api.router")


_mount()
