"""Email templates and senders in the REST API (a router mounted at /api/v1/ by
kizuna.api.api): list and read templates with their current content, create one, save a new
version, list sender identities.

Everyone with a key reads; CSMs, managers and admins (and keys with their roles) write.
Content that cannot be saved is a 422 with code `invalid_template` whose `fields` name each
problem's field with its line and column, e.g.
``{"text_ja": ["Line 2, column 1: unknown variable contact.nme"]}``; nothing is saved then.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kizuna.api import rest
from kizuna.api.rest import (
    ITEM_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    ApiError,
    Input,
    QueryInput,
    Timestamp,
)
from kizuna.core.models import User
from kizuna.engagement import templates_service
from kizuna.engagement.choices import ContentType
from kizuna.engagement.models import (
    EmailTemplate,
    EmailTemplateVersion,
    MessageCategory,
    SenderIdentity,
)
from kizuna.engagement.rendering import TemplateInvalid

router = Router(tags=["Email templates"])


# === Schemas ==============================================================================


class TemplateOut(Schema):
    id: int
    key: str
    name: str
    description: str
    category: str = Field(description="The message category's key.")
    sender_id: int | None = Field(description="Empty: the default sender.")
    content_type: ContentType
    team: str
    archived: bool
    version: int | None = Field(description="The number of the current version.")
    created_at: Timestamp
    updated_at: Timestamp

    @staticmethod
    def resolve_category(template: EmailTemplate) -> str:
        return template.category.key

    @staticmethod
    def resolve_version(template: EmailTemplate) -> int | None:
        return template.current.number if template.current else None


class VersionOut(Schema):
    template_id: int
    number: int
    subject_ja: str
    html_ja: str
    text_ja: str
    subject_en: str
    html_en: str
    text_en: str
    content_hash: str = Field(description="Equal for the same content, whichever template.")
    created_at: Timestamp


class TemplateDetailOut(TemplateOut):
    current: VersionOut | None = Field(description="The current version's content.")


class TemplateList(Schema):
    count: int
    limit: int
    offset: int
    results: list[TemplateOut]


class TemplateQuery(QueryInput):
    archived: bool = False
    category: str | None = Field(None, max_length=50, description="A category key.")
    team: str | None = Field(None, max_length=100)


class Content(Input):
    subject_ja: str = Field(max_length=300)
    html_ja: str = Field(max_length=200_000)
    text_ja: str = Field(max_length=200_000)
    subject_en: str = Field("", max_length=300)
    html_en: str = Field("", max_length=200_000)
    text_en: str = Field("", max_length=200_000)


class TemplateCreate(Content):
    key: str = Field(max_length=100, description="A slug, e.g. `onboarding-programme`.")
    name: str = Field(max_length=200)
    description: str = Field("", max_length=10_000)
    category: str = Field(max_length=50, description="A message category's key.")
    sender_id: int | None = Field(None, ge=1, le=rest.MAX_ID)
    content_type: ContentType = ContentType.OTHER
    team: str = Field("", max_length=100)


class SenderOut(Schema):
    id: int
    name: str
    from_name: str
    from_email: str
    reply_to: str
    organisation: str
    postal_address: str
    inquiries: str
    is_default: bool


CONTENT_FIELDS = ("subject_ja", "html_ja", "text_ja", "subject_en", "html_en", "text_en")


# === Helpers ==============================================================================


def _templates() -> Any:
    return EmailTemplate.objects.select_related("category", "current")


def _template(template_id: int) -> EmailTemplate:
    return rest.get_or_404(_templates(), template_id, _("No email template has this id."))


def _writer(request: HttpRequest) -> User:
    user = rest.acting_user(request)
    rest.require(user.can_write, _("Your role cannot change email templates."))
    return user


def _invalid(exc: TemplateInvalid) -> ApiError:
    fields: dict[str, list[str]] = {}
    for problem in exc.problems:
        fields.setdefault(problem.field, []).append(
            _("Line %(line)s, column %(column)s: %(message)s")
            % {"line": problem.line, "column": problem.column, "message": problem.message}
        )
    return ApiError(
        422, "invalid_template", _("The template content is not valid. Nothing was saved."), fields
    )


def _refused(exc: ValidationError) -> ApiError:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    return ApiError(422, "validation_error", _("The data is not valid. Nothing was saved."), fields)


# === Endpoints ============================================================================


@router.get(
    "/email-templates", response={200: TemplateList, **READ_ERRORS}, summary="List email templates"
)
def list_templates(request: HttpRequest, filters: Query[TemplateQuery]) -> dict[str, Any]:
    rows = _templates().filter(archived=filters.archived).order_by("name", "id")
    if filters.category:
        rows = rows.filter(category__key=filters.category)
    if filters.team is not None:
        rows = rows.filter(team=filters.team)
    return rest.page(rows, filters)


@router.get(
    "/email-templates/{template_id}",
    response={200: TemplateDetailOut, **ITEM_ERRORS},
    summary="Get an email template with its current content",
)
def get_template(request: HttpRequest, template_id: int) -> EmailTemplate:
    return _template(template_id)


@router.post(
    "/email-templates",
    response={201: TemplateDetailOut, **WRITE_ERRORS},
    summary="Create an email template",
)
def create_template(request: HttpRequest, payload: TemplateCreate) -> Status[EmailTemplate]:
    """The content becomes version 1. Variables: see the template editor's palette."""
    user = _writer(request)
    category = MessageCategory.objects.filter(key=payload.category).first()
    if category is None:
        raise rest.invalid("category", _("No message category has this key."))
    sender = None
    if payload.sender_id is not None:
        sender = SenderIdentity.objects.filter(pk=payload.sender_id).first()
        if sender is None:
            raise rest.invalid("sender_id", _("No sender has this id."))
    try:
        template = templates_service.create_template(
            user,
            key=payload.key,
            name=payload.name,
            description=payload.description,
            category=category,
            sender=sender,
            content_type=payload.content_type,
            team=payload.team,
            content={name: getattr(payload, name) for name in CONTENT_FIELDS},
        )
    except TemplateInvalid as exc:
        raise _invalid(exc) from None
    except ValidationError as exc:
        raise _refused(exc) from None
    except IntegrityError:
        raise ApiError(409, "conflict", _("Another template was saved with this key.")) from None
    return Status(201, _template(template.pk))


@router.post(
    "/email-templates/{template_id}/versions",
    response={201: VersionOut, 200: VersionOut, **WRITE_ERRORS},
    summary="Save a new version of an email template",
)
def create_version(
    request: HttpRequest, template_id: int, payload: Content
) -> Status[EmailTemplateVersion]:
    """201 with the new version; 200 with the current one when the content is unchanged.
    Messages already queued keep the version they were made from."""
    user = _writer(request)
    template = _template(template_id)
    before = template.current_id
    try:
        version = templates_service.save_version(
            user, template, {name: getattr(payload, name) for name in CONTENT_FIELDS}
        )
    except TemplateInvalid as exc:
        raise _invalid(exc) from None
    return Status(200 if version.pk == before else 201, version)


@router.get(
    "/email-senders", response={200: list[SenderOut], **READ_ERRORS}, summary="List senders"
)
def list_senders(request: HttpRequest) -> list[SenderIdentity]:
    return list(SenderIdentity.objects.order_by("-is_default", "name"))
