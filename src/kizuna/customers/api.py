"""Customer 360 in the REST API: accounts, contacts, subscriptions, opportunities and
touchpoints (mounted at /api/v1/ by kizuna.api.api).

Handlers are thin: they bind the JSON to the same model forms the UI uses and save through
customers.services, so validation, the audit log, rollups and domain events (webhooks) are
exactly those of the UI. The `…Out` schemas are also the `data.object` of webhook payloads.

Every resource has the same operations, so each one is a `Resource` — its model, schemas,
filters and save hook — and `routes()` makes the standard handlers for it.
"""

import datetime
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db import models
from django.db.models import Q
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Router, Schema, Status
from ninja.params import functions as param_functions
from pydantic import create_model

from kizuna.api import rest
from kizuna.api.rest import (
    ITEM_ERRORS,
    MAX_ID,
    READ_ERRORS,
    WRITE_ERRORS,
    ApiError,
    Input,
    Money,
    QueryInput,
    Timestamp,
)
from kizuna.core import audit
from kizuna.core.models import Role, User
from kizuna.customers import queries, services
from kizuna.customers.choices import (
    Channel,
    Currency,
    CustomFieldType,
    Industry,
    LifecycleStage,
    OpportunityKind,
    OpportunityStage,
    Rating,
    Region,
    SubscriptionStatus,
    Tier,
    TouchpointKind,
)
from kizuna.customers.forms import (
    CUSTOM_PREFIX,
    AccountForm,
    ContactForm,
    OpportunityForm,
    SubscriptionForm,
    TouchpointForm,
)
from kizuna.customers.models import (
    Account,
    Contact,
    CustomFieldDefinition,
    Opportunity,
    Subscription,
    Touchpoint,
)

router = Router()


