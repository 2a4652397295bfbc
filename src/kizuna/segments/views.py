"""Pages of segments: the list, a segment with its members and history, the form, the
members of static segments, and the account page panel. Everyone who signs in reads;
managers and admins define segments and pick members."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.core.models import User
from kizuna.core.permissions import configure_required
from kizuna.customers import search
from kizuna.customers.models import Account
from kizuna.segments import queries, services
from kizuna.segments.forms import ImportForm, SegmentForm
from kizuna.segments.models import Segment, SegmentMembership

PAGE_SIZE = 50
HISTORY_DAYS = 30
CANDIDATES = 10


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def segment_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "segments/segment_list.html",
        {"segments": Segment.objects.order_by("name", "id"), "section": "segments"},
    )


def _detail_context(request: HttpRequest, segment: Segment) -> dict[str, Any]:
    sort = request.GET.get("sort", "-arr")
    if sort not in queries.MEMBER_SORTS:
        sort = "-arr"
    paginator = Paginator(queries.members(segment, sort=sort), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    days = queries.history(segment, HISTORY_DAYS)
    peak = max((max(day.entered, day.exited) for day in days), default=0)
    return {
        "section": "segments",
        "segment": segment,
        "described": queries.describe_tree(segment.conditions) if segment.is_dynamic else None,
        "page": page,
        "sort": sort,
        "sorts": [
            ("-arr", _("ARR, highest first")),
            ("name", _("Name")),
            ("-entered", _("Newest members first")),
        ],
        "history": days,
        "history_peak": peak or 1,
        "history_entered": sum(day.entered for day in days),
        "history_exited": sum(day.exited for day in days),
        "changes": queries.recent_changes(
            SegmentMembership.objects.filter(segment=segment), limit=15
        ),
        "referred_by": services.referring_segments(segment),
    }


def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=pk)
    context = _detail_context(request, segment)
    if request.htmx and request.htmx.target == "segment-members":  # type: ignore[attr-defined]
        return render(request, "segments/partials/members.html", context)
    if not segment.is_dynamic and _user(request).can_configure:
        context["import_form"] = ImportForm()
    return render(request, "segments/segment_detail.html", context)


def _form_page(
    request: HttpRequest, form: SegmentForm, segment: Segment | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "segments/segment_form.html",
        {
            "form": form,
            "segment": segment,
            "title": _("Edit %(name)s") % {"name": segment.name} if segment else _("New segment"),
            "cancel_href": segment.get_absolute_url() if segment else reverse("segments:list"),
            "section": "segments",
        },
        status=status,
    )


def _save(request: HttpRequest, form: SegmentForm, segment: Segment | None) -> HttpResponse:
    try:
        saved = form.save_through_services(_user(request))
    except services.InvalidSegment as exc:
        # Checked by the form; another change came in between.
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _form_page(request, form, segment, status=400)
    messages.success(request, _("“%(name)s” saved.") % {"name": saved.name})
    return redirect(saved)


@configure_required
def segment_new(request: HttpRequest) -> HttpResponse:
    form = SegmentForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            return _save(request, form, None)
        return _form_page(request, form, None, status=400)
    return _form_page(request, form, None)


@configure_required
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=pk)
    form = SegmentForm(request.POST or None, instance=segment)
    if request.method == "POST":
        if form.is_valid():
            return _save(request, form, segment)
        return _form_page(request, form, get_object_or_404(Segment, pk=pk), status=400)
    return _form_page(request, form, segment)


@configure_required
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=pk)
    if request.method == "POST":
        try:
            services.delete_segment(_user(request), segment)
        except services.InvalidSegment as exc:
            messages.error(request, exc.message)
            return redirect(segment)
        messages.success(request, _("“%(name)s” deleted.") % {"name": segment.name})
        return redirect("segments:list")
    return render(
        request,
        "core/confirm_delete.html",
        {
            "object": segment,
            "cancel_href": segment.get_absolute_url(),
            "consequence": _("Its membership history is deleted with it."),
            "section": "segments",
        },
    )


@configure_required
@require_POST
def segment_recalculate(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=pk)
    results = services.recompute_with_dependents(segment.pk)
    mine = next((result for result in results if result.segment_id == segment.pk), None)
    if mine is not None and mine.error:
        messages.error(request, _("The segment could not be computed: %s") % mine.error)
    elif mine is not None:
        messages.success(
            request,
            _("Recalculated: %(entered)d entered, %(exited)d left, %(members)d members.")
            % {"entered": mine.entered, "exited": mine.exited, "members": mine.members},
        )
    return redirect(segment)


class _Echo:
    def write(self, value: str) -> str:
        return value


def segment_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The current members as CSV (for Excel: with a byte-order mark), streamed."""
    segment = get_object_or_404(Segment, pk=pk)
    rows = queries.members(segment, sort="name")

    def lines() -> Iterator[list[Any]]:
        yield ["account_id", "external_id", "name", "tier", "stage", "arr", "entered_at", "source"]
        for stay in rows.iterator(chunk_size=2000):
            account = stay.account
            yield [
                account.pk,
                account.external_id or "",
                account.name,
                account.tier,
                account.stage,
                account.arr,
                timezone.localtime(stay.entered_at).isoformat(timespec="seconds"),
                stay.source,
            ]

    writer = csv.writer(_Echo())
    stream = (
        ("\ufeff" if index == 0 else "") + writer.writerow(row) for index, row in enumerate(lines())
    )
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="kizuna-segment-{segment.pk}-{stamp}.csv"'
    )
    return response


