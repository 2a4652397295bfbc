"""Pages of imports and exports: upload, mapping, dry run, apply, saved mappings, exports.

CSMs, managers and admins import (viewers cannot); anyone signed in may export, as from the
account list. Views parse, call a service and render.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kizuna.core import audit
from kizuna.core.models import User
from kizuna.core.permissions import write_required
from kizuna.customers import queries
from kizuna.customers import services as customer_services
from kizuna.integrations import exports, services
from kizuna.integrations.forms import ColumnMappingForm, MappingForm, UploadForm
from kizuna.integrations.importer import plan_targets
from kizuna.integrations.mapping import ColumnMap
from kizuna.integrations.models import ColumnMapping, ImportJob, ObjectType
from kizuna.integrations.tabular import FileProblem
from kizuna.integrations.targets import spec_for

SHOWN_ERRORS = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- Imports ----------------------------------------------------------------------------


@write_required
def import_list(request: HttpRequest) -> HttpResponse:
    """Past imports, newest first, and the form to upload a new file."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        saved: ColumnMapping | None = form.cleaned_data["saved_mapping"]
        object_type = form.cleaned_data["object_type"]
        try:
            job = services.upload(
                _user(request),
                object_type,
                upload.name,
                upload.read(),
                language=request.LANGUAGE_CODE,
                columns=ColumnMap(object_type, saved.columns) if saved else None,
                saved_mapping=saved,
            )
        except FileProblem as exc:
            form.add_error("file", exc.message)
        else:
            return redirect(job)
    jobs = ImportJob.objects.select_related("created_by").order_by("-created_at", "-id")
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "integrations/import_list.html",
        {"form": form, "page": page, "section": "data"},
    )


def _job_context(
    request: HttpRequest, job: ImportJob, form: MappingForm | None = None
) -> dict[str, Any]:
    spec = spec_for(job.object_type)
    targets = plan_targets(spec)
    if form is None:
        form = MappingForm(job=job, targets=targets)
    missing = ColumnMap(job.object_type, job.mapping).missing(job.headers)
    return {
        "job": job,
        "form": form,
        "targets": targets,
        "missing_columns": missing,
        "saved_mappings": ColumnMapping.objects.filter(object_type=job.object_type),
        "row_errors": job.row_errors.all()[:SHOWN_ERRORS],
        "shown_errors": SHOWN_ERRORS,
        "editable": not job.is_running and job.status != "applied",
        "section": "data",
    }


@write_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob.objects.select_related("created_by", "applied_by"), pk=pk)
    return render(request, "integrations/import_detail.html", _job_context(request, job))


@write_required
@require_POST
def import_dry_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Take the mapping from the form (saving it by name if asked) and start the dry run."""
    job = get_object_or_404(ImportJob, pk=pk)
    form = MappingForm(request.POST, job=job, targets=plan_targets(spec_for(job.object_type)))
    if not form.is_valid():
        return render(request, "integrations/import_detail.html", _job_context(request, job, form))
    column_map: ColumnMap = form.cleaned_data["column_map"]
    saved = None
    name = form.cleaned_data["save_as"].strip()
    try:
        if name:
            saved = services.save_mapping(_user(request), name, job.object_type, column_map)
            messages.success(request, _("Mapping “%(name)s” saved.") % {"name": name})
        services.set_mapping(job, column_map, saved)
        services.start_dry_run(job)
    except services.ImportRefused as exc:
        messages.error(request, exc.message)
    return redirect(job)


@write_required
@require_POST
def import_use_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace the job's mapping by a saved one (the person then reviews it)."""
    job = get_object_or_404(ImportJob, pk=pk)
    saved = get_object_or_404(
        ColumnMapping, pk=request.POST.get("saved_mapping") or 0, object_type=job.object_type
    )
    try:
        services.set_mapping(job, ColumnMap(job.object_type, saved.columns), saved)
    except services.ImportRefused as exc:
        messages.error(request, exc.message)
    return redirect(job)


@write_required
@require_POST
def import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        services.start_apply(job, _user(request))
    except services.ImportRefused as exc:
        messages.error(request, exc.message)
    return redirect(job)