def _max(model: type[models.Model], name: str) -> int:
    """The column's max_length, so the schema and the model cannot disagree."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.max_length is not None
    return field.max_length


SMALL_INT = 2_147_483_647  # the largest positive integer column every database stores

CHILD_ORDERINGS: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "-id": ("-id",),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
}


def _get[M: models.Model](queryset: models.QuerySet[M], pk: int, what: Promise) -> M:
    """The row with this id, or a 404 whose message (`what`) says which kind is missing."""
    instance = queryset.filter(pk=pk).first() if 1 <= pk <= MAX_ID else None
    if instance is None:
        raise rest.not_found(str(what))
    return instance


def _by_external_id[M: models.Model](queryset: models.QuerySet[M], external_id: str) -> M | None:
    rest.check_external_id(external_id)
    return queryset.filter(external_id=external_id).first()


def _data(
    form_class: type[ModelForm[Any]],
    instance: models.Model,
    changes: Mapping[str, Any],
    renames: Mapping[str, str],
) -> dict[str, Any]:
    """Form data: the instance's current values (a new instance's defaults) overlaid with
    what the client sent, renamed from API to form field names."""
    data = rest.current_values(instance, form_class._meta.fields or [])
    form_names = {api: form for form, api in renames.items()}
    for key, value in changes.items():
        data[form_names.get(key, key)] = value
    return data


def _before(instance: models.Model) -> audit.Snapshot | None:
    return audit.snapshot(instance) if instance.pk else None


def _write_allowed(request: HttpRequest) -> User:
    user = rest.acting_user(request)
    rest.require(user.can_write, _("Viewers can only read."))
    return user


def _since(queryset: models.QuerySet[Any], moment: datetime.datetime | None) -> Any:
    return queryset.filter(updated_at__gte=rest.aware(moment)) if moment else queryset


def _serialize(schema: type[Schema]) -> Any:
    def serialize(instances: Sequence[Any]) -> list[dict[str, Any]]:
        return [schema.model_validate(instance).model_dump(mode="json") for instance in instances]

    return serialize


def _page_schema(name: str, out: type[Schema]) -> type[Schema]:
    """The schema of one page of a list: `count`, `limit`, `offset` and `results`."""
    return create_model(
        name,
        __base__=Schema,
        __module__=__name__,
        count=(int, ...),
        limit=(int, ...),
        offset=(int, ...),
        results=(list[out], ...),  # type: ignore[valid-type]
    )


# === The standard operations ==============================================================

# Saves a new or existing record from the client's changes (API field names); raises
# ApiError when the user may not write or the data is not valid.
type Saver[M: models.Model] = Callable[[HttpRequest, M, dict[str, Any]], M]


@dataclass(frozen=True, kw_only=True)
class Resource[M: models.Model]:
    """A resource of the REST API and what its standard operations need to know."""

    model: type[M]
    # "contact": names the operations (`get_contact`, …) and the id in the path
    # (`contact_id`); the plural names the list and the tag, the noun the summaries.
    name: str
    plural: str
    noun: str
    out: type[Schema]
    page: type[Schema]
    query: type[QueryInput]
    create: type[Input]
    patch: type[Input]
    # Create-or-update by external id; without it, no by-external-id operations.
    upsert: type[Input] | None = None
    save: Saver[M]
    # The list filtered by the query's own parameters; `exact` ones just have to be equal.
    search: Callable[[HttpRequest, Any], models.QuerySet[M]] | None = None
    exact: tuple[str, ...] = ()
    orderings: Mapping[str, tuple[str, ...]]
    page_rows: Callable[[Sequence[M]], list[Any]] | None = None
    missing: Promise
    missing_external_id: Promise | None = None
    # Relations loaded with the record read by a get, and with the one about to be saved.
    prefetch_on_read: tuple[str, ...] = ()
    select_on_write: tuple[str, ...] = ()
    # Who may delete, checked once the record is found (404 before 403). Without it, any
    # role that may write, checked before the record is looked up.
    delete_rule: Callable[[User], None] | None = None
    # By operation kind (a key of OPERATIONS): a summary other than the standard one, and
    # the operation's description in the OpenAPI document.
    summaries: Mapping[str, str] = field(default_factory=dict)
    descriptions: Mapping[str, str] = field(default_factory=dict)

    def rows(self) -> models.QuerySet[M]:
        return self.model._default_manager.all()

    def readable(self) -> models.QuerySet[M]:
        rows = self.rows()
        return rows.prefetch_related(*self.prefetch_on_read) if self.prefetch_on_read else rows

    def writable(self) -> models.QuerySet[M]:
        rows = self.rows()
        return rows.select_related(*self.select_on_write) if self.select_on_write else rows


def _view(name: str, handler: Callable[..., Any], params: Mapping[str, Any]) -> Callable[..., Any]:
    """`handler(request, **params)` as ninja inspects it: named `name` and taking these
    parameters (name → type), so that each resource's operations keep their own names,
    path parameter and schemas in the OpenAPI document."""
    handler.__name__ = handler.__qualname__ = name
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    handler.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", kind, annotation=HttpRequest),
            *(inspect.Parameter(key, kind, annotation=value) for key, value in params.items()),
        ]
    )
    return handler


# The standard operations: their operation ids (the names the handlers had when each
# resource wrote its own) and summaries, filled in with the resource's names.
OPERATIONS = {
    "list": ("list_{plural}", "List {plural}"),
    "create": ("create_{name}", "Create {noun}"),
    "get_by_external_id": ("get_{name}_by_external_id", "Get {noun} by external id"),
    "upsert": ("upsert_{name}", "Create or update {noun} by external id"),
    "get": ("get_{name}", "Get {noun}"),
    "update": ("update_{name}", "Update {noun}"),
    "delete": ("delete_{name}", "Delete {noun}"),
}


def routes[M: models.Model](resource: Resource[M]) -> Router:
    """A router with the resource's standard operations: list, create, get and
    create-or-update by external id (when it has an upsert schema), get, update, delete."""
    r = resource
    operations = Router(tags=[r.plural.capitalize()])
    pk = f"{r.name}_id"
    item, by_external_id = f"/{{{pk}}}", "/by-external-id/{path:external_id}"

    def operation(
        kind: str, method: str, path: str, response: dict[int, Any], **params: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        operation_id, summary = (
            text.format(name=r.name, plural=r.plural, noun=r.noun) for text in OPERATIONS[kind]
        )

        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            operations.add_api_operation(
                path,
                [method],
                _view(operation_id, handler, params),
                response=response,
                operation_id=operation_id,
                url_name=operation_id,
                summary=r.summaries.get(kind, summary),
                description=r.descriptions.get(kind),
            )
            return handler

        return register

    @operation(
        "list",
        "GET",
        "",
        {200: r.page, **READ_ERRORS},
        filters=Annotated[r.query, param_functions.Query()],
    )
    def list_rows(request: HttpRequest, filters: Any) -> dict[str, Any]:
        result = r.search(request, filters) if r.search else r.rows()
        for name in r.exact:
            value = getattr(filters, name)
            if value is not None:
                result = result.filter(**{name: value})
        result = _since(result, filters.updated_since)
        return rest.page(rest.order(result, filters.ordering, r.orderings), filters, r.page_rows)

    @operation("create", "POST", "", {201: r.out, **WRITE_ERRORS}, payload=r.create)
    def create(request: HttpRequest, payload: Input) -> Status[M]:
        return Status(201, r.save(request, r.model(), payload.model_dump(exclude_unset=True)))

    if r.upsert is not None:

        @operation(
            "get_by_external_id",
            "GET",
            by_external_id,
            {200: r.out, **ITEM_ERRORS},
            external_id=str,
        )
        def get_by_external_id(request: HttpRequest, external_id: str) -> M:
            instance = _by_external_id(r.rows(), external_id)
            if instance is None:
                raise rest.not_found(str(r.missing_external_id))
            return instance

        @operation(
            "upsert",
            "PUT",
            by_external_id,
            {200: r.out, 201: r.out, **WRITE_ERRORS},
            external_id=str,
            payload=r.upsert,
        )
        def upsert(request: HttpRequest, external_id: str, payload: Input) -> Status[M]:
            existing = _by_external_id(r.writable(), external_id)
            changes = payload.model_dump(exclude_unset=True)
            rest.same_external_id(changes, external_id)
            saved = r.save(request, existing or r.model(), changes)
            return Status(200 if existing else 201, saved)

    @operation("get", "GET", item, {200: r.out, **ITEM_ERRORS}, **{pk: int})
    def get(request: HttpRequest, **params: int) -> M:
        return _get(r.readable(), params[pk], r.missing)

    @operation("update", "PATCH", item, {200: r.out, **WRITE_ERRORS}, **{pk: int}, payload=r.patch)
    def update(request: HttpRequest, payload: Input, **params: int) -> M:
        instance = _get(r.writable(), params[pk], r.missing)
        return r.save(request, instance, payload.model_dump(exclude_unset=True))

    @operation("delete", "DELETE", item, {204: None, **ITEM_ERRORS}, **{pk: int})
    def delete(request: HttpRequest, **params: int) -> Status[None]:
        user = rest.acting_user(request) if r.delete_rule else _write_allowed(request)
        instance = _get(r.rows(), params[pk], r.missing)
        if r.delete_rule:
            r.delete_rule(user)
        services.delete(user, instance)
        return Status(204, None)

    return operations


# === Accounts =============================================================================


class AccountOut(Schema):
    id: int
    external_id: str | None = Field(description="The id in your CRM; unique when set.")
    name: str
    name_kana: str = Field(description="Katakana reading, used for sorting and search.")
    domain: str
    industry: Industry
    employees: int | None
    region: Region | None
    owner_id: int | None = Field(description="The owner CSM (a user id).")
    tier: Tier = Field(description="Derived from ARR and the tier thresholds.")
    stage: LifecycleStage
    custom_attributes: dict[str, Any] = Field(
        description="Values of the custom fields, by key.", examples=[{"contract_plan": "A"}]
    )
    arr: Money = Field(description="Derived: the ARR of live subscriptions.")
    mrr: Money = Field(description="Derived: the MRR of live subscriptions.")
    next_renewal_date: datetime.date | None = Field(description="Derived from subscriptions.")
    created_at: Timestamp
    updated_at: Timestamp

    @staticmethod
    def resolve_region(obj: Account) -> str | None:
        return obj.region or None


AccountList = _page_schema("AccountList", AccountOut)


class AccountPatch(Input):
    name: str | None = Field(None, max_length=_max(Account, "name"))
    name_kana: str | None = Field(None, max_length=_max(Account, "name_kana"))
    domain: str | None = Field(None, max_length=_max(Account, "domain"))
    industry: Industry | None = None
    employees: int | None = Field(None, ge=0, le=SMALL_INT)
    region: Region | None = None
    external_id: str | None = Field(None, max_length=_max(Account, "external_id"))
    owner_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="An active user who is not a viewer."
    )
    stage: LifecycleStage | None = None
    custom_attributes: dict[str, Any] | None = Field(
        None,
        description="Custom field values by key. Only the keys sent change; null (or an "
        "empty value) removes one.",
    )


class AccountUpsert(AccountPatch):
    """Create or update by external id; fields not sent keep their value (or default)."""


class AccountCreate(AccountPatch):
    name: str = Field(max_length=_max(Account, "name"))
    name_kana: str = Field("", max_length=_max(Account, "name_kana"))
    domain: str = Field("", max_length=_max(Account, "domain"))
    industry: Industry = Industry.OTHER
    stage: LifecycleStage = LifecycleStage.ONBOARDING


ACCOUNT_ORDERINGS: dict[str, tuple[str, ...]] = {
    "name": queries.SORTS["name"],
    "-name": ("-name_kana", "-name", "-id"),
    "arr": queries.SORTS["arr"],
    "-arr": queries.SORTS["-arr"],
    "renewal": queries.SORTS["renewal"],
    "-renewal": ("-next_renewal_date", "-id"),
    **CHILD_ORDERINGS,
}


class AccountQuery(QueryInput):
    q: str | None = Field(
        None, max_length=200, description="Partial match on name, kana, domain, external id."
    )
    owner: str | None = Field(
        None, pattern=r"^(me|none|[1-9][0-9]{0,17})$", description="`me`, `none` or a user id."
    )
    tier: Tier | None = None
    stage: LifecycleStage | None = None
    industry: Industry | None = None
    region: Region | None = None
    renewal_within_days: int | None = Field(
        None, ge=0, le=3650, description="Next renewal between today and this many days."
    )
    external_id: str | None = Field(None, max_length=_max(Account, "external_id"))
    updated_since: datetime.datetime | None = None
    custom: list[str] = Field(
        default_factory=list,
        description="Custom field filters as `key:value`; repeat for several.",
        examples=[["contract_plan:A"]],
    )
    ordering: Literal[
        "name",
        "-name",
        "arr",
        "-arr",
        "renewal",
        "-renewal",
        "id",
        "-id",
        "created_at",
        "-created_at",
        "updated_at",
        "-updated_at",
    ] = "name"


def _account_data(
    account: Account, changes: dict[str, Any], definitions: list[CustomFieldDefinition]
) -> dict[str, Any]:
    custom = changes.pop("custom_attributes", None) or {}
    data = _data(AccountForm, account, changes, {"owner": "owner_id"})
    known = {definition.key for definition in definitions}
    unknown = sorted(key for key in custom if key not in known)
    if unknown:
        raise ApiError(
            422,
            "validation_error",
            _("The data is not valid. Nothing was saved."),
            fields={
                f"custom_attributes.{key}": [
                    _("There is no custom field “%(key)s”.") % {"key": key}
                ]
                for key in unknown
            },
        )
    merged = {**(account.custom_attributes or {}), **custom}
    for key, value in merged.items():
        data[CUSTOM_PREFIX + key] = value
    return data


def _save_account(request: HttpRequest, account: Account, changes: dict[str, Any]) -> Account:
    user = _write_allowed(request)
    definitions = services.custom_field_definitions()
    before = _before(account)
    data = _account_data(account, changes, definitions)
    form = AccountForm(data, instance=account)
    names = {"owner": "owner_id"}
    names.update({CUSTOM_PREFIX + d.key: f"custom_attributes.{d.key}" for d in definitions})
    return rest.save_form(user, form, before, names)


def _custom_filter_value_ok(definition: CustomFieldDefinition, value: str) -> bool:
    """Whether `value` can be compared with the field's stored values (a number filter
    gets a finite number of a sane size, a yes/no filter `true` or `false`)."""
    if definition.field_type == CustomFieldType.NUMBER:
        try:
            number = Decimal(value)
        except ArithmeticError:
            return False
        return number.is_finite() and abs(number) < Decimal("1e15")
    if definition.field_type == CustomFieldType.BOOLEAN:
        return value in ("true", "false")
    return True


def _search_accounts(request: HttpRequest, filters: AccountQuery) -> models.QuerySet[Account]:
    """The account list's filters, custom fields included, as the UI applies them."""
    definitions = services.custom_field_definitions()
    custom: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    by_key = {definition.key: definition for definition in definitions}
    numbers: dict[str, int | float] = {}
    for item in filters.custom:
        key, sep, value = item.partition(":")
        if not sep or key not in by_key:
            errors.setdefault("custom", []).append(
                _("“%(item)s” is not key:value with a custom field key.") % {"item": item}
            )
        elif not _custom_filter_value_ok(by_key[key], value):
            errors.setdefault("custom", []).append(
                _("“%(value)s” is not a valid value for “%(key)s”.") % {"value": value, "key": key}
            )
        elif by_key[key].field_type == CustomFieldType.NUMBER:
            # Compared in the stored form (an int or a float), as the number was saved.
            numbers[key] = services.clean_custom_value(by_key[key], value)
        else:
            custom[key] = value
    spec = queries.AccountFilter(
        q=filters.q or "",
        owner=filters.owner or "",
        tier=filters.tier or "",
        stage=filters.stage or "",
        industry=filters.industry or "",
        renewal_within=filters.renewal_within_days,
        custom=custom,
    )
    if errors:
        raise ApiError(422, "validation_error", _("Some filters are not valid."), fields=errors)
    result = queries.accounts_for(spec, rest.acting_user(request), definitions)
    for key, number in numbers.items():
        result = result.filter(**{f"custom_attributes__{key}": number})
    if filters.renewal_within_days == 0:
        result = result.filter(next_renewal_date=timezone.localdate())
    return result


