"""Customer 360 in the REST API: accounts, contacts, subscriptions, opportunities and
touchpoints (mounted at /api/v1/ by kizuna.api.api).

Handlers are thin: they bind the JSON to the same model forms the UI uses and save through
customers.services, so validation, the audit log, rollups and domain events (webhooks) are
exactly those of the UI. The `…Out` schemas are also the `data.object` of webhook payloads.
"""

import datetime
from collections.abc import Mapping, Sequence
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
from ninja import Field, Query, Router, Schema, Status

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


class AccountList(Schema):
    count: int
    limit: int
    offset: int
    results: list[AccountOut]


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


accounts = Router(tags=["Accounts"])
ACCOUNT = gettext_lazy("No account has this id.")


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


@accounts.get("", response={200: AccountList, **READ_ERRORS}, summary="List accounts")
def list_accounts(request: HttpRequest, filters: Query[AccountQuery]) -> dict[str, Any]:
    """Accounts with the account list's filters, ordered and paginated."""
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
    if filters.region:
        result = result.filter(region=filters.region)
    if filters.external_id is not None:
        result = result.filter(external_id=filters.external_id)
    result = _since(result, filters.updated_since)
    result = rest.order(result, filters.ordering, ACCOUNT_ORDERINGS)
    return rest.page(result, filters)


@accounts.post("", response={201: AccountOut, **WRITE_ERRORS}, summary="Create an account")
def create_account(request: HttpRequest, payload: AccountCreate) -> Status[Account]:
    account = _save_account(request, Account(), payload.model_dump(exclude_unset=True))
    return Status(201, account)


@accounts.get(
    "/by-external-id/{path:external_id}",
    response={200: AccountOut, **ITEM_ERRORS},
    summary="Get an account by external id",
)
def get_account_by_external_id(request: HttpRequest, external_id: str) -> Account:
    account = _by_external_id(Account.objects.all(), external_id)
    if account is None:
        raise rest.not_found(_("No account has this external id."))
    return account


@accounts.put(
    "/by-external-id/{path:external_id}",
    response={200: AccountOut, 201: AccountOut, **WRITE_ERRORS},
    summary="Create or update an account by external id",
)
def upsert_account(
    request: HttpRequest, external_id: str, payload: AccountUpsert
) -> Status[Account]:
    """Idempotent sync from a CRM: creates the account when no account has this external
    id (201), otherwise updates the fields sent (200)."""
    existing = _by_external_id(Account.objects.all(), external_id)
    changes = payload.model_dump(exclude_unset=True)
    rest.same_external_id(changes, external_id)
    account = _save_account(request, existing or Account(), changes)
    return Status(200 if existing else 201, account)


@accounts.get("/{account_id}", response={200: AccountOut, **ITEM_ERRORS}, summary="Get an account")
def get_account(request: HttpRequest, account_id: int) -> Account:
    return _get(Account.objects.all(), account_id, ACCOUNT)


@accounts.patch(
    "/{account_id}", response={200: AccountOut, **WRITE_ERRORS}, summary="Update an account"
)
def update_account(request: HttpRequest, account_id: int, payload: AccountPatch) -> Account:
    account = _get(Account.objects.all(), account_id, ACCOUNT)
    return _save_account(request, account, payload.model_dump(exclude_unset=True))


@accounts.delete("/{account_id}", response={204: None, **ITEM_ERRORS}, summary="Delete an account")
def delete_account(request: HttpRequest, account_id: int) -> Status[None]:
    """Deletes the account with its contacts, subscriptions, opportunities and touchpoints.
    Managers and admins only, as in the UI."""
    user = rest.acting_user(request)
    account = _get(Account.objects.all(), account_id, ACCOUNT)
    rest.require(user.can_configure, _("Only managers and admins delete accounts."))
    services.delete(user, account)
    return Status(204, None)


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


class ContactList(Schema):
    count: int
    limit: int
    offset: int
    results: list[ContactOut]


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


