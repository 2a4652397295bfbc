"""Pages of Customer 360: home, the account list, the account 360, contacts, and the
settings for tiers and custom fields. Views parse, call a service or a query, and render."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.core import audit
from kizuna.core.models import Role, User
from kizuna.core.permissions import configure_required, write_required
from kizuna.customers import panels, queries, services, timeline
from kizuna.customers.choices import (
    LIVE_SUBSCRIPTION_STATUSES,
    Industry,
    LifecycleStage,
    Tier,
)
from kizuna.customers.forms import (
    CONTACT_ORDER,
    AccountForm,
    ContactForm,
    CustomFieldDefinitionForm,
    OpportunityForm,
    SubscriptionForm,
    TierPolicyForm,
    TouchpointForm,
)
from kizuna.customers.models import (
    Account,
    Contact,
    CustomFieldDefinition,
    Opportunity,
    Subscription,
    TierChange,
    TierPolicy,
    Touchpoint,
)

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- Home -------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    """A CSM's day starts here: their accounts, renewals coming up, recent touchpoints, and
    the portfolio by tier and stage. CSMs see their own book; others the whole portfolio."""
    user = _user(request)
    mine = Account.objects.filter(owner=user)
    own_book = user.role == Role.CSM or mine.exists()
    scope = mine if own_book else Account.objects.all()
    context = {
        "own_book": own_book,
        "portfolio": queries.portfolio(scope),
        "my_accounts": scope.exclude(stage=LifecycleStage.CHURNED)
        .select_related("owner")
        .order_by("-arr", "id")[:8],
        "renewals": queries.renewals_due(scope, days=90, limit=8),
        "touchpoints": queries.recent_touchpoints(user if own_book else None),
        "section": "home",
    }
    return render(request, "customers/home.html", context)


# --- Account list -----------------------------------------------------------------------


def account_list(request: HttpRequest) -> HttpResponse:
    definitions = services.custom_field_definitions()
    spec = queries.AccountFilter.from_query(request.GET, definitions)
    page = queries.account_page(
        spec, _user(request), definitions, request.GET.get("page"), PAGE_SIZE
    )
    context = {
        "section": "accounts",
        "page": page,
        "spec": spec,
        "filterable": [definition for definition in definitions if definition.filterable],
        "owners": User.objects.filter(is_active=True).exclude(role=Role.VIEWER),
        "tiers": Tier.choices,
        "stages": LifecycleStage.choices,
        "industries": Industry.choices,
        "renewal_windows": queries.RENEWAL_WINDOWS,
        "sorts": [
            ("name", _("Name")),
            ("-arr", _("ARR, highest first")),
            ("arr", _("ARR, lowest first")),
            ("renewal", _("Renewal date")),
            ("-updated", _("Recently updated")),
            ("-logins", _("Logins (30 days), most first")),
        ],
    }
    if request.htmx and request.htmx.target == "account-results":  # type: ignore[attr-defined]
        return render(request, "customers/partials/account_results.html", context)
    return render(request, "customers/account_list.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def account_export(request: HttpRequest) -> StreamingHttpResponse:
    """The current view of the account list (same filters and order) as CSV, streamed."""
    definitions = services.custom_field_definitions()
    spec = queries.AccountFilter.from_query(request.GET, definitions)
    accounts = queries.accounts_for(spec, _user(request), definitions)
    header = [
        "id",
        "external_id",
        "name",
        "name_kana",
        "domain",
        "industry",
        "employees",
        "region",
        "owner",
        "tier",
        "stage",
        "arr",
        "mrr",
        "next_renewal_date",
        *(f"custom.{definition.key}" for definition in definitions),
    ]

    def rows() -> Iterator[list[Any]]:
        yield header
        for account in accounts.iterator(chunk_size=2000):
            yield [
                account.pk,
                account.external_id or "",
                account.name,
                account.name_kana,
                account.domain,
                account.industry,
                account.employees or "",
                account.region,
                account.owner.username if account.owner else "",
                account.tier,
                account.stage,
                account.arr,
                account.mrr,
                account.next_renewal_date or "",
                *(account.custom_attributes.get(d.key, "") for d in definitions),
            ]

    writer = csv.writer(_Echo())
    # A byte-order mark so that Excel opens the Japanese text as UTF-8.
    stream = (
        ("\ufeff" if index == 0 else "") + writer.writerow(row) for index, row in enumerate(rows())
    )
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="kizuna-accounts-{stamp}.csv"'
    return response


# --- Forms shared by every create/edit page -----------------------------------------------


def _form_page(
    request: HttpRequest,
    form: ModelForm[Any],
    *,
    title: str,
    cancel_url: str,
    delete_url: str = "",
    section: str = "accounts",
) -> HttpResponse:
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": title,
            "cancel_href": cancel_url,
            "delete_href": delete_url,
            "section": section,
        },
    )


def _saved(request: HttpRequest, instance: Any) -> None:
    messages.success(request, _("“%(name)s” saved.") % {"name": instance})


# --- Account ----------------------------------------------------------------------------


@write_required
def account_new(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST or None, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        account = services.save_form(_user(request), form, None)
        _saved(request, account)
        return redirect(account)
    return _form_page(
        request, form, title=_("New account"), cancel_url=reverse("customers:accounts")
    )


@write_required
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    before = audit.snapshot(account)
    form = AccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        services.save_form(_user(request), form, before)
        _saved(request, account)
        return redirect(account)
    return _form_page(
        request,
        form,
        title=_("Edit %(name)s") % {"name": account.name},
        cancel_url=account.get_absolute_url(),
        delete_url=reverse("customers:account_delete", args=[account.pk])
        if _user(request).can_configure
        else "",
    )


@configure_required
def account_delete(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    if request.method == "POST":
        services.delete(_user(request), account)
        messages.success(request, _("“%(name)s” deleted.") % {"name": account.name})
        return redirect("customers:accounts")
    return render(
        request,
        "core/confirm_delete.html",
        {
            "object": account,
            "cancel_href": account.get_absolute_url(),
            "consequence": _(
                "Its contacts, contracts, opportunities and touchpoints are deleted with it."
            ),
        },
    )


def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.select_related("owner"), pk=pk)
    definitions = services.custom_field_definitions()
    subscriptions = list(account.subscriptions.order_by("-start_date", "-id"))
    live = [sub for sub in subscriptions if sub.status in LIVE_SUBSCRIPTION_STATUSES]
    contacts = list(account.contacts.order_by(*CONTACT_ORDER))
    user = _user(request)
    context = {
        "section": "accounts",
        "account": account,
        "custom_values": [
            (definition, account.custom_attributes.get(definition.key))
            for definition in definitions
        ],
        "subscriptions": subscriptions,
        "live_seats": sum(sub.seats for sub in live),
        "contacts": contacts,
        "opportunities": account.opportunities.select_related("owner").order_by("close_date", "id"),
        "audit_entries": account.audit_entries.select_related("actor")[:15],
        **_timeline_context(request, account),
        "main_panels": panels.for_column("main"),
        "side_panels": panels.for_column("side"),
    }
    if user.can_write:
        form = TouchpointForm(account=account)
        # The contacts were just loaded for the page: reuse them instead of a second query.
        form.fields["contacts"].choices = [(c.pk, c.name) for c in contacts]  # type: ignore[attr-defined]
        context["touchpoint_form"] = form
    return render(request, "customers/account_detail.html", context)


def _timeline_context(request: HttpRequest, account: Account) -> dict[str, Any]:
    chosen = [key for key in request.GET.getlist("source") if key in timeline.SOURCES]
    before = parse_datetime(request.GET.get("before", "")) if request.GET.get("before") else None
    if before is not None and timezone.is_naive(before):
        before = timezone.make_aware(before)
    limit = 15
    entries = timeline.timeline(account, sources=chosen or None, before=before, limit=limit + 1)
    return {
        "timeline_entries": entries[:limit],
        "timeline_next": entries[limit - 1].at.isoformat() if len(entries) > limit else "",
        "timeline_sources": timeline.SOURCES.values(),
        "timeline_chosen": chosen,
    }


def account_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    template = (
        "customers/partials/timeline_more.html"
        if request.GET.get("before")
        else "customers/partials/timeline.html"
    )
    return render(request, template, {"account": account, **_timeline_context(request, account)})


# --- Touchpoints ------------------------------------------------------------------------


@write_required
@require_POST
def touchpoint_log(request: HttpRequest, pk: int) -> HttpResponse:
    """The inline "log a touchpoint" form on the account page (HTMX), or a plain POST."""
    account = get_object_or_404(Account, pk=pk)
    form = TouchpointForm(request.POST, account=account)
    if form.is_valid():
        form.instance.author = _user(request)
        services.save_form(_user(request), form, None)
        if not request.htmx:  # type: ignore[attr-defined]
            messages.success(request, _("Touchpoint logged."))
            return redirect(account)
        return render(
            request,
            "customers/partials/touchpoint_logged.html",
            {
                "account": account,
                "touchpoint_form": TouchpointForm(account=account),
                "logged": True,
                **_timeline_context(request, account),
            },
        )
    # Invalid: the form comes back with its errors (status 200, so HTMX swaps it in).
    template = (
        "customers/partials/touchpoint_form.html" if request.htmx else "core/form_page.html"  # type: ignore[attr-defined]
    )
    return render(
        request,
        template,
        {
            "account": account,
            "touchpoint_form": form,
            "form": form,
            "title": _("Log a touchpoint"),
            "cancel_href": account.get_absolute_url(),
        },
    )


@write_required
def touchpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    touchpoint = get_object_or_404(Touchpoint.objects.select_related("account"), pk=pk)
    before = audit.snapshot(touchpoint)
    form = TouchpointForm(request.POST or None, instance=touchpoint, account=touchpoint.account)
    if request.method == "POST" and form.is_valid():
        services.save_form(_user(request), form, before)
        _saved(request, touchpoint)
        return redirect(touchpoint.account)
    return _form_page(
        request,
        form,
        title=_("Edit touchpoint"),
        cancel_url=touchpoint.account.get_absolute_url(),
        delete_url=reverse("customers:touchpoint_delete", args=[touchpoint.pk]),
    )


# --- Contacts, subscriptions, opportunities: the same create / edit / delete shape -----


def _child_new(
    request: HttpRequest, pk: int, form_class: type[ModelForm[Any]], title: str
) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    form = form_class(request.POST or None)
    form.instance.account = account
    if request.method == "POST" and form.is_valid():
        instance = services.save_form(_user(request), form, None)
        _saved(request, instance)
        return redirect(account)
    return _form_page(
        request, form, title=f"{title} · {account.name}", cancel_url=account.get_absolute_url()
    )


def _child_edit(
    request: HttpRequest,
    model: type[Any],
    pk: int,
    form_class: type[ModelForm[Any]],
    title: str,
    delete_name: str,
    after: str = "",
) -> HttpResponse:
    instance = get_object_or_404(model.objects.select_related("account"), pk=pk)
    before = audit.snapshot(instance)
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.save_form(_user(request), form, before)
        _saved(request, instance)
        return redirect(after or instance.account.get_absolute_url())
    return _form_page(
        request,
        form,
        title=title,
        cancel_url=after or instance.account.get_absolute_url(),
        delete_url=reverse(delete_name, args=[instance.pk]),
    )


def _child_delete(request: HttpRequest, model: type[Any], pk: int) -> HttpResponse:
    instance = get_object_or_404(model.objects.select_related("account"), pk=pk)
    account = instance.account
    if request.method == "POST":
        services.delete(_user(request), instance)
        messages.success(request, _("“%(name)s” deleted.") % {"name": instance})
        return redirect(account)
    return render(
        request,
        "core/confirm_delete.html",
        {"object": instance, "cancel_href": account.get_absolute_url()},
    )


@write_required
def contact_new(request: HttpRequest, pk: int) -> HttpResponse:
    return _child_new(request, pk, ContactForm, _("New contact"))


@write_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _child_edit(
        request,
        Contact,
        pk,
        ContactForm,
        _("Edit contact"),
        "customers:contact_delete",
        after=reverse("customers:contact", args=[pk]),
    )


@write_required
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _child_delete(request, Contact, pk)


def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.select_related("account", "account__owner"), pk=pk)
    touchpoints = contact.touchpoints.select_related("author").order_by("-occurred_at", "-id")[:50]
    return render(
        request, "customers/contact_detail.html", {"contact": contact, "touchpoints": touchpoints}
    )


@write_required
def subscription_new(request: HttpRequest, pk: int) -> HttpResponse:
    return _child_new(request, pk, SubscriptionForm, _("New contract"))


@write_required
def subscription_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _child_edit(
        request,
        Subscription,
        pk,
        SubscriptionForm,
        _("Edit contract"),
        "customers:subscription_delete",
    )


@write_required
def subscription_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _child_delete(request, Subscription, pk)


@write_required
def opportunity_new(request: HttpRequest, pk: int) -> HttpResponse:
    return _child_new(request, pk, OpportunityForm, _("New opportunity"))


@write_required
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _child_edit(
        request,
        Opportunity,
        pk,
        OpportunityForm,
        _("Edit opportunity"),
        "customers:opportunity_delete",
    )


@write_required
def opportunity_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _child_delete(request, Opportunity, pk)


@write_required
def touchpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _child_delete(request, Touchpoint, pk)


# --- Settings: tiers and custom fields --------------------------------------------------


@configure_required
def tier_settings(request: HttpRequest) -> HttpResponse:
    """The tier policy. "Preview" shows how many accounts would change tier without saving;
    "Save" saves and re-tiers every account at once."""
    policy = TierPolicy.current()
    before = audit.snapshot(policy)
    form = TierPolicyForm(request.POST or None, instance=policy)
    preview: list[dict[str, Any]] | None = None
    if request.method == "POST" and form.is_valid():
        if "preview" not in request.POST:
            changes = services.update_tier_policy(_user(request), form.instance, before)
            messages.success(
                request,
                _("Tier policy saved; %(count)d accounts changed tier.") % {"count": len(changes)},
            )
            return redirect("customers:tiers")
        labels = dict(Tier.choices)
        preview = [
            {"from": labels[old], "to": labels[new], "count": count}
            for (old, new), count in sorted(services.preview_tier_changes(form.instance).items())
        ]
    buckets = queries.portfolio(Account.objects.all()).by_tier
    recent = TierChange.objects.select_related("account").order_by("-changed_at", "-id")[:10]
    return render(
        request,
        "customers/tier_settings.html",
        {
            "form": form,
            "buckets": buckets,
            "preview": preview,
            "preview_total": sum(row["count"] for row in preview or []),
            "recent_changes": recent,
            "section": "tiers",
        },
    )


@configure_required
def custom_field_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "customers/custom_field_list.html",
        {"definitions": CustomFieldDefinition.objects.all(), "section": "custom_fields"},
    )


@configure_required
def custom_field_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    definition = get_object_or_404(CustomFieldDefinition, pk=pk) if pk else CustomFieldDefinition()
    before = audit.snapshot(definition) if pk else None
    form = CustomFieldDefinitionForm(request.POST or None, instance=definition)
    if request.method == "POST" and form.is_valid():
        services.save_form(_user(request), form, before)
        _saved(request, definition)
        return redirect("customers:custom_fields")
    return _form_page(
        request,
        form,
        title=_("Edit custom field") if pk else _("New custom field"),
        cancel_url=reverse("customers:custom_fields"),
        delete_url=reverse("customers:custom_field_delete", args=[pk]) if pk else "",
        section="custom_fields",
    )


@configure_required
def custom_field_delete(request: HttpRequest, pk: int) -> HttpResponse:
    definition = get_object_or_404(CustomFieldDefinition, pk=pk)
    if request.method == "POST":
        changed = services.delete_custom_field(_user(request), definition)
        messages.success(
            request,
            _("Custom field deleted; its value was removed from %(count)d accounts.")
            % {"count": changed},
        )
        return redirect("customers:custom_fields")
    return render(
        request,
        "core/confirm_delete.html",
        {
            "object": definition,
            "cancel_href": reverse("customers:custom_fields"),
            "consequence": _("Its value is removed from every account."),
            "section": "custom_fields",
        },
    )