def _may_delete_account(user: User) -> None:
    rest.require(user.can_configure, _("Only managers and admins delete accounts."))


ACCOUNTS = Resource(
    model=Account,
    name="account",
    plural="accounts",
    noun="an account",
    out=AccountOut,
    page=AccountList,
    query=AccountQuery,
    create=AccountCreate,
    patch=AccountPatch,
    upsert=AccountUpsert,
    save=_save_account,
    search=_search_accounts,
    exact=("region", "external_id"),
    orderings=ACCOUNT_ORDERINGS,
    missing=gettext_lazy("No account has this id."),
    missing_external_id=gettext_lazy("No account has this external id."),
    delete_rule=_may_delete_account,
    descriptions={
        "list": "Accounts with the account list's filters, ordered and paginated.",
        "upsert": "Idempotent sync from a CRM: creates the account when no account has this "
        "external\nid (201), otherwise updates the fields sent (200).",
        "delete": "Deletes the account with its contacts, subscriptions, opportunities and "
        "touchpoints.\nManagers and admins only, as in the UI.",
    },
)


# === Account records: contacts, subscriptions, opportunities, touchpoints =================


def _account_for(changes: dict[str, Any], instance: models.Model) -> Account:
    """The account a new child record belongs to (an existing one cannot move)."""
    account_id = changes.pop("account_id", None)
    current = getattr(instance, "account_id", None)
    if current is not None:
        if account_id is not None and account_id != current:
            raise rest.invalid("account_id", _("A record cannot move to another account."))
        return instance.account  # type: ignore[attr-defined]
    if account_id is None:
        raise rest.invalid("account_id", _("This field is required."))
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        raise rest.invalid("account_id", _("No account has this id."))
    return account


