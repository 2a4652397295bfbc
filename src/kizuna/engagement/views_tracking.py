"""Tracking and consent pages.

Public (no sign-in; opened by mail clients and recipients, each checked by the link's
signature, see `tracking_links`): the open pixel, tracked-link redirects and the preference
centre, which also answers RFC 8058 one-click unsubscribes. They show nothing of Kizuna but
the recipient's own preferences and the sender's name.

Signed in: the suppression list (managers and admins change it) and a contact's emails panel
on the contact page.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kizuna.core.models import User
from kizuna.core.permissions import configure_required
from kizuna.customers.models import Contact
from kizuna.engagement import preferences, timeline, tracking, tracking_links
from kizuna.engagement.choices import CategoryKind, SuppressionReason
from kizuna.engagement.forms_tracking import SuppressionForm
from kizuna.engagement.models import EmailMessage, Preference, Suppression
from kizuna.engagement.timeline import status_label

# The smallest transparent GIF (1×1, 43 bytes).
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
NO_STORE = "no-store, no-cache, must-revalidate, private, max-age=0"
PAGE_SIZE = 50
CONTACT_EMAILS = 30
SOURCE = "preference_centre"
ONE_CLICK_SOURCE = "one_click"


def _no_store(response: HttpResponse, referrer: str = "no-referrer") -> HttpResponse:
    response["Cache-Control"] = NO_STORE
    # The URL carries the message token: never pass it on to another site. (The preference
    # centre needs "same-origin": with "no-referrer" its own form posts say Origin: null and
    # fail the CSRF check.)
    response["Referrer-Policy"] = referrer
    return response


def _not_found(request: HttpRequest, language: str | None = None) -> HttpResponse:
    """A plain 404 without Kizuna's navigation (the visitor is a recipient, not a user)."""
    with translation.override(language or _language(request, "")):
        response = render(request, "engagement/public_not_found.html", status=404)
    return _no_store(response)


# --- Open pixel and tracked links -----------------------------------------------------------


@login_not_required
def track_open(request: HttpRequest, token: str, signature: str) -> HttpResponse:
    """The open pixel: always the GIF (a mail client shows nothing else), but only a link
    this server signed counts as an open."""
    if tracking_links.verify("open", token, signature=signature):
        tracking.record_open(token, user_agent=request.headers.get("User-Agent", ""))
    return _no_store(HttpResponse(PIXEL, content_type="image/gif"))


@login_not_required
def track_click(request: HttpRequest, token: str, index: int, signature: str) -> HttpResponse:
    """Count the click and send the reader on to the link the email contained (never to
    any other address: the target comes from the message row, not from the URL)."""
    if not tracking_links.verify("click", token, str(index), signature=signature):
        return _not_found(request)
    url = tracking.record_click(token, index)
    if url is None:
        return _not_found(request)
    return _no_store(HttpResponseRedirect(url))


# --- Preference centre ----------------------------------------------------------------------

LANGUAGES = ("ja", "en")


def _language(request: HttpRequest, contact_language: str) -> str:
    chosen = request.GET.get("lang", "")
    if chosen in LANGUAGES:
        return chosen
    return contact_language if contact_language in LANGUAGES else "ja"


def _csrf_failure(request: HttpRequest) -> HttpResponse | None:
    """The CSRF check the middleware skipped (the view is exempt only for one-click)."""
    return CsrfViewMiddleware(lambda req: HttpResponse()).process_view(request, None, (), {})  # type: ignore[arg-type]


