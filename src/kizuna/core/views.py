"""Sign-in, settings for users and the audit log, and the error pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from kizuna.core import audit
from kizuna.core.forms import UserForm
from kizuna.core.models import AuditEntry, User
from kizuna.core.permissions import admin_required, configure_required


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


@admin_required
def user_list(request: HttpRequest) -> HttpResponse:
    users = User.objects.order_by("role", "username")
    return render(request, "core/user_list.html", {"users": users, "section": "users"})


@admin_required
def user_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = get_object_or_404(User, pk=pk) if pk else User()
    before = audit.snapshot(user) if pk else None
    form = UserForm(request.POST or None, instance=user, acting_user=request.user)  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            if before is None:
                audit.record_create(request.user, saved)  # type: ignore[arg-type]
            else:
                audit.record_update(request.user, saved, before)  # type: ignore[arg-type]
        messages.success(request, _("User “%(name)s” saved.") % {"name": saved})
        return redirect("core:users")
    title = _("Edit user") if pk else _("New user")
    return render(
        request,
        "core/form_page.html",
        {"form": form, "title": title, "cancel_href": reverse("core:users"), "section": "users"},
    )


@configure_required
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.select_related("actor").order_by("-created_at", "-id")
    object_type = request.GET.get("type", "")
    if object_type:
        entries = entries.filter(object_type=object_type)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    types = (
        AuditEntry.objects.order_by("object_type").values_list("object_type", flat=True).distinct()
    )
    return render(
        request,
        "core/audit_log.html",
        {
            "page": page,
            "object_type": object_type,
            "types": [(name, AuditEntry(object_type=name).object_type_label) for name in types],
            "section": "audit",
        },
    )


@login_not_required
@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


@login_not_required
@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


@login_not_required
@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: the error may have come from one of them.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
