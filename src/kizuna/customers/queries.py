"""The read side of Customer 360: the account list and the portfolio aggregates.

Aggregates are single GROUP BY queries over all accounts, never loops per account.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.functional import cached_property

from kizuna.core.models import User
from kizuna.customers import search
from kizuna.customers.choices import CustomFieldType, LifecycleStage, Tier
from kizuna.customers.models import Account, CustomFieldDefinition, Touchpoint
from kizuna.customers.services import clean_custom_value

SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name_kana", "name", "id"),
    "-arr": ("-arr", "id"),
    "arr": ("arr", "id"),
    "renewal": ("next_renewal_date", "id"),
    "-updated": ("-updated_at", "id"),
    # Logins in the last 30 days, from the usage app's rollups (see with_usage below).
    "-logins": ("-logins_30d", "id"),
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
                # Compare with the stored JSON form (int or float), see services.clean_custom_value.
                accounts = accounts.filter(**{lookup: clean_custom_value(definition, value)})
            except ValidationError:
                spec.errors.append(key)
        else:
            accounts = accounts.filter(**{lookup: value})
    return with_usage(accounts).order_by(*SORTS[spec.sort])


def with_usage(accounts: QuerySet[Account]) -> QuerySet[Account]:
    """Accounts with `logins_30d`, joined in the same query (the list shows and sorts it)."""
    from kizuna.usage import queries as usage_queries

    return usage_queries.with_logins_30d(accounts)


# Up to this many matches, a search page is built from the list of matching ids; beyond it,
# by walking the sort order's index until a page is full (matches are then dense).
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
    testing each row is quick when matches are many and slow when they are few. So the
    matching ids are first collected in one scan of the narrow search index, stopping past
    SPARSE_MATCHES: when fewer, the total and the page come from that id list.
    """
    accounts = accounts_for(spec, user, definitions)
    if spec.q:
        matches = list(accounts.order_by().values_list("pk", flat=True)[: SPARSE_MATCHES + 1])
        if len(matches) <= SPARSE_MATCHES:
            rows = with_usage(
                Account.objects.filter(pk__in=matches).select_related("owner")
            ).order_by(*SORTS[spec.sort])
            return _CountedPaginator(rows, per_page, len(matches)).get_page(number)
    if spec.sort == "-logins":
        from kizuna.usage.queries import AccountsByLogins

        return Paginator(AccountsByLogins(accounts), per_page).get_page(number)  # type: ignore[arg-type]
    return Paginator(accounts, per_page).get_page(number)


class _CountedPaginator(Paginator):
    """A paginator told its total, so it does not count again."""

    def __init__(self, object_list: QuerySet[Account], per_page: int, total: int) -> None:
        super().__init__(object_list, per_page)
        self.total = total

    @cached_property
    def count(self) -> int:
        return self.total


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    accounts: int
    arr: Decimal
    share: float  # 0–100, of the largest bucket's ARR, for bar widths


@dataclass(frozen=True)
class Portfolio:
    """A book of accounts in figures: live totals, renewals due, ARR by tier and by stage."""

    accounts: int
    arr: Decimal
    renewals_90d: int
    renewals_90d_arr: Decimal
    by_tier: list[Bucket]
    by_stage: list[Bucket]


def _buckets(
    totals: dict[str, tuple[int, Decimal]], choices: list[tuple[str, Any]]
) -> list[Bucket]:
    largest = max((arr for _count, arr in totals.values()), default=Decimal(0))
    buckets = []
    for key, label in choices:
        count, arr = totals.get(key, (0, Decimal(0)))
        share = float(arr / largest * 100) if largest else 0.0
        buckets.append(Bucket(key=key, label=str(label), accounts=count, arr=arr, share=share))
    return buckets


def portfolio(scope: QuerySet[Account]) -> Portfolio:
    """All the home page's figures from one GROUP BY tier, stage over `scope`.

    Churned accounts count in the stage chart only: they are no longer in any tier's book
    and their ARR is zero.
    """
    today = timezone.localdate()
    window = Q(
        next_renewal_date__gte=today,
        next_renewal_date__lte=today + datetime.timedelta(days=90),
    )
    rows = (
        scope.order_by()
        .values("tier", "stage")
        .annotate(
            n=Count("id"),
            total=Sum("arr"),
            renewals=Count("id", filter=window),
            renewals_arr=Sum("arr", filter=window),
        )
    )
    by_tier: dict[str, tuple[int, Decimal]] = {}
    by_stage: dict[str, tuple[int, Decimal]] = {}
    accounts, total_arr, renewals, renewals_arr = 0, Decimal(0), 0, Decimal(0)
    for row in rows:
        arr = row["total"] or Decimal(0)
        count, stage_arr = by_stage.get(row["stage"], (0, Decimal(0)))
        by_stage[row["stage"]] = (count + row["n"], stage_arr + arr)
        if row["stage"] == LifecycleStage.CHURNED:
            continue
        count, tier_arr = by_tier.get(row["tier"], (0, Decimal(0)))
        by_tier[row["tier"]] = (count + row["n"], tier_arr + arr)
        accounts += row["n"]
        total_arr += arr
        renewals += row["renewals"]
        renewals_arr += row["renewals_arr"] or Decimal(0)
    return Portfolio(
        accounts=accounts,
        arr=total_arr,
        renewals_90d=renewals,
        renewals_90d_arr=renewals_arr,
        by_tier=_buckets(by_tier, Tier.choices),
        by_stage=_buckets(by_stage, LifecycleStage.choices),
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