def _child_saver[M: models.Model](
    form_class: type[ModelForm[M]], renames: Mapping[str, str] | None = None
) -> Saver[M]:
    """Saves a record of an account through its UI form (`renames`: form → API names)."""

    def save(request: HttpRequest, instance: M, changes: dict[str, Any]) -> M:
        user = _write_allowed(request)
        account = _account_for(changes, instance)
        before = _before(instance)
        form = form_class(_data(form_class, instance, changes, renames or {}), instance=instance)
        form.instance.account = account  # type: ignore[attr-defined]
        return rest.save_form(user, form, before, renames or {})

    return save


# === Contacts =============================================================================


class ContactOut(Schema):
    id: int
    account_id: int
    name: str
    name_kana: str
    title: str
    email: str
    phone: str
    is_champion: bool
    is_decision_maker: bool
    external_id: str | None
    product_user_id: str | None = Field(
        description="The user id your product sends with tracking calls (Segment userId)."
    )
    created_at: Timestamp
    updated_at: Timestamp


ContactList = _page_schema("ContactList", ContactOut)


class ContactPatch(Input):
    name: str | None = Field(None, max_length=_max(Contact, "name"))
    name_kana: str | None = Field(None, max_length=_max(Contact, "name_kana"))
    title: str | None = Field(None, max_length=_max(Contact, "title"))
    email: str | None = Field(None, max_length=_max(Contact, "email"))
    phone: str | None = Field(None, max_length=_max(Contact, "phone"))
    is_champion: bool | None = None
    is_decision_maker: bool | None = None
    external_id: str | None = Field(None, max_length=_max(Contact, "external_id"))
    product_user_id: str | None = Field(None, max_length=_max(Contact, "product_user_id"))


