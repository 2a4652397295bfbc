"""How a REST API request proves who it is.

- `Authorization: Bearer kz_…` or `X-API-Key: kz_…` — an API key; the request acts as the
  key's service user, with the key's role.
- The browser session of a signed-in person (for the interactive docs); unsafe methods
  then need the CSRF token, as every form in the UI does.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer
from ninja.utils import check_csrf

from kizuna.api import services
from kizuna.api.rest import ApiError
from kizuna.core.models import User

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def _key_user(request: HttpRequest, token: str) -> User:
    try:
        key = services.authenticate(token)
    except services.KeyRejected as exc:
        raise ApiError(401, "invalid_api_key", exc.message) from None
    try:
        services.check_rate(key)
    except services.RateLimited as exc:
        raise ApiError(
            429,
            "rate_limited",
            _("Too many requests for this API key. Try again in %(seconds)d seconds.")
            % {"seconds": exc.retry_after},
            headers={"Retry-After": str(exc.retry_after)},
        ) from None
    request.api_key = key  # type: ignore[attr-defined]
    return key.user


class ApiKeyBearer(HttpBearer):
    """`Authorization: Bearer <API key>`."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return _key_user(request, token) if token else None


class ApiKeyHeader(APIKeyHeader):
    """`X-API-Key: <API key>`."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        return _key_user(request, key) if key else None


class SessionAuth(APIKeyCookie):
    """The signed-in person's session. Unlike ninja's own, it looks at the session before
    the CSRF token, so a request without any credentials gets 401, not 403."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise ApiError(
                403,
                "csrf_failed",
                _("The CSRF token is missing or wrong. Use an API key, or reload the page."),
            )
        return user


AUTH = [ApiKeyBearer(), ApiKeyHeader(), SessionAuth()]
