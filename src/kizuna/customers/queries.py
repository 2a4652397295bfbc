"""The read side of Customer 360: the account list and the portfolio aggregates.

Aggregates are single GROUP BY queries over all accounts, never loops per account.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from kizuna.core.models import User
from kizuna.customers import search
from kizuna.customers.choices import CustomFieldType, LifecycleStage, Tier
from kizuna.customers.models import Account, CustomFieldDefinition, Touchpoint

SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name_kana", "name", "id"),
    "-arr": ("-arr", "id"),
    "arr": ("arr", "id"),
    "renewal": ("next_renewal_date", "id"),
    "-updated": ("-updated_at", "id"),
}
RENEWAL_WINDOWS = (30, 60, 90, 180, 365)


@dataclass
class AccountFilter:
    """The account list's filters, parsed from the query string (bad values are ignored and
    reported in `errors`, so a hand-edited URL never breaks the page)."""

    q: str = ""
    owner: str = ""  # "", "me", "none" or a user id
    tier: str = ""
    stage: str = ""
    industry: str = ""
    renewal_within: int | None = None
    custom: dict[str, str] = field(default_factory=dict)
    sort: str = "name"
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, params: Any, definitions: list[CustomFieldDefinition]) -> AccountFilter:
        result = cls(q=params.get("q", "").strip()[:200])
        owner = params.get("owner", "")
        if owner in ("me", "none") or owner.isdigit():
            result.owner = owner
        if params.get("tier", "") in Tier.values:
            result.tier = params["tier"]
        if params.get("stage", "") in LifecycleStage.values:
            result.stage = params["stage"]
        from kizuna.customers.choices import Industry

        if params.get("industry", "") in Industry.values:
            result.industry = params["industry"]
        renewal = params.get("renewal", "")
        if renewal.isdigit() and int(renewal) in RENEWAL_WINDOWS:
            result.renewal_within = int(renewal)
        if params.get("sort", "name") in SORTS:
            result.sort = params.get("sort", "name")
        for definition in definitions:
            if not definition.filterable:
                continue
            value = params.get(f"cf_{definition.key}", "").strip()
            if value:
                result.custom[definition.key] = value
        return result

    @property
    def active(self) -> bool:
        return bool(
            self.q
            or self.owner
            or self.tier
            or self.stage
            or self.industry
            or self.renewal_within
            or self.custom
        )


def accounts_for(
    spec: AccountFilter, user: User, definitions: list[CustomFieldDefinition]
) -> QuerySet[Account]:
    accounts = Account.objects.select_related("owner")
    if spec.q:
        needle = search.normalize(spec.q)
        if needle:
            accounts = accounts.filter(search_text__contains=needle)
    if spec.owner == "me":
        accounts = accounts.filter(owner=user)
    elif spec.owner == "none":
        accounts = accounts.filter(owner__isnull=True)
    elif spec.owner:
        accounts = accounts.filter(owner_id=int(spec.owner))
    if spec.tier:
        accounts = accounts.filter(tier=spec.tier)
    if spec.stage:
        accounts = accounts.filter(stage=spec.stage)
    if spec.industry:
        accounts = accounts.filter(industry=spec.industry)
    if spec.renewal_within:
        today = timezone.localdate()
        accounts = accounts.filter(
            next_renewal_date__gte=today,
            next_renewal_date__lte=today + datetime.timedelta(days=spec.renewal_within),
        )
    by_key = {definition.key: definition for definition in definitions}
    for key, value in spec.custom.items():
        definition = by_key[key]
        lookup = f"custom_attributes__{key}"
        if definition.field_type == CustomFieldType.BOOLEAN:
            accounts = accounts.filter(**{lookup: value == "true"})
        elif definition.field_type == CustomFieldType.TEXT:
            accounts = accounts.filter(**{f"{lookup}__icontains": value})
        elif definition.field_type == CustomFieldType.NUMBER:
            try:
                accounts = accounts.filter(**{lookup: Decimal(value)})
            except ArithmeticError:
                spec.errors.append(key)
        else:
            accounts = accounts.filter(**{lookup: value})
    return accounts.order_by(*SORTS[spec.sort])


# Below this many matches, a search page is fetched by sorting just the matches; above it, by
# walking the sort order's index until a page is full (matches are then dense).
SPARSE_MATCHES = 5000


def account_page(
    spec: AccountFilter,
    user: User,
    definitions: list[CustomFieldDefinition],
    number: str | int | None,
    per_page: int,
) -> Page[Account]:
    """One page of the account list and its total, with a plan that stays fast whatever
    the search matches.

    A partial-match search cannot use an index to find its rows. Walking the sort index and
    testing each row is quick when matches are many, slow when they are few; collecting the
    few matches from the narrow search index and sorting them is the reverse. The total,
    which the page needs anyway, tells which case this is.
    """
    accounts = accounts_for(spec, user, definitions)
    paginator = Paginator(accounts, per_page)
    if spec.q and paginator.count <= SPARSE_MATCHES:
        # `count` is cached on the paginator, so swapping the row query keeps it.
        paginator.object_list = (
            Account.objects.filter(pk__in=accounts.values("pk"))
            .select_related("owner")
            .order_by(*SORTS[spec.sort])
        )
    return paginator.get_page(number)


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    accounts: int
    arr: Decimal
    share: float  # 0–100, of the largest bucket's ARR, for bar widths


def _buckets(
    field_name: str, choices: list[tuple[str, Any]], scope: QuerySet[Account]
) -> list[Bucket]:
    rows = {
        row[field_name]: row
        for row in scope.order_by().values(field_name).annotate(n=Count("id"), total=Sum("arr"))
    }
    largest = max((row["total"] or Decimal(0) for row in rows.values()), default=Decimal(0))
    buckets = []
    for key, label in choices:
        row = rows.get(key, {"n": 0, "total": Decimal(0)})
        arr = row["total"] or Decimal(0)
        share = float(arr / largest * 100) if largest else 0.0
        buckets.append(Bucket(key=key, label=str(label), accounts=row["n"], arr=arr, share=share))
    return buckets


def arr_by_tier(scope: QuerySet[Account]) -> list[Bucket]:
    return _buckets("tier", Tier.choices, scope)


def arr_by_stage(scope: QuerySet[Account]) -> list[Bucket]:
    return _buckets("stage", LifecycleStage.choices, scope)


@dataclass(frozen=True)
class PortfolioTotals:
    accounts: int
    arr: Decimal
    renewals_90d: int
    renewals_90d_arr: Decimal


def portfolio_totals(scope: QuerySet[Account]) -> PortfolioTotals:
    today = timezone.localdate()
    window = Q(
        next_renewal_date__gte=today,
        next_renewal_date__lte=today + datetime.timedelta(days=90),
    )
    live = scope.exclude(stage=LifecycleStage.CHURNED)
    row = live.aggregate(
        accounts=Count("id"),
        total_arr=Sum("arr"),
        renewals=Count("id", filter=window),
        renewals_arr=Sum("arr", filter=window),
    )
    return PortfolioTotals(
        accounts=row["accounts"],
        arr=row["total_arr"] or Decimal(0),
        renewals_90d=row["renewals"],
        renewals_90d_arr=row["renewals_arr"] or Decimal(0),
    )


def renewals_due(scope: QuerySet[Account], days: int = 90, limit: int = 10) -> QuerySet[Account]:
    today = timezone.localdate()
    return (
        scope.filter(
            next_renewal_date__gte=today,
            next_renewal_date__lte=today + datetime.timedelta(days=days),
        )
        .select_related("owner")
        .order_by("next_renewal_date", "id")[:limit]
    )


def recent_touchpoints(user: User | None, limit: int = 8) -> QuerySet[Touchpoint]:
    touchpoints = Touchpoint.objects.select_related("account", "author")
    if user is not None:
        touchpoints = touchpoints.filter(account__owner=user)
    return touchpoints.order_by("-occurred_at", "-id")[:limit]