class ContactUpsert(ContactPatch):
    account_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Required when the contact is created."
    )


class ContactCreate(ContactUpsert):
    account_id: int = Field(ge=1, le=MAX_ID)
    name: str = Field(max_length=_max(Contact, "name"))


class ContactQuery(QueryInput):
    account_id: int | None = Field(None, ge=1, le=MAX_ID)
    q: str | None = Field(None, max_length=200, description="Partial match on name or email.")
    email: str | None = Field(None, max_length=_max(Contact, "email"))
    external_id: str | None = Field(None, max_length=_max(Contact, "external_id"))
    product_user_id: str | None = Field(None, max_length=_max(Contact, "product_user_id"))
    is_champion: bool | None = None
    is_decision_maker: bool | None = None
    updated_since: datetime.datetime | None = None
    ordering: Literal[
        "name", "-name", "id", "-id", "created_at", "-created_at", "updated_at", "-updated_at"
    ] = "name"


def _search_contacts(request: HttpRequest, filters: ContactQuery) -> models.QuerySet[Contact]:
    result = Contact.objects.all()
    if filters.q:
        result = result.filter(
            Q(name__icontains=filters.q)
            | Q(name_kana__icontains=filters.q)
            | Q(email__icontains=filters.q)
        )
    return result


CONTACTS = Resource(
    model=Contact,
    name="contact",
    plural="contacts",
    noun="a contact",
    out=ContactOut,
    page=ContactList,
    query=ContactQuery,
    create=ContactCreate,
    patch=ContactPatch,
    upsert=ContactUpsert,
    save=_child_saver(ContactForm),
    search=_search_contacts,
    exact=(
        "account_id",
        "email",
        "external_id",
        "product_user_id",
        "is_champion",
        "is_decision_maker",
    ),
    orderings={
        "name": ("name_kana", "name", "id"),
        "-name": ("-name_kana", "-name", "-id"),
        **CHILD_ORDERINGS,
    },
    missing=gettext_lazy("No contact has this id."),
    missing_external_id=gettext_lazy("No contact has this external id."),
    select_on_write=("account",),
)


