"""Pages of email sending: the outbox (what waits, what failed, whether a mail server is
configured), the cap log (every message held back or skipped, with the rule and the
evidence), the sending rules, and the demo's mail catcher."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kizuna.core import audit
from kizuna.core.models import User
from kizuna.core.permissions import configure_required
from kizuna.engagement import cap, mailbox, smtp
from kizuna.engagement.choices import HoldReason, MessageSource, MessageStatus
from kizuna.engagement.forms_sending import SendingSettingsForm
from kizuna.engagement.models import EmailMessage, EngagementSettings

CAP_LOG_PAGE_SIZE = 50
RECENT = 20
LAST_ERRORS = 10
SECTION = "email-sending"


def outbox(request: HttpRequest) -> HttpResponse:
    counts = dict(
        EmailMessage.objects.exclude(source=cap.TEST_SOURCE)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    waiting = EmailMessage.objects.filter(status=MessageStatus.QUEUED).aggregate(
        oldest=Min("queued_at")
    )
    rows = [
        {"status": status, "label": status.label, "count": counts.get(status.value, 0)}
        for status in MessageStatus
    ]
    errors = (
        EmailMessage.objects.filter(status__in=[MessageStatus.QUEUED, MessageStatus.FAILED])
        .exclude(last_error="")
        .exclude(last_error=str(smtp.NOT_CONFIGURED))
        .select_related("contact", "template")
        .order_by("-id")[:LAST_ERRORS]
    )
    recent = EmailMessage.objects.select_related("contact", "template").order_by("-id")[:RECENT]
    return render(
        request,
        "engagement/sending_outbox.html",
        {
            "section": SECTION,
            "configured": smtp.is_configured(),
            "catcher": mailbox.catcher_address(),
            "rows": rows,
            "queued": counts.get(MessageStatus.QUEUED.value, 0),
            "oldest_waiting": waiting["oldest"],
            "errors": errors,
            "recent": recent,
            "rules": EngagementSettings.get(),
        },
    )


def cap_log(request: HttpRequest) -> HttpResponse:
    rules = EngagementSettings.get()
    reason = request.GET.get("reason", "")
    team = request.GET.get("team", "")
    source = request.GET.get("source", "")
    held = EmailMessage.objects.filter(status__in=[MessageStatus.HELD, MessageStatus.SKIPPED])
    teams = sorted(t for t in held.values_list("team", flat=True).distinct().order_by() if t)
    present = set(held.values_list("source", flat=True).distinct().order_by())
    sources = [(value, label) for value, label in MessageSource.choices if value in present]
    if reason in HoldReason.values:
        held = held.filter(reason=reason)
    else:
        reason = ""
    if team:
        held = held.filter(team=team)
    if source:
        held = held.filter(source=source)
    page = Paginator(
        held.select_related("contact", "account", "template").order_by("-queued_at", "-id"),
        CAP_LOG_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "engagement/cap_log.html",
        {
            "section": SECTION,
            "page": page,
            "reasons": HoldReason.choices,
            "reason": reason,
            "teams": teams,
            "team": team,
            "sources": sources,
            "source": source,
            "rules": rules,
            "cap_rule": cap.rule_text(rules),
            "dedupe_rule": cap.dedupe_text(rules),
        },
    )


@configure_required
def sending_settings(request: HttpRequest) -> HttpResponse:
    rules = EngagementSettings.get()
    form = SendingSettingsForm(request.POST or None, instance=rules)
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        with transaction.atomic():
            before = audit.snapshot(EngagementSettings.objects.select_for_update().get(pk=rules.pk))
            saved = form.save()
            audit.record_update(request.user, saved, before)
        messages.success(request, _("Sending rules saved."))
        return redirect("engagement:sending_settings")
    return render(
        request,
        "engagement/settings_sending.html",
        {"section": SECTION, "form": form, "rules": rules},
    )


@configure_required
def mailbox_list(request: HttpRequest) -> HttpResponse:
    address = mailbox.catcher_address()
    return render(
        request,
        "engagement/mailbox_list.html",
        {
            "section": SECTION,
            "address": address,
            "caught": mailbox.caught() if address else [],
        },
    )


@configure_required
def mailbox_message(request: HttpRequest, key: str) -> HttpResponse:
    if mailbox.catcher_address() is None:
        raise Http404
    found = mailbox.get(key)
    if found is None:
        raise Http404
    text, html = mailbox.parts(found.message)
    return render(
        request,
        "engagement/mailbox_message.html",
        {
            "section": SECTION,
            "caught": found,
            "headers": list(found.message.items()),
            "text": text,
            "html": html,
        },
    )