# --- Static segments: members by hand ----------------------------------------------------


@configure_required
def member_candidates(request: HttpRequest, pk: int) -> HttpResponse:
    """Accounts matching the search that are not members yet (HTMX, as one types)."""
    segment = get_object_or_404(Segment, pk=pk)
    needle = search.normalize(request.GET.get("q", ""))
    found: list[Account] = []
    if needle:
        members = SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).values(
            "account_id"
        )
        found = list(
            Account.objects.filter(search_text__contains=needle)
            .exclude(pk__in=members)
            .order_by("name_kana", "name", "id")[:CANDIDATES]
        )
    return render(
        request,
        "segments/partials/candidates.html",
        {"segment": segment, "candidates": found, "searched": bool(needle)},
    )


def _back(segment: Segment) -> HttpResponse:
    return redirect(segment)


@configure_required
@require_POST
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=pk)
    try:
        account_id = int(request.POST.get("account", ""))
    except ValueError:
        messages.error(request, _("Choose an account."))
        return _back(segment)
    try:
        change = services.add_members(_user(request), segment, [account_id])
    except services.InvalidSegment as exc:
        messages.error(request, exc.message)
        return _back(segment)
    if change.added:
        messages.success(request, _("Account added to the segment."))
    else:
        messages.info(request, _("The account was already a member."))
    return _back(segment)


@configure_required
@require_POST
def member_remove(request: HttpRequest, pk: int, account_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=pk)
    try:
        change = services.remove_members(_user(request), segment, [account_id])
    except services.InvalidSegment as exc:
        messages.error(request, exc.message)
        return _back(segment)
    if change.removed:
        messages.success(request, _("Account removed from the segment."))
    return _back(segment)


@configure_required
@require_POST
def member_import(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=pk)
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            change = services.import_members(
                _user(request),
                segment,
                form.external_ids(),
                replace=form.cleaned_data["replace"],
            )
        except services.InvalidSegment as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Imported: %(added)d added, %(already)d already members, %(removed)d removed.")
                % {"added": change.added, "already": change.already, "removed": change.removed},
            )
            return _back(segment)
    context = _detail_context(request, segment)
    context["import_form"] = form
    return render(request, "segments/segment_detail.html", context, status=400)


# --- The account page panel --------------------------------------------------------------


def account_panel(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.only("pk", "name"), pk=pk)
    found = queries.account_segments(account.pk)
    return render(
        request,
        "segments/partials/account_panel.html",
        {"account": account, "current": found.current, "past": found.past},
    )