# === Subscriptions ========================================================================


class SubscriptionOut(Schema):
    id: int
    account_id: int
    product: str
    plan: str
    seats: int
    mrr: Money
    arr: Money
    currency: Currency
    start_date: datetime.date
    end_date: datetime.date | None = Field(description="End or renewal date.")
    status: SubscriptionStatus
    auto_renew: bool
    external_id: str | None
    created_at: Timestamp
    updated_at: Timestamp


SubscriptionList = _page_schema("SubscriptionList", SubscriptionOut)


class SubscriptionPatch(Input):
    product: str | None = Field(None, max_length=_max(Subscription, "product"))
    plan: str | None = Field(None, max_length=_max(Subscription, "plan"))
    seats: int | None = Field(None, ge=1, le=SMALL_INT)
    mrr: Decimal | None = Field(None, ge=0, max_digits=16, decimal_places=2)
    arr: Decimal | None = Field(
        None,
        ge=0,
        max_digits=16,
        decimal_places=2,
        description="Give MRR or ARR: the other is derived (ARR = 12 × MRR).",
    )
    currency: Currency | None = None
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    status: SubscriptionStatus | None = None
    auto_renew: bool | None = None
    external_id: str | None = Field(None, max_length=_max(Subscription, "external_id"))


class SubscriptionUpsert(SubscriptionPatch):
    account_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Required when the subscription is created."
    )


class SubscriptionCreate(SubscriptionUpsert):
    account_id: int = Field(ge=1, le=MAX_ID)
    product: str = Field(max_length=_max(Subscription, "product"))
    start_date: datetime.date


class SubscriptionQuery(QueryInput):
    account_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: SubscriptionStatus | None = None
    external_id: str | None = Field(None, max_length=_max(Subscription, "external_id"))
    ends_after: datetime.date | None = Field(None, description="End date on or after.")
    ends_before: datetime.date | None = Field(None, description="End date on or before.")
    updated_since: datetime.datetime | None = None
    ordering: Literal[
        "start_date",
        "-start_date",
        "end_date",
        "-end_date",
        "id",
        "-id",
        "created_at",
        "-created_at",
        "updated_at",
        "-updated_at",
    ] = "-start_date"


def _search_subscriptions(
    request: HttpRequest, filters: SubscriptionQuery
) -> models.QuerySet[Subscription]:
    result = Subscription.objects.all()
    if filters.ends_after:
        result = result.filter(end_date__gte=filters.ends_after)
    if filters.ends_before:
        result = result.filter(end_date__lte=filters.ends_before)
    return result


def _derive_money(subscription: Subscription, changes: dict[str, Any]) -> None:
    # As in the form: sending only MRR (or only ARR) derives the other from it, instead of
    # keeping a stored value that no longer matches.
    if subscription.pk is None:
        return
    if "mrr" in changes and "arr" not in changes:
        changes["arr"] = None
    elif "arr" in changes and "mrr" not in changes:
        changes["mrr"] = None


_save_subscription_form = _child_saver(SubscriptionForm)


def _save_subscription(
    request: HttpRequest, subscription: Subscription, changes: dict[str, Any]
) -> Subscription:
    _derive_money(subscription, changes)
    return _save_subscription_form(request, subscription, changes)


SUBSCRIPTIONS = Resource(
    model=Subscription,
    name="subscription",
    plural="subscriptions",
    noun="a subscription",
    out=SubscriptionOut,
    page=SubscriptionList,
    query=SubscriptionQuery,
    create=SubscriptionCreate,
    patch=SubscriptionPatch,
    upsert=SubscriptionUpsert,
    save=_save_subscription,
    search=_search_subscriptions,
    exact=("account_id", "status", "external_id"),
    orderings={
        "start_date": ("start_date", "id"),
        "-start_date": ("-start_date", "-id"),
        "end_date": ("end_date", "id"),
        "-end_date": ("-end_date", "-id"),
        **CHILD_ORDERINGS,
    },
    missing=gettext_lazy("No subscription has this id."),
    missing_external_id=gettext_lazy("No subscription has this external id."),
    select_on_write=("account",),
    descriptions={
        "create": "Creates a contract; the account's ARR, MRR, renewal date and tier follow."
    },
)


# === Opportunities ========================================================================


class ApiOpportunityForm(OpportunityForm):
    """The UI's opportunity form plus the external id, which only integrations set."""

    class Meta(OpportunityForm.Meta):
        fields = [*OpportunityForm.Meta.fields, "external_id"]

    def clean_external_id(self) -> str | None:
        return self.cleaned_data.get("external_id") or None