contacts = Router(tags=["Contacts"])
CONTACT = gettext_lazy("No contact has this id.")
CONTACT_ORDERINGS = {
    "name": ("name_kana", "name", "id"),
    "-name": ("-name_kana", "-name", "-id"),
    **CHILD_ORDERINGS,
}


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


def _save_child[M: models.Model](
    request: HttpRequest,
    form_class: type[ModelForm[M]],
    instance: M,
    changes: dict[str, Any],
    renames: Mapping[str, str] | None = None,
) -> M:
    user = _write_allowed(request)
    account = _account_for(changes, instance)
    renames = renames or {}
    before = _before(instance)
    form = form_class(_data(form_class, instance, changes, renames), instance=instance)
    form.instance.account = account  # type: ignore[attr-defined]
    return rest.save_form(user, form, before, renames)


@contacts.get("", response={200: ContactList, **READ_ERRORS}, summary="List contacts")
def list_contacts(request: HttpRequest, filters: Query[ContactQuery]) -> dict[str, Any]:
    result = Contact.objects.all()
    if filters.account_id:
        result = result.filter(account_id=filters.account_id)
    if filters.q:
        result = result.filter(
            Q(name__icontains=filters.q)
            | Q(name_kana__icontains=filters.q)
            | Q(email__icontains=filters.q)
        )
    for name in ("email", "external_id", "product_user_id", "is_champion", "is_decision_maker"):
        value = getattr(filters, name)
        if value is not None:
            result = result.filter(**{name: value})
    result = _since(result, filters.updated_since)
    return rest.page(rest.order(result, filters.ordering, CONTACT_ORDERINGS), filters)


@contacts.post("", response={201: ContactOut, **WRITE_ERRORS}, summary="Create a contact")
def create_contact(request: HttpRequest, payload: ContactCreate) -> Status[Contact]:
    contact = _save_child(request, ContactForm, Contact(), payload.model_dump(exclude_unset=True))
    return Status(201, contact)


@contacts.get(
    "/by-external-id/{path:external_id}",
    response={200: ContactOut, **ITEM_ERRORS},
    summary="Get a contact by external id",
)
def get_contact_by_external_id(request: HttpRequest, external_id: str) -> Contact:
    contact = _by_external_id(Contact.objects.all(), external_id)
    if contact is None:
        raise rest.not_found(_("No contact has this external id."))
    return contact


@contacts.put(
    "/by-external-id/{path:external_id}",
    response={200: ContactOut, 201: ContactOut, **WRITE_ERRORS},
    summary="Create or update a contact by external id",
)
def upsert_contact(
    request: HttpRequest, external_id: str, payload: ContactUpsert
) -> Status[Contact]:
    existing = _by_external_id(Contact.objects.select_related("account"), external_id)
    changes = payload.model_dump(exclude_unset=True)
    rest.same_external_id(changes, external_id)
    contact = _save_child(request, ContactForm, existing or Contact(), changes)
    return Status(200 if existing else 201, contact)


@contacts.get("/{contact_id}", response={200: ContactOut, **ITEM_ERRORS}, summary="Get a contact")
def get_contact(request: HttpRequest, contact_id: int) -> Contact:
    return _get(Contact.objects.all(), contact_id, CONTACT)


@contacts.patch(
    "/{contact_id}", response={200: ContactOut, **WRITE_ERRORS}, summary="Update a contact"
)
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch) -> Contact:
    contact = _get(Contact.objects.select_related("account"), contact_id, CONTACT)
    return _save_child(request, ContactForm, contact, payload.model_dump(exclude_unset=True))


@contacts.delete("/{contact_id}", response={204: None, **ITEM_ERRORS}, summary="Delete a contact")
def delete_contact(request: HttpRequest, contact_id: int) -> Status[None]:
    user = _write_allowed(request)
    services.delete(user, _get(Contact.objects.all(), contact_id, CONTACT))
    return Status(204, None)


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


class SubscriptionList(Schema):
    count: int
    limit: int
    offset: int
    results: list[SubscriptionOut]


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


