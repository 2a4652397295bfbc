"""The write side of Customer 360 — the only module other apps import to change customers.

Every change goes through here so that it is validated, audited in the same transaction, and
followed by the rollups it affects (ARR, MRR, renewal date and tier of the account).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Case, Count, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Cast, Coalesce
from django.forms import ModelForm
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.core import audit, conditions, events
from kizuna.core.conditions import Context
from kizuna.core.models import User
from kizuna.customers.choices import LIVE_SUBSCRIPTION_STATUSES, CustomFieldType, Tier, TierMode
from kizuna.customers.models import (
    Account,
    CustomFieldDefinition,
    Subscription,
    TierChange,
    TierPolicy,
)


@transaction.atomic
def save_form[M: models.Model](
    actor: User | None, form: ModelForm[M], before: audit.Snapshot | None
) -> M:
    """Save a validated model form and log it: a create when `before` is None, else an update.

    `before` is the `audit.snapshot` of the instance taken before the form was bound.
    """
    instance = form.save()
    if before is None:
        entry = audit.record_create(actor, instance)
        _publish(instance, instance.pk, "created", entry.changes, actor)
    else:
        updated = audit.record_update(actor, instance, before)
        if updated is not None:
            _publish(instance, instance.pk, "updated", updated.changes, actor)
    _after_change(instance)
    return instance


@transaction.atomic
def set_custom_value(actor: User | None, account: Account, key: str, raw: Any) -> Account:
    """Set one custom field of an account (an empty value removes it), audited and published
    like an edit. Raises ValidationError naming the field; then nothing changes."""
    definition = CustomFieldDefinition.objects.filter(key=key).first()
    if definition is None:
        raise ValidationError({key: _("There is no custom field “%(key)s”.") % {"key": key}})
    try:
        value = clean_custom_value(definition, raw)
    except ValidationError as exc:
        raise ValidationError({key: exc.messages}) from None
    locked = Account.objects.select_for_update().get(pk=account.pk)
    before = audit.snapshot(locked)
    attributes = dict(locked.custom_attributes or {})
    if value is None:
        attributes.pop(key, None)
    else:
        attributes[key] = value
    if attributes == locked.custom_attributes:
        return locked
    locked.custom_attributes = attributes
    locked.save(update_fields=["custom_attributes", "updated_at"])
    account.custom_attributes = attributes
    updated = audit.record_update(actor, locked, before)
    if updated is not None:
        _publish(locked, locked.pk, "updated", updated.changes, actor)
    return locked


@transaction.atomic
def delete(actor: User | None, instance: models.Model) -> None:
    object_id = instance.pk
    instance.delete()
    entry = audit.record_delete(actor, instance, object_id)
    _publish(instance, object_id, "deleted", entry.changes, actor)
    _after_change(instance)


def _publish(
    instance: models.Model,
    object_id: Any,
    action: str,
    changes: dict[str, list[str]],
    actor: User | None,
) -> None:
    events.publish(
        events.DomainEvent(
            type=events.event_name(instance, action),
            instance=instance,
            object_id=object_id,
            changes=changes,
            actor_id=actor.pk if actor is not None else None,
        )
    )


def _after_change(instance: models.Model) -> None:
    if isinstance(instance, Subscription):
        refresh_rollups([instance.account_id])


def refresh_rollups(account_ids: Iterable[int] | None = None) -> int:
    """Recompute ARR, MRR, seats, next renewal date and tier from subscriptions, set-based.

    One UPDATE over the given accounts (all accounts when None), whatever their number.
    Only live subscriptions (trial, active) in the default currency count.
    """
    today = timezone.localdate()
    live = Subscription.objects.filter(
        account=OuterRef("pk"),
        status__in=LIVE_SUBSCRIPTION_STATUSES,
        currency=settings.DEFAULT_CURRENCY,
    )

    def total(field: str) -> Coalesce:
        summed = live.order_by().values("account").annotate(total=Sum(field)).values("total")
        return Coalesce(Subquery(summed), Value(Decimal(0)), output_field=models.DecimalField())

    next_renewal = (
        Subscription.objects.filter(
            account=OuterRef("pk"),
            status__in=LIVE_SUBSCRIPTION_STATUSES,
            end_date__gte=today,
        )
        .order_by("end_date")
        .values("end_date")[:1]
    )
    accounts = Account.objects.all()
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
    seats = (
        Subscription.objects.filter(account=OuterRef("pk"), status__in=LIVE_SUBSCRIPTION_STATUSES)
        .order_by()
        .values("account")
        .annotate(total=Sum("seats"))
        .values("total")
    )
    updated = accounts.update(
        arr=total("arr"),
        mrr=total("mrr"),
        next_renewal_date=Subquery(next_renewal),
        seats=Coalesce(Subquery(seats), Value(0), output_field=models.IntegerField()),
    )
    policy = TierPolicy.current()
    if policy.mode == TierMode.ARR:
        apply_tiers(accounts, policy=policy)
    # In conditions mode the rules decide, and may read more than ARR: the contract change
    # marked these accounts for recomputation, and the "tiers" recompute step re-tiers them.
    return updated


# --- Tiers ------------------------------------------------------------------------------

# The domain event of a tier change; its instance is the TierChange.
TIER_CHANGED = "tier.changed"


def tier_expression(policy: TierPolicy) -> Case:
    return Case(
        When(arr__gte=policy.high_touch_min_arr, then=Value(Tier.HIGH_TOUCH.value)),
        When(arr__gte=policy.low_touch_min_arr, then=Value(Tier.LOW_TOUCH.value)),
        default=Value(Tier.TECH_TOUCH.value),
    )


def tier_target(
    policy: TierPolicy, accounts: models.QuerySet[Account], ctx: Context | None = None
) -> Case:
    """The tier each account of `accounts` should have under `policy`, as an expression.

    ARR mode: the thresholds. Conditions mode: the high-touch tree first, then the low-touch
    tree, else tech touch — each compiled over `accounts` (one subquery, not a query per
    account)."""
    if policy.mode != TierMode.CONDITIONS:
        return tier_expression(policy)
    ctx = ctx or Context.now()
    base = accounts.order_by()
    high = conditions.parse(policy.high_touch_conditions, check=False)
    low = conditions.parse(policy.low_touch_conditions, check=False)
    return Case(
        When(
            pk__in=conditions.matching(high, base, ctx).values("pk"),
            then=Value(Tier.HIGH_TOUCH.value),
        ),
        When(
            pk__in=conditions.matching(low, base, ctx).values("pk"),
            then=Value(Tier.LOW_TOUCH.value),
        ),
        default=Value(Tier.TECH_TOUCH.value),
    )


def apply_tiers(
    accounts: models.QuerySet[Account] | None = None,
    *,
    policy: TierPolicy | None = None,
    ctx: Context | None = None,
) -> list[TierChange]:
    """Set the tier of `accounts` (every account when None) from the current policy.

    Set-based whatever the number of accounts: one INSERT … SELECT records a `TierChange`
    for each account whose tier differs, then one UPDATE sets the tiers; a `tier.changed`
    domain event is published per change. Running it again changes nothing. Returns the
    changes recorded."""
    accounts = (Account.objects.all() if accounts is None else accounts).order_by()
    policy = policy or TierPolicy.current()
    target = tier_target(policy, accounts, ctx)
    changing = accounts.filter(~Q(tier=target))
    changes = _record_tier_changes(changing, target, policy)
    if changes:
        changing.update(tier=target)
        events.publish_many(
            [
                events.DomainEvent(
                    type=TIER_CHANGED,
                    instance=change,
                    object_id=change.pk,
                    changes={"tier": [change.from_tier, change.to_tier]},
                )
                for change in changes
            ]
        )
    return changes


def _record_tier_changes(
    changing: models.QuerySet[Account], target: Case, policy: TierPolicy
) -> list[TierChange]:
    """INSERT … SELECT one TierChange per account of `changing`, RETURNING what was written
    (both SQLite and PostgreSQL return rows from an INSERT)."""
    now = timezone.now()
    snapshot = policy.snapshot()
    columns: dict[str, Any] = {
        "account_id": F("pk"),
        "from_tier": F("tier"),
        "to_tier": target,
        "arr": F("arr"),
        "changed_at": Value(now, output_field=models.DateTimeField()),
        "policy": Cast(Value(json.dumps(snapshot)), output_field=models.JSONField()),
    }
    select = changing.annotate(**{f"new_{name}": value for name, value in columns.items()})
    select = select.values_list(*(f"new_{name}" for name in columns))
    sql, params = select.query.get_compiler(connection=connection).as_sql()
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in columns)  # the keys are the column names
    returning = ", ".join(
        quote(name) for name in ("id", "account_id", "from_tier", "to_tier", "arr")
    )
    table = quote(TierChange._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) {sql} RETURNING {returning}", params)
        rows = cursor.fetchall()
    return [
        TierChange(
            pk=pk,
            account_id=account_id,
            from_tier=from_tier,
            to_tier=to_tier,
            arr=Decimal(str(arr)).quantize(Decimal("0.01")),
            changed_at=now,
            policy=snapshot,
        )
        for pk, account_id, from_tier, to_tier, arr in rows
    ]


def preview_tier_changes(policy: TierPolicy) -> dict[tuple[str, str], int]:
    """How many accounts would move from one tier to another if `policy` (saved or not)
    applied now: {(from, to): count}, from one GROUP BY query."""
    accounts = Account.objects.order_by()
    target = tier_target(policy, accounts)
    rows = (
        accounts.annotate(target_tier=target)
        .filter(~Q(tier=F("target_tier")))
        .values("tier", "target_tier")
        .annotate(count=Count("id"))
        .values_list("tier", "target_tier", "count")
    )
    return {(from_tier, to_tier): count for from_tier, to_tier, count in rows}


@transaction.atomic
def update_tier_policy(
    actor: User | None, policy: TierPolicy, before: audit.Snapshot
) -> list[TierChange]:
    """Save the policy (validated) and re-tier every account at once, with history.
    Returns the tier changes it made."""
    policy.full_clean()
    policy.save()
    audit.record_update(actor, policy, before)
    return apply_tiers(policy=policy)


def custom_field_definitions() -> list[CustomFieldDefinition]:
    return list(CustomFieldDefinition.objects.all())


def clean_custom_value(definition: CustomFieldDefinition, raw: Any) -> Any:
    """Turn a submitted value into its stored JSON form, or raise ValidationError.

    Stored forms: text → str, number → int or float, date → "YYYY-MM-DD", yes/no → bool,
    choice → one of the definition's choices. Empty values are stored as absent.
    """
    if raw in (None, "", []):
        if definition.required and definition.field_type != CustomFieldType.BOOLEAN:
            raise ValidationError(_("This field is required."))
        return None
    kind = definition.field_type
    if kind == CustomFieldType.TEXT:
        return str(raw).strip()
    if kind == CustomFieldType.NUMBER:
        try:
            number = Decimal(str(raw))
        except ArithmeticError:
            raise ValidationError(_("Enter a number.")) from None
        if not number.is_finite():
            raise ValidationError(_("Enter a number."))
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == CustomFieldType.DATE:
        if isinstance(raw, datetime.date):
            return raw.isoformat()
        try:
            return datetime.date.fromisoformat(str(raw)).isoformat()
        except ValueError:
            raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from None
    if kind == CustomFieldType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ValidationError(_("Enter yes or no."))
    if str(raw) not in definition.choices:
        raise ValidationError(
            _("“%(value)s” is not one of the choices.") % {"value": raw},
        )
    return str(raw)


def clean_custom_attributes(
    values: dict[str, Any], definitions: list[CustomFieldDefinition]
) -> dict[str, Any]:
    """Validate a whole `custom_attributes` dictionary against the definitions.

    Raises one ValidationError whose dictionary names each offending key.
    """
    known = {definition.key: definition for definition in definitions}
    errors: dict[str, list[str]] = {}
    for key in values:
        if key not in known:
            errors[key] = [_("There is no custom field “%(key)s”.") % {"key": key}]
    cleaned: dict[str, Any] = {}
    for key, definition in known.items():
        try:
            value = clean_custom_value(definition, values.get(key))
        except ValidationError as exc:
            errors[key] = exc.messages
            continue
        if value is not None:
            cleaned[key] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def delete_custom_field(actor: User | None, definition: CustomFieldDefinition) -> int:
    """Delete a definition and remove its values from every account, in one UPDATE.

    Returns the number of accounts that had a value.
    """
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET custom_attributes = custom_attributes - %s "  # noqa: S608
                "WHERE custom_attributes ? %s",
                [definition.key, definition.key],
            )
        else:
            path = f'$."{definition.key}"'
            cursor.execute(
                f"UPDATE {table} SET custom_attributes = json_remove(custom_attributes, %s) "  # noqa: S608
                "WHERE json_type(custom_attributes, %s) IS NOT NULL",
                [path, path],
            )
        changed = cursor.rowcount
    delete(actor, definition)
    return changed