def _is_one_click(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("List-Unsubscribe") == "One-Click"


@csrf_exempt
@login_not_required
def preference_centre(request: HttpRequest, token: str, signature: str) -> HttpResponse:
    """The recipient's preferences for the sender's marketing email, in the contact's
    language; also the target of the List-Unsubscribe-Post one-click unsubscribe."""
    if not tracking_links.verify("unsubscribe", token, signature=signature):
        return _not_found(request)
    message = (
        EmailMessage.objects.select_related("contact", "category", "sender")
        .filter(token=token)
        .first()
    )
    if message is None:
        return _not_found(request)
    if _is_one_click(request):
        return _one_click(message)
    language = _language(request, message.contact.language)
    if request.method == "POST":
        failure = _csrf_failure(request)
        if failure is not None:
            return failure
        return _save_preferences(request, message, language)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    with translation.override(language):
        state = preferences.state(message.contact, language, message)
        response = render(
            request,
            "engagement/public_preferences.html",
            {
                "message": message,
                "state": state,
                "language": language,
                "organisation": message.sender.organisation,
                "inquiries": message.sender.inquiries,
                "done": request.GET.get("done", ""),
                "this_category": (
                    message.category.name(language) if not message.category.transactional else ""
                ),
                "switch": [
                    (code, name, f"{request.path}?{urlencode({'lang': code})}")
                    for code, name in (("ja", "日本語"), ("en", "English"))
                ],
            },
        )
    response["Content-Language"] = language
    return _no_store(response, "same-origin")


def _one_click(message: EmailMessage) -> HttpResponse:
    """RFC 8058: the mailbox provider POSTs `List-Unsubscribe=One-Click`; unsubscribe from
    the message's category. The answer is for a machine."""
    if message.category.kind != CategoryKind.MARKETING:
        return _no_store(
            HttpResponse(
                "Transactional email cannot be unsubscribed from.\n",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        )
    tracking.unsubscribe(
        message.contact, category=message.category, source=ONE_CLICK_SOURCE, message=message
    )
    return _no_store(HttpResponse("Unsubscribed.\n", content_type="text/plain; charset=utf-8"))


def _save_preferences(request: HttpRequest, message: EmailMessage, language: str) -> HttpResponse:
    action = request.POST.get("action", "save")
    contact = message.contact
    if action == "unsubscribe_all":
        try:
            tracking.unsubscribe(contact, category=None, source=SOURCE, message=message)
        except ValueError:
            return _not_found(request, language)
        done = "unsubscribed"
    elif action == "resubscribe":
        done = "resubscribed" if preferences.resubscribe(contact, message=message) else "blocked"
    elif action == "save":
        chosen = {int(value) for value in request.POST.getlist("category") if value.isdigit()}
        preferences.save_choices(contact, chosen, source=SOURCE, message=message)
        done = "saved"
    else:
        return _not_found(request, language)
    return _no_store(
        HttpResponseRedirect(f"{request.path}?{urlencode({'lang': language, 'done': done})}")
    )


# --- A contact's emails (the contact page) ---------------------------------------------------


def contact_emails(request: HttpRequest, pk: int) -> HttpResponse:
    """The emails to one contact with how far each got, and their consent; loaded by HTMX
    into the contact page."""
    contact = get_object_or_404(Contact.objects.only("id", "name", "email"), pk=pk)
    emails = list(
        EmailMessage.objects.filter(contact=contact)
        .exclude(source="test")
        .select_related("template")
        .order_by("-queued_at", "-id")[:CONTACT_EMAILS]
    )
    unsubscribed = [
        row.category
        for row in Preference.objects.filter(contact=contact, subscribed=False)
        .select_related("category")
        .order_by("category__position", "category_id")
    ]
    address = (contact.email or "").strip().lower()
    suppression = Suppression.objects.filter(email=address).first() if address else None
    return render(
        request,
        "engagement/partials/tracking_contact_emails.html",
        {
            "contact": contact,
            "emails": [
                {"message": row, "status": status_label(row), "detail": timeline.describe(row)}
                for row in emails
            ],
            "unsubscribed": unsubscribed,
            "suppression": suppression,
        },
    )


# --- Suppression list ------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _filters(request: HttpRequest) -> tuple[str, str]:
    query = request.GET.get("q", "").strip()[:200]
    reason = request.GET.get("reason", "")
    return query, reason if reason in SuppressionReason.values else ""


def _list_page(
    request: HttpRequest, form: SuppressionForm | None = None, status: int = 200
) -> HttpResponse:
    query, reason = _filters(request)
    page = Paginator(preferences.search(query, reason), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "engagement/suppression_list.html",
        {
            "section": "suppressions",
            "page": page,
            "q": query,
            "reason": reason,
            "reasons": SuppressionReason.choices,
            "form": form or SuppressionForm(),
            "export_query": urlencode({"q": query, "reason": reason}),
        },
        status=status,
    )


def suppression_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


@configure_required
@require_POST
def suppression_add(request: HttpRequest) -> HttpResponse:
    form = SuppressionForm(request.POST)
    if form.is_valid():
        try:
            row = preferences.add(
                _user(request),
                form.cleaned_data["email"],
                form.cleaned_data["reason"],
                form.cleaned_data["detail"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(
                request, _("%(email)s is on the suppression list.") % {"email": row.email}
            )
            return redirect("engagement:suppressions")
    return _list_page(request, form, status=400)


@configure_required
def suppression_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove an address; a hard bounce or a complaint first asks for a confirmation."""
    row = get_object_or_404(Suppression, pk=pk)
    needs_confirmation = row.reason in preferences.NEEDS_CONFIRMATION
    if request.method == "POST":
        confirmed = request.POST.get("confirm") == "yes"
        if not needs_confirmation or confirmed:
            preferences.remove(_user(request), row, confirmed=confirmed)
            messages.success(
                request,
                _("%(email)s was removed from the suppression list.") % {"email": row.email},
            )
            return redirect("engagement:suppressions")
    elif not needs_confirmation:
        return HttpResponse(status=405, headers={"Allow": "POST"})
    return render(
        request,
        "engagement/suppression_confirm.html",
        {"section": "suppressions", "row": row},
        status=200 if request.method == "GET" else 400,
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def suppression_export(request: HttpRequest) -> StreamingHttpResponse:
    """The (filtered) suppression list as CSV, with a byte-order mark for Excel."""
    query, reason = _filters(request)
    rows = preferences.search(query, reason)

    def lines() -> Iterator[list[Any]]:
        yield ["email", "reason", "detail", "added_at", "added_by"]
        for row in rows.iterator(chunk_size=2000):
            yield [
                row.email,
                row.reason,
                row.detail,
                timezone.localtime(row.created_at).isoformat(timespec="seconds"),
                row.created_by.username if row.created_by else "",
            ]

    writer = csv.writer(_Echo())
    stream = (
        ("\ufeff" if index == 0 else "") + writer.writerow(row) for index, row in enumerate(lines())
    )
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="suppression-list-{stamp}.csv"'
    return response