subscriptions = Router(tags=["Subscriptions"])
SUBSCRIPTION = gettext_lazy("No subscription has this id.")
SUBSCRIPTION_ORDERINGS = {
    "start_date": ("start_date", "id"),
    "-start_date": ("-start_date", "-id"),
    "end_date": ("end_date", "id"),
    "-end_date": ("-end_date", "-id"),
    **CHILD_ORDERINGS,
}


@subscriptions.get(
    "", response={200: SubscriptionList, **READ_ERRORS}, summary="List subscriptions"
)
def list_subscriptions(request: HttpRequest, filters: Query[SubscriptionQuery]) -> dict[str, Any]:
    result = Subscription.objects.all()
    if filters.account_id:
        result = result.filter(account_id=filters.account_id)
    if filters.status:
        result = result.filter(status=filters.status)
    if filters.external_id is not None:
        result = result.filter(external_id=filters.external_id)
    if filters.ends_after:
        result = result.filter(end_date__gte=filters.ends_after)
    if filters.ends_before:
        result = result.filter(end_date__lte=filters.ends_before)
    result = _since(result, filters.updated_since)
    return rest.page(rest.order(result, filters.ordering, SUBSCRIPTION_ORDERINGS), filters)


@subscriptions.post(
    "", response={201: SubscriptionOut, **WRITE_ERRORS}, summary="Create a subscription"
)
def create_subscription(request: HttpRequest, payload: SubscriptionCreate) -> Status[Subscription]:
    """Creates a contract; the account's ARR, MRR, renewal date and tier follow."""
    changes = payload.model_dump(exclude_unset=True)
    return Status(201, _save_child(request, SubscriptionForm, Subscription(), changes))


@subscriptions.get(
    "/by-external-id/{path:external_id}",
    response={200: SubscriptionOut, **ITEM_ERRORS},
    summary="Get a subscription by external id",
)
def get_subscription_by_external_id(request: HttpRequest, external_id: str) -> Subscription:
    subscription = _by_external_id(Subscription.objects.all(), external_id)
    if subscription is None:
        raise rest.not_found(_("No subscription has this external id."))
    return subscription


@subscriptions.put(
    "/by-external-id/{path:external_id}",
    response={200: SubscriptionOut, 201: SubscriptionOut, **WRITE_ERRORS},
    summary="Create or update a subscription by external id",
)
def upsert_subscription(
    request: HttpRequest, external_id: str, payload: SubscriptionUpsert
) -> Status[Subscription]:
    existing = _by_external_id(Subscription.objects.select_related("account"), external_id)
    changes = payload.model_dump(exclude_unset=True)
    rest.same_external_id(changes, external_id)
    _derive_money(existing, changes)
    subscription = _save_child(request, SubscriptionForm, existing or Subscription(), changes)
    return Status(200 if existing else 201, subscription)


@subscriptions.get(
    "/{subscription_id}",
    response={200: SubscriptionOut, **ITEM_ERRORS},
    summary="Get a subscription",
)
def get_subscription(request: HttpRequest, subscription_id: int) -> Subscription:
    return _get(Subscription.objects.all(), subscription_id, SUBSCRIPTION)


def _derive_money(existing: Subscription | None, changes: dict[str, Any]) -> None:
    # As in the form: sending only MRR (or only ARR) derives the other from it, instead of
    # keeping a stored value that no longer matches.
    if existing is None:
        return
    if "mrr" in changes and "arr" not in changes:
        changes["arr"] = None
    elif "arr" in changes and "mrr" not in changes:
        changes["mrr"] = None


@subscriptions.patch(
    "/{subscription_id}",
    response={200: SubscriptionOut, **WRITE_ERRORS},
    summary="Update a subscription",
)
def update_subscription(
    request: HttpRequest, subscription_id: int, payload: SubscriptionPatch
) -> Subscription:
    subscription = _get(
        Subscription.objects.select_related("account"), subscription_id, SUBSCRIPTION
    )
    changes = payload.model_dump(exclude_unset=True)
    _derive_money(subscription, changes)
    return _save_child(request, SubscriptionForm, subscription, changes)