class OpportunityOut(Schema):
    id: int
    account_id: int
    name: str
    kind: OpportunityKind
    amount: Money
    currency: Currency
    stage: OpportunityStage
    close_date: datetime.date
    owner_id: int | None
    external_id: str | None
    created_at: Timestamp
    updated_at: Timestamp


OpportunityList = _page_schema("OpportunityList", OpportunityOut)


class OpportunityPatch(Input):
    name: str | None = Field(None, max_length=_max(Opportunity, "name"))
    kind: OpportunityKind | None = None
    amount: Decimal | None = Field(None, ge=0, max_digits=16, decimal_places=2)
    currency: Currency | None = None
    stage: OpportunityStage | None = None
    close_date: datetime.date | None = None
    owner_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="An active user who is not a viewer."
    )
    external_id: str | None = Field(None, max_length=_max(Opportunity, "external_id"))


class OpportunityUpsert(OpportunityPatch):
    account_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Required when the opportunity is created."
    )


class OpportunityCreate(OpportunityUpsert):
    account_id: int = Field(ge=1, le=MAX_ID)
    name: str = Field(max_length=_max(Opportunity, "name"))
    kind: OpportunityKind
    amount: Decimal = Field(ge=0, max_digits=16, decimal_places=2)
    close_date: datetime.date


class OpportunityQuery(QueryInput):
    account_id: int | None = Field(None, ge=1, le=MAX_ID)
    kind: OpportunityKind | None = None
    stage: OpportunityStage | None = None
    open: bool | None = Field(None, description="true: not won or lost yet; false: closed.")
    owner_id: int | None = Field(None, ge=1, le=MAX_ID)
    external_id: str | None = Field(None, max_length=_max(Opportunity, "external_id"))
    closes_before: datetime.date | None = None
    updated_since: datetime.datetime | None = None
    ordering: Literal[
        "close_date",
        "-close_date",
        "amount",
        "-amount",
        "id",
        "-id",
        "created_at",
        "-created_at",
        "updated_at",
        "-updated_at",
    ] = "close_date"


def _search_opportunities(
    request: HttpRequest, filters: OpportunityQuery
) -> models.QuerySet[Opportunity]:
    result = Opportunity.objects.all()
    closed = (OpportunityStage.WON, OpportunityStage.LOST)
    if filters.open is True:
        result = result.exclude(stage__in=closed)
    elif filters.open is False:
        result = result.filter(stage__in=closed)
    if filters.closes_before:
        result = result.filter(close_date__lte=filters.closes_before)
    return result


OPPORTUNITIES = Resource(
    model=Opportunity,
    name="opportunity",
    plural="opportunities",
    noun="an opportunity",
    out=OpportunityOut,
    page=OpportunityList,
    query=OpportunityQuery,
    create=OpportunityCreate,
    patch=OpportunityPatch,
    upsert=OpportunityUpsert,
    save=_child_saver(ApiOpportunityForm, {"owner": "owner_id"}),
    search=_search_opportunities,
    exact=("account_id", "kind", "stage", "owner_id", "external_id"),
    orderings={
        "close_date": ("close_date", "id"),
        "-close_date": ("-close_date", "-id"),
        "amount": ("amount", "id"),
        "-amount": ("-amount", "-id"),
        **CHILD_ORDERINGS,
    },
    missing=gettext_lazy("No opportunity has this id."),
    missing_external_id=gettext_lazy("No opportunity has this external id."),
    select_on_write=("account",),
)


# === Touchpoints ==========================================================================


class TouchpointOut(Schema):
    id: int
    account_id: int
    kind: TouchpointKind
    occurred_at: Timestamp
    channel: Channel | None
    rating: Rating | None = Field(description="How it went, as rated by the CSM.")
    subject: str
    body: str
    author_id: int | None
    contact_ids: list[int] = Field(description="The account's contacts who took part.")
    created_at: Timestamp
    updated_at: Timestamp

    @staticmethod
    def resolve_channel(obj: Touchpoint) -> str | None:
        return obj.channel or None

    @staticmethod
    def resolve_rating(obj: Touchpoint) -> str | None:
        return obj.rating or None

    @staticmethod
    def resolve_contact_ids(obj: Touchpoint) -> list[int]:
        if obj.pk is None:  # deleted: its links are gone with it
            return []
        return [contact.pk for contact in obj.contacts.all()]


TouchpointList = _page_schema("TouchpointList", TouchpointOut)


class TouchpointPatch(Input):
    kind: TouchpointKind | None = None
    occurred_at: datetime.datetime | None = Field(
        None, description="When it happened; not more than a day ahead."
    )
    channel: Channel | None = None
    rating: Rating | None = None
    subject: str | None = Field(None, max_length=_max(Touchpoint, "subject"))
    body: str | None = Field(None, max_length=100_000)
    contact_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        None, max_length=1000, description="Contacts of the same account."
    )
    author_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="Who logged it (an active user who is not a viewer); defaults to the "
        "API key's service user or the signed-in user.",
    )


