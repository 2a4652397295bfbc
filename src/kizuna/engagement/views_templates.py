"""Pages of email templates and sender identities: the list, a template with its preview
for a real contact, test send and version history, the editor (Japanese and English side by
side, with a variable palette), and senders. Everyone who signs in reads; CSMs and above
write templates; managers and admins configure senders.

A refused save shows each problem at its field with line and column, keeps what was typed,
and saves nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.core.models import User
from kizuna.core.permissions import configure_required, write_required
from kizuna.customers.models import Contact
from kizuna.engagement import compose, rendering, templates_service, tracking_links
from kizuna.engagement.forms_templates import (
    PreviewForm,
    SenderForm,
    TemplateForm,
    TestSendForm,
)
from kizuna.engagement.models import (
    EmailMessage,
    EmailTemplate,
    EmailTemplateVersion,
    SenderIdentity,
)
from kizuna.engagement.rendering import TemplateInvalid

CONTACT_OPTIONS = 50
SECTION = "email-templates"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _template(pk: int) -> EmailTemplate:
    return get_object_or_404(
        EmailTemplate.objects.select_related("category", "sender", "current"), pk=pk
    )


def _form_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _palette() -> list[dict[str, str]]:
    return [
        {"name": name, "label": str(variable.label), "example": variable.example_ja}
        for name, variable in rendering.VARIABLES.items()
    ]


def _content(version: EmailTemplateVersion | None) -> list[tuple[str, str, str, str, str]]:
    if version is None:
        return []
    return [
        (
            lang,
            label,
            getattr(version, f"subject_{lang}"),
            getattr(version, f"html_{lang}"),
            getattr(version, f"text_{lang}"),
        )
        for lang, label in (("ja", _("Japanese")), ("en", _("English")))
    ]


# --- Templates ---------------------------------------------------------------------------


def template_list(request: HttpRequest) -> HttpResponse:
    archived = request.GET.get("archived") == "1"
    templates = list(
        EmailTemplate.objects.filter(archived=archived)
        .select_related("category", "current")
        .order_by("name", "id")
    )
    return render(
        request,
        "engagement/template_list.html",
        {"templates": templates, "archived": archived, "section": SECTION},
    )


def _contacts(query: str) -> list[Contact]:
    contacts = Contact.objects.select_related("account").exclude(email="")
    query = query.strip()
    if query:
        contacts = contacts.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(name_kana__icontains=query)
        )
    return list(contacts.order_by("name", "id")[:CONTACT_OPTIONS])


def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    versions = list(
        template.versions.select_related("created_by").only(
            "id", "number", "created_at", "created_by", "content_hash", "template_id"
        )
    )
    return render(
        request,
        "engagement/template_detail.html",
        {
            "template": template,
            "version": template.current,
            "content": _content(template.current),
            "versions": versions,
            "contacts": _contacts(""),
            "preview_form": PreviewForm(),
            "test_form": TestSendForm(initial={"to_email": _user(request).email}),
            "section": SECTION,
        },
    )


def template_contacts(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "engagement/partials/template_contact_options.html",
        {"contacts": _contacts(request.GET.get("q", ""))},
    )


def template_version(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    template = _template(pk)
    version = get_object_or_404(
        EmailTemplateVersion.objects.select_related("created_by"), template=template, number=number
    )
    return render(
        request,
        "engagement/template_version.html",
        {
            "template": template,
            "version": version,
            "content": _content(version),
            "section": SECTION,
        },
    )


def _editor(
    request: HttpRequest, form: TemplateForm, template: EmailTemplate | None, status: int
) -> HttpResponse:
    return render(
        request,
        "engagement/template_form.html",
        {"form": form, "template": template, "palette": _palette(), "section": SECTION},
        status=status,
    )


@write_required
def template_new(request: HttpRequest) -> HttpResponse:
    form = TemplateForm(request.POST or None)
    if request.method != "POST":
        return _editor(request, form, None, 200)
    if form.is_valid():
        try:
            template = templates_service.create_template(
                _user(request), content=form.content(), **form.settings()
            )
        except TemplateInvalid as exc:
            form.add_problems(exc.problems)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” was created.") % {"name": template.name})
            return redirect("engagement:template", pk=template.pk)
    return _editor(request, form, None, 400)


@write_required
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    form = TemplateForm(request.POST or None, instance=template, version=template.current)
    if request.method != "POST":
        return _editor(request, form, template, 200)
    if form.is_valid():
        try:
            # Settings and content are one save: a refused content keeps the settings too.
            fresh = _template(pk)
            with transaction.atomic():
                templates_service.update_template(_user(request), fresh, **form.settings())
                version = templates_service.save_version(_user(request), fresh, form.content())
        except TemplateInvalid as exc:
            form.add_problems(exc.problems)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                _("Saved as version %(number)s.") % {"number": version.number},
            )
            return redirect("engagement:template", pk=template.pk)
    template.refresh_from_db()
    return _editor(request, form, template, 400)


@write_required
@require_POST
def template_archive(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    restore = request.POST.get("restore") == "1"
    templates_service.archive_template(_user(request), template, archived=not restore)
    if restore:
        messages.success(request, _("“%(name)s” was restored.") % {"name": template.name})
    else:
        messages.success(request, _("“%(name)s” was archived.") % {"name": template.name})
    return redirect("engagement:template", pk=template.pk)


def _sender(template: EmailTemplate) -> SenderIdentity | None:
    return template.sender or SenderIdentity.objects.filter(is_default=True).first()


def preview_of(
    template: EmailTemplate, version: EmailTemplateVersion, contact: Contact, language: str
) -> dict[str, Any]:
    """What `contact` would receive (without tracking): subject, HTML with the footer, text,
    and the variables that have no value."""
    sender = _sender(template)
    language = rendering.language_for(language or contact.language, version)
    context = rendering.load_contexts([contact.pk], sender).get(contact.pk, {})
    rendered = rendering.render(
        version, language, context, links=tracking_links.message_links("preview")
    )
    html, text = rendered.html, rendered.text
    if sender is not None:
        message = EmailMessage(
            token="preview",  # noqa: S106 — a placeholder message token, not a secret
            sender=sender,
            language=language,
            transactional=template.category.transactional,
        )
        html += compose.footer_html(message, language)
        text = text.rstrip("\n") + compose.footer_text(message, language)
    labels = {name: str(variable.label) for name, variable in rendering.VARIABLES.items()}
    return {
        "subject": rendered.subject,
        "html": html,
        "text": text,
        "language": language,
        "missing": [{"name": name, "label": labels.get(name, name)} for name in rendered.missing],
        "contact": contact,
    }


def template_preview(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(pk)
    form = PreviewForm(request.GET)
    error = ""
    preview: dict[str, Any] | None = None
    version = template.current
    if "version" in request.GET:
        version = get_object_or_404(
            EmailTemplateVersion, template=template, number=request.GET.get("version") or 0
        )
    if not form.is_valid() or not form.cleaned_data.get("contact"):
        error = _("Choose a contact to preview the email with.")
    else:
        contact = Contact.objects.filter(pk=form.cleaned_data["contact"]).first()
        if contact is None:
            error = _("This contact no longer exists.")
        elif version is not None:
            preview = preview_of(template, version, contact, form.cleaned_data["language"])
    return render(
        request,
        "engagement/partials/template_preview.html",
        {"template": template, "preview": preview, "error": error},
        status=200 if preview else 400,
    )


@write_required
@require_POST
def template_test_send(request: HttpRequest, pk: int) -> HttpResponse:
    from kizuna.engagement.sending import send_test

    template = _template(pk)
    form = TestSendForm(request.POST)
    result: dict[str, str] = {}
    status = 400
    if template.current is None:
        result["error"] = _("The template has no content yet.")
    elif not form.is_valid():
        errors = [
            f"{form[name].label}: {' '.join(str(error) for error in form.errors[name])}"
            for name in form.errors
        ]
        result["error"] = " ".join(errors)
    else:
        contact = Contact.objects.filter(pk=form.cleaned_data["contact"]).first()
        if contact is None:
            result["error"] = _("This contact no longer exists.")
        else:
            to_email = form.cleaned_data["to_email"]
            try:
                send_test(template.current, contact, to_email, _user(request))
            except Exception as exc:  # any failure (SMTP, refused address) is shown as it is
                result["error"] = _("The test email could not be sent: %(error)s") % {"error": exc}
            else:
                status = 200
                result["sent"] = _("A test email was sent to %(email)s.") % {"email": to_email}
    return render(
        request, "engagement/partials/template_test_send.html", {"result": result}, status=status
    )


# --- Senders -----------------------------------------------------------------------------


def sender_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "engagement/template_senders.html",
        {"senders": list(SenderIdentity.objects.all()), "section": SECTION},
    )


def _sender_form(
    request: HttpRequest, form: SenderForm, sender: SenderIdentity | None, status: int
) -> HttpResponse:
    return render(
        request,
        "engagement/template_sender_form.html",
        {"form": form, "sender": sender, "section": SECTION},
        status=status,
    )


@configure_required
def sender_new(request: HttpRequest) -> HttpResponse:
    form = SenderForm(request.POST or None)
    if request.method != "POST":
        return _sender_form(request, form, None, 200)
    if form.is_valid():
        try:
            templates_service.create_sender(_user(request), **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The sender was added."))
            return redirect("engagement:senders")
    return _sender_form(request, form, None, 400)


@configure_required
def sender_edit(request: HttpRequest, pk: int) -> HttpResponse:
    sender = get_object_or_404(SenderIdentity, pk=pk)
    form = SenderForm(request.POST or None, instance=sender)
    if request.method != "POST":
        return _sender_form(request, form, sender, 200)
    if form.is_valid():
        fresh = SenderIdentity.objects.get(pk=pk)
        try:
            templates_service.update_sender(_user(request), fresh, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The sender was saved."))
            return redirect("engagement:senders")
    return _sender_form(request, form, sender, 400)