@subscriptions.delete(
    "/{subscription_id}", response={204: None, **ITEM_ERRORS}, summary="Delete a subscription"
)
def delete_subscription(request: HttpRequest, subscription_id: int) -> Status[None]:
    user = _write_allowed(request)
    services.delete(user, _get(Subscription.objects.all(), subscription_id, SUBSCRIPTION))
    return Status(204, None)


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


class OpportunityList(Schema):
    count: int
    limit: int
    offset: int
    results: list[OpportunityOut]


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


opportunities = Router(tags=["Opportunities"])
OPPORTUNITY = gettext_lazy("No opportunity has this id.")
OPPORTUNITY_ORDERINGS = {
    "close_date": ("close_date", "id"),
    "-close_date": ("-close_date", "-id"),
    "amount": ("amount", "id"),
    "-amount": ("-amount", "-id"),
    **CHILD_ORDERINGS,
}
_OWNER = {"owner": "owner_id"}


@opportunities.get("", response={200: OpportunityList, **READ_ERRORS}, summary="List opportunities")
def list_opportunities(request: HttpRequest, filters: Query[OpportunityQuery]) -> dict[str, Any]:
    result = Opportunity.objects.all()
    for name in ("account_id", "kind", "stage", "owner_id", "external_id"):
        value = getattr(filters, name)
        if value is not None:
            result = result.filter(**{name: value})
    closed = (OpportunityStage.WON, OpportunityStage.LOST)
    if filters.open is True:
        result = result.exclude(stage__in=closed)
    elif filters.open is False:
        result = result.filter(stage__in=closed)
    if filters.closes_before:
        result = result.filter(close_date__lte=filters.closes_before)
    result = _since(result, filters.updated_since)
    return rest.page(rest.order(result, filters.ordering, OPPORTUNITY_ORDERINGS), filters)


@opportunities.post(
    "", response={201: OpportunityOut, **WRITE_ERRORS}, summary="Create an opportunity"
)
def create_opportunity(request: HttpRequest, payload: OpportunityCreate) -> Status[Opportunity]:
    changes = payload.model_dump(exclude_unset=True)
    return Status(201, _save_child(request, ApiOpportunityForm, Opportunity(), changes, _OWNER))


@opportunities.get(
    "/by-external-id/{path:external_id}",
    response={200: OpportunityOut, **ITEM_ERRORS},
    summary="Get an opportunity by external id",
)
def get_opportunity_by_external_id(request: HttpRequest, external_id: str) -> Opportunity:
    opportunity = _by_external_id(Opportunity.objects.all(), external_id)
    if opportunity is None:
        raise rest.not_found(_("No opportunity has this external id."))
    return opportunity


@opportunities.put(
    "/by-external-id/{path:external_id}",
    response={200: OpportunityOut, 201: OpportunityOut, **WRITE_ERRORS},
    summary="Create or update an opportunity by external id",
)
def upsert_opportunity(
    request: HttpRequest, external_id: str, payload: OpportunityUpsert
) -> Status[Opportunity]:
    existing = _by_external_id(Opportunity.objects.select_related("account"), external_id)
    changes = payload.model_dump(exclude_unset=True)
    rest.same_external_id(changes, external_id)
    opportunity = _save_child(
        request, ApiOpportunityForm, existing or Opportunity(), changes, _OWNER
    )
    return Status(200 if existing else 201, opportunity)


@opportunities.get(
    "/{opportunity_id}", response={200: OpportunityOut, **ITEM_ERRORS}, summary="Get an opportunity"
)
def get_opportunity(request: HttpRequest, opportunity_id: int) -> Opportunity:
    return _get(Opportunity.objects.all(), opportunity_id, OPPORTUNITY)


@opportunities.patch(
    "/{opportunity_id}",
    response={200: OpportunityOut, **WRITE_ERRORS},
    summary="Update an opportunity",
)
def update_opportunity(
    request: HttpRequest, opportunity_id: int, payload: OpportunityPatch
) -> Opportunity:
    opportunity = _get(Opportunity.objects.select_related("account"), opportunity_id, OPPORTUNITY)
    changes = payload.model_dump(exclude_unset=True)
    return _save_child(request, ApiOpportunityForm, opportunity, changes, _OWNER)