class TouchpointCreate(TouchpointPatch):
    account_id: int = Field(ge=1, le=MAX_ID)
    kind: TouchpointKind
    occurred_at: datetime.datetime
    subject: str = Field(max_length=_max(Touchpoint, "subject"))


class TouchpointQuery(QueryInput):
    account_id: int | None = Field(None, ge=1, le=MAX_ID)
    contact_id: int | None = Field(None, ge=1, le=MAX_ID)
    kind: TouchpointKind | None = None
    channel: Channel | None = None
    rating: Rating | None = None
    author_id: int | None = Field(None, ge=1, le=MAX_ID)
    occurred_after: datetime.datetime | None = None
    occurred_before: datetime.datetime | None = None
    updated_since: datetime.datetime | None = None
    ordering: Literal[
        "occurred_at",
        "-occurred_at",
        "id",
        "-id",
        "created_at",
        "-created_at",
        "updated_at",
        "-updated_at",
    ] = "-occurred_at"


def _serialize_touchpoints(instances: Sequence[Touchpoint]) -> list[dict[str, Any]]:
    stored = [touchpoint for touchpoint in instances if touchpoint.pk is not None]
    models.prefetch_related_objects(stored, "contacts")
    return _serialize(TouchpointOut)(instances)


def _touchpoint_page(rows: Sequence[Touchpoint]) -> list[Touchpoint]:
    models.prefetch_related_objects(list(rows), "contacts")
    return list(rows)


def _author(author_id: int | None) -> int | None:
    if author_id is None:
        return None
    staff = User.objects.filter(pk=author_id, is_active=True).exclude(role=Role.VIEWER)
    if not staff.exists():
        raise rest.invalid("author_id", _("No active user who can log touchpoints has this id."))
    return author_id


def _save_touchpoint(
    request: HttpRequest, touchpoint: Touchpoint, changes: dict[str, Any]
) -> Touchpoint:
    user = _write_allowed(request)
    account = _account_for(changes, touchpoint)
    author_id = _author(changes.pop("author_id", None))
    for name in ("channel", "rating"):
        if name in changes and changes[name] is None:
            changes[name] = ""  # not given / not rated
    renames = {"contacts": "contact_ids"}
    before = _before(touchpoint)
    data = _data(TouchpointForm, touchpoint, changes, renames)
    form = TouchpointForm(data, instance=touchpoint, account=account)

    def prepare(instance: Touchpoint) -> None:
        if author_id is not None:
            instance.author_id = author_id
        elif instance.pk is None:
            instance.author = user

    return rest.save_form(user, form, before, renames, prepare=prepare)


def _search_touchpoints(
    request: HttpRequest, filters: TouchpointQuery
) -> models.QuerySet[Touchpoint]:
    result = Touchpoint.objects.all()
    if filters.contact_id:
        result = result.filter(contacts__id=filters.contact_id)
    if filters.occurred_after:
        result = result.filter(occurred_at__gte=rest.aware(filters.occurred_after))
    if filters.occurred_before:
        result = result.filter(occurred_at__lt=rest.aware(filters.occurred_before))
    return result


TOUCHPOINTS = Resource(
    model=Touchpoint,
    name="touchpoint",
    plural="touchpoints",
    noun="a touchpoint",
    out=TouchpointOut,
    page=TouchpointList,
    query=TouchpointQuery,
    create=TouchpointCreate,
    patch=TouchpointPatch,
    save=_save_touchpoint,
    search=_search_touchpoints,
    exact=("account_id", "kind", "channel", "rating", "author_id"),
    orderings={
        "occurred_at": ("occurred_at", "id"),
        "-occurred_at": ("-occurred_at", "-id"),
        **CHILD_ORDERINGS,
    },
    page_rows=_touchpoint_page,
    missing=gettext_lazy("No touchpoint has this id."),
    prefetch_on_read=("contacts",),
    select_on_write=("account",),
    summaries={"create": "Log a touchpoint"},
)


router.add_router("/accounts", routes(ACCOUNTS))
router.add_router("/contacts", routes(CONTACTS))
router.add_router("/subscriptions", routes(SUBSCRIPTIONS))
router.add_router("/opportunities", routes(OPPORTUNITIES))
router.add_router("/touchpoints", routes(TOUCHPOINTS))

# Batch serializers for webhook payloads: the same representation as the REST API.
serialize_accounts = _serialize(AccountOut)
serialize_contacts = _serialize(ContactOut)
serialize_subscriptions = _serialize(SubscriptionOut)
serialize_opportunities = _serialize(OpportunityOut)
serialize_touchpoints = _serialize_touchpoints