@write_required
@require_POST
def import_restart(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        services.restart(job, _user(request))
    except services.ImportRefused as exc:
        messages.error(request, exc.message)
    return redirect(job)


@write_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The state panel of a job: polled by the page while a step runs (HTMX)."""
    job = get_object_or_404(ImportJob.objects.select_related("created_by", "applied_by"), pk=pk)
    return render(request, "integrations/partials/job_state.html", _job_context(request, job))


@write_required
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """Every problem of the last run as CSV (UTF-8 with BOM, for Excel): the file's
    problems first (row 0), then each row's. At most MAX_STORED_ERRORS rows, so it is
    built in memory."""
    job = get_object_or_404(ImportJob, pk=pk)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([_("Row"), _("Column"), _("Value"), _("Problem")])
    for problem in job.error_message.splitlines():
        writer.writerow([0, "", "", problem])
    for error in job.row_errors.order_by("row_number", "id").iterator(chunk_size=2000):
        writer.writerow([error.row_number, error.column, error.value, error.message])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kizuna-import-{job.pk}-errors.csv"'
    return response


# --- Saved mappings -----------------------------------------------------------------------


@write_required
def mapping_list(request: HttpRequest) -> HttpResponse:
    mappings = ColumnMapping.objects.select_related("created_by").order_by("object_type", "name")
    return render(
        request, "integrations/mapping_list.html", {"mappings": mappings, "section": "data"}
    )


@write_required
def mapping_edit(request: HttpRequest, pk: int) -> HttpResponse:
    saved = get_object_or_404(ColumnMapping, pk=pk)
    before = audit.snapshot(saved)
    targets = plan_targets(spec_for(saved.object_type))
    form = ColumnMappingForm(request.POST or None, instance=saved, targets=targets)
    if request.method == "POST" and form.is_valid():
        services.update_mapping(_user(request), form.save(commit=False), before)
        messages.success(request, _("Mapping “%(name)s” saved.") % {"name": saved.name})
        return redirect("integrations:mappings")
    return render(
        request,
        "integrations/mapping_edit.html",
        {"form": form, "mapping": saved, "section": "data"},
    )


@write_required
@require_POST
def mapping_delete(request: HttpRequest, pk: int) -> HttpResponse:
    saved = get_object_or_404(ColumnMapping, pk=pk)
    services.delete_mapping(_user(request), saved)
    messages.success(request, _("Mapping “%(name)s” deleted.") % {"name": saved.name})
    return redirect("integrations:mappings")


@write_required
def mapping_json(request: HttpRequest, pk: int) -> HttpResponse:
    """A saved mapping as the JSON file `kizuna import --mapping` reads."""
    saved = get_object_or_404(ColumnMapping, pk=pk)
    body = json.dumps(
        {"name": saved.name, "object_type": saved.object_type, "columns": saved.columns},
        ensure_ascii=False,
        indent=2,
    )
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kizuna-mapping-{saved.pk}.json"'
    return response


# --- Exports ------------------------------------------------------------------------------


def export_page(request: HttpRequest) -> HttpResponse:
    counts = [
        (object_type, spec_for(object_type).model._default_manager.count())
        for object_type in ObjectType
    ]
    return render(request, "integrations/export.html", {"counts": counts, "section": "data"})


def _object_type(name: str) -> str:
    if name not in ObjectType.values:
        raise Http404
    return name


def _filename(object_type: str, extension: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"kizuna-{object_type}-{stamp}.{extension}"


def _records(request: HttpRequest, object_type: str) -> QuerySet[Any] | None:
    """Accounts as the account list shows them (its filters and order, from the query
    string), so that list's export links export what it shows; other types whole."""
    if object_type != ObjectType.ACCOUNTS or not request.GET:
        return None
    definitions = customer_services.custom_field_definitions()
    spec = queries.AccountFilter.from_query(request.GET, definitions)
    return queries.accounts_for(spec, _user(request), definitions)


def export_csv(request: HttpRequest, object_type: str) -> StreamingHttpResponse:
    object_type = _object_type(object_type)
    response = StreamingHttpResponse(
        exports.csv_lines(object_type, _records(request, object_type)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(object_type, "csv")}"'
    return response


def export_xlsx(request: HttpRequest, object_type: str) -> FileResponse:
    object_type = _object_type(object_type)
    # Written to an anonymous temporary file (deleted when the response closes it), so a
    # large export never sits in memory whole.
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    exports.write_xlsx(object_type, handle, _records(request, object_type))
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=_filename(object_type, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