@opportunities.delete(
    "/{opportunity_id}", response={204: None, **ITEM_ERRORS}, summary="Delete an opportunity"
)
def delete_opportunity(request: HttpRequest, opportunity_id: int) -> Status[None]:
    user = _write_allowed(request)
    services.delete(user, _get(Opportunity.objects.all(), opportunity_id, OPPORTUNITY))
    return Status(204, None)


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


class TouchpointList(Schema):
    count: int
    limit: int
    offset: int
    results: list[TouchpointOut]


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


touchpoints = Router(tags=["Touchpoints"])
TOUCHPOINT = gettext_lazy("No touchpoint has this id.")
TOUCHPOINT_ORDERINGS = {
    "occurred_at": ("occurred_at", "id"),
    "-occurred_at": ("-occurred_at", "-id"),
    **CHILD_ORDERINGS,
}


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


@touchpoints.get("", response={200: TouchpointList, **READ_ERRORS}, summary="List touchpoints")
def list_touchpoints(request: HttpRequest, filters: Query[TouchpointQuery]) -> dict[str, Any]:
    result = Touchpoint.objects.all()
    for name in ("account_id", "kind", "channel", "rating", "author_id"):
        value = getattr(filters, name)
        if value is not None:
            result = result.filter(**{name: value})
    if filters.contact_id:
        result = result.filter(contacts__id=filters.contact_id)
    if filters.occurred_after:
        result = result.filter(occurred_at__gte=rest.aware(filters.occurred_after))
    if filters.occurred_before:
        result = result.filter(occurred_at__lt=rest.aware(filters.occurred_before))
    result = _since(result, filters.updated_since)
    ordered = rest.order(result, filters.ordering, TOUCHPOINT_ORDERINGS)
    return rest.page(ordered, filters, _touchpoint_page)


@touchpoints.post("", response={201: TouchpointOut, **WRITE_ERRORS}, summary="Log a touchpoint")
def create_touchpoint(request: HttpRequest, payload: TouchpointCreate) -> Status[Touchpoint]:
    changes = payload.model_dump(exclude_unset=True)
    return Status(201, _save_touchpoint(request, Touchpoint(), changes))


@touchpoints.get(
    "/{touchpoint_id}", response={200: TouchpointOut, **ITEM_ERRORS}, summary="Get a touchpoint"
)
def get_touchpoint(request: HttpRequest, touchpoint_id: int) -> Touchpoint:
    return _get(Touchpoint.objects.prefetch_related("contacts"), touchpoint_id, TOUCHPOINT)


@touchpoints.patch(
    "/{touchpoint_id}",
    response={200: TouchpointOut, **WRITE_ERRORS},
    summary="Update a touchpoint",
)
def update_touchpoint(
    request: HttpRequest, touchpoint_id: int, payload: TouchpointPatch
) -> Touchpoint:
    touchpoint = _get(Touchpoint.objects.select_related("account"), touchpoint_id, TOUCHPOINT)
    return _save_touchpoint(request, touchpoint, payload.model_dump(exclude_unset=True))


@touchpoints.delete(
    "/{touchpoint_id}", response={204: None, **ITEM_ERRORS}, summary="Delete a touchpoint"
)
def delete_touchpoint(request: HttpRequest, touchpoint_id: int) -> Status[None]:
    user = _write_allowed(request)
    services.delete(user, _get(Touchpoint.objects.all(), touchpoint_id, TOUCHPOINT))
    return Status(204, None)


router.add_router("/accounts", accounts)
router.add_router("/contacts", contacts)
router.add_router("/subscriptions", subscriptions)
router.add_router("/opportunities", opportunities)
router.add_router("/touchpoints", touchpoints)

# Batch serializers for webhook payloads: the same representation as the REST API.
serialize_accounts = _serialize(AccountOut)
serialize_contacts = _serialize(ContactOut)
serialize_subscriptions = _serialize(SubscriptionOut)
serialize_opportunities = _serialize(OpportunityOut)
serialize_touchpoints = _serialize_touchpoints
