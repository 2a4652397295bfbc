"""What every router of the REST API shares: the error body and its exception, the
documented error responses, pagination, and binding JSON to the app's model forms so that
the API validates and saves exactly as the UI does.

Routers live in each app's api.py (kizuna.customers.api, …) and are mounted on the one
NinjaAPI in kizuna.api.api.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any

from django.db import IntegrityError, models
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import ConfigDict, PlainSerializer, WithJsonSchema, field_validator

from kizuna.core import audit
from kizuna.core.models import User

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_OFFSET = 2**31 - 1


class ErrorDetail(Schema):
    code: str = Field(
        description="A stable, machine-readable code, e.g. `validation_error`, `not_found`.",
        examples=["validation_error"],
    )
    message: str = Field(description="What went wrong, for a person, in the request's language.")
    fields: dict[str, list[str]] = Field(
        default_factory=dict,
        description="For validation errors: the messages per field (dotted for nested ones, "
        "e.g. `custom_attributes.plan`; `non_field_errors` for the object as a whole).",
        examples=[{"name": ["This field is required."]}],
    )


class ErrorBody(Schema):
    """Every 4xx (and the rare 5xx) answer has this body."""

    error: ErrorDetail


class ApiError(Exception):
    """Raised by handlers and helpers; turned into an ErrorBody response by the API."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.fields = {key: [str(item) for item in value] for key, value in (fields or {}).items()}
        self.headers = dict(headers or {})
        super().__init__(message)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


def not_found(what: str = "") -> ApiError:
    return ApiError(404, "not_found", what or _("Not found."))


def forbidden(message: str = "") -> ApiError:
    return ApiError(403, "permission_denied", message or _("Your role does not allow this action."))


# Documented on every operation; item operations add 404, writes add 409 and 413.
_READ = (400, 401, 403, 422, 429)
READ_ERRORS: dict[int, Any] = dict.fromkeys(_READ, ErrorBody)
ITEM_ERRORS: dict[int, Any] = dict.fromkeys((*_READ, 404), ErrorBody)
WRITE_ERRORS: dict[int, Any] = dict.fromkeys((*_READ, 404, 409, 413), ErrorBody)


def acting_user(request: HttpRequest) -> User:
    """The user the request acts as: the API key's service user, or the signed-in person."""
    user = getattr(request, "auth", None)
    assert isinstance(user, User)
    return user


def require(allowed: bool, message: str = "") -> None:
    if not allowed:
        raise forbidden(message)


# --- Lists ------------------------------------------------------------------------------


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="How many results to return.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="How many results to skip.")


def page(
    queryset: models.QuerySet[Any],
    params: PageParams,
    serialize: Callable[[Sequence[Any]], list[Any]] | None = None,
) -> dict[str, Any]:
    """One page of `queryset` (already filtered and ordered) with the total count."""
    rows = list(queryset[params.offset : params.offset + params.limit])
    return {
        "count": queryset.count() if rows or params.offset else 0,
        "limit": params.limit,
        "offset": params.offset,
        "results": serialize(rows) if serialize else rows,
    }


def aware(moment: datetime.datetime) -> datetime.datetime:
    """A time without an offset is read in the server's time zone."""
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def order(
    queryset: models.QuerySet[Any], ordering: str, choices: Mapping[str, tuple[str, ...]]
) -> models.QuerySet[Any]:
    return queryset.order_by(*choices[ordering])


# --- Writes through the model forms -----------------------------------------------------


