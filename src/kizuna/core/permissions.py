"""Role checks for views. Every view that changes data uses one of these decorators; the
templates only hide buttons, the server is what refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def _require(check: Callable[[Any], bool]) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


write_required = _require(lambda user: getattr(user, "can_write", False))
configure_required = _require(lambda user: getattr(user, "can_configure", False))
admin_required = _require(lambda user: getattr(user, "can_manage_users", False))