def current_values(instance: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """The instance's stored values of the given form fields, as form data.

    A partial update starts from these, so fields the client did not send keep their exact
    stored value (a timestamp keeps its microseconds; a relation its id).
    """
    values: dict[str, Any] = {}
    for name in names:
        field = instance._meta.get_field(name)
        if field.many_to_many:
            values[name] = (
                [related.pk for related in getattr(instance, name).all()] if instance.pk else []
            )
        elif field.is_relation:
            values[name] = getattr(instance, field.attname)  # type: ignore[union-attr]
        else:
            values[name] = getattr(instance, name)
    return values


def form_error(form: ModelForm[Any], names: Mapping[str, str] | None = None) -> ApiError:
    """A 422 naming each invalid field in API terms (`names` maps form → API field names),
    or a 409 when the only problem is a duplicate of a unique value (an external id)."""
    names = names or {}
    fields: dict[str, list[str]] = {}
    codes: set[str | None] = set()
    for name, errors in form.errors.as_data().items():
        key = "non_field_errors" if name == "__all__" else names.get(name, name)
        for error in errors:
            codes.add(error.code)
            fields.setdefault(key, []).extend(error.messages)
    if codes == {"unique"}:
        return ApiError(409, "conflict", _("Another record already has this value."), fields=fields)
    return ApiError(
        422, "validation_error", _("The data is not valid. Nothing was saved."), fields=fields
    )


def save_form[M: models.Model](
    actor: User,
    form: ModelForm[M],
    before: audit.Snapshot | None,
    names: Mapping[str, str] | None = None,
    *,
    prepare: Callable[[M], None] | None = None,
) -> M:
    """Validate the bound form and save it with customers.services.save_form (audit,
    rollups and domain events exactly as in the UI); raise ApiError when it is invalid."""
    from kizuna.customers import services

    if not form.is_valid():
        raise form_error(form, names)
    if prepare is not None:
        prepare(form.instance)
    try:
        return services.save_form(actor, form, before)
    except IntegrityError:
        # Validation checked uniqueness; another request took the value in between.
        raise ApiError(
            409, "conflict", _("Another record was saved with the same unique value.")
        ) from None


# --- Input schemas ------------------------------------------------------------------------

# The range a primary key can have in every database Kizuna runs on.
MAX_ID = 2**63 - 1
# Timestamps outside these years are refused rather than risking an overflow when they are
# converted between time zones.
MIN_YEAR, MAX_YEAR = 1900, 2999


def get_or_404[M: models.Model](queryset: models.QuerySet[M], pk: int, message: str) -> M:
    """The row with this id, or a 404 with `message` (an id no database can hold is simply
    not found)."""
    found = queryset.filter(pk=pk).first() if 1 <= pk <= MAX_ID else None
    if found is None:
        raise not_found(message)
    return found


def check_value(value: Any) -> Any:
    """Refuse what no database stores: NUL characters, unpaired surrogates, timestamps
    in years a time-zone conversion would overflow. Walks lists and dictionaries."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(_("Text cannot contain NUL characters."))
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(_("Text must be valid Unicode.")) from None
    elif isinstance(value, datetime.datetime):
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValueError(
                _("Use a time between the years %(min)d and %(max)d.")
                % {"min": MIN_YEAR, "max": MAX_YEAR}
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            check_value(key)
            check_value(item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_value(item)
    return value


class Input(Schema):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return check_value(value)


class QueryInput(PageParams):
    """Base of list filters: pagination plus the same text checks as bodies."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return check_value(value)


def invalid(field: str, message: str) -> ApiError:
    return ApiError(
        422, "validation_error", _("The data is not valid. Nothing was saved."), {field: [message]}
    )


def check_external_id(external_id: str) -> None:
    """An external id taken from the URL gets the same checks as one in a body."""
    try:
        check_value(external_id)
    except ValueError as exc:
        raise invalid("external_id", str(exc)) from None
    if len(external_id) > 100:
        raise invalid("external_id", _("An external id has at most 100 characters."))


def same_external_id(changes: dict[str, Any], external_id: str) -> None:
    """For a create-or-update by external id: the body may repeat the id, not change it."""
    if changes.get("external_id") not in (None, external_id):
        raise invalid(
            "external_id", _("The external id in the body differs from the one in the URL.")
        )
    changes["external_id"] = external_id


# --- Output types -----------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


# Amounts are strings with two decimals, so no client loses a yen to floating point.
Money = Annotated[
    Decimal,
    PlainSerializer(_money, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["1800000.00"]}
    ),
]


def _utc(value: datetime.datetime) -> str:
    moment = value.astimezone(datetime.UTC) if value.tzinfo else value
    return moment.isoformat().replace("+00:00", "Z")


# Times are ISO 8601 in UTC ("…Z") with microseconds, whichever time zone they were
# written in, and the same in REST answers and webhook payloads.
Timestamp = Annotated[
    datetime.datetime,
    PlainSerializer(_utc, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
