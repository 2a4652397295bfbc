"""The write side of imports: upload a file, choose its mapping, run a dry run, apply.

A job moves uploaded → validating → validated → applying → applied (or failed). Each step is
claimed with a conditional UPDATE of the job's status, so a double click or two workers never
run the same step twice. A step on a small file runs at once in the caller (a request or the
command line); a larger one is handed to a background task and reports its progress on the
job row.

Applying checks the whole file again first — the data may have changed since the dry run —
and then writes everything in one transaction: any problem and nothing changes.
"""

from __future__ import annotations

import datetime
import gc
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kizuna.core import audit
from kizuna.core.models import User
from kizuna.customers.models import CustomFieldDefinition
from kizuna.integrations import importer, mapping, tabular
from kizuna.integrations.mapping import ColumnMap
from kizuna.integrations.models import (
    RUNNING_STATUSES,
    STALE_AFTER,
    ColumnMapping,
    ImportFile,
    ImportJob,
    ImportRowError,
    ImportStatus,
    Phase,
)
from kizuna.integrations.targets import spec_for

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
# Files up to this many rows are checked and applied within the request that asks.
INLINE_ROWS = 2000
# At most this many row problems are kept per run (the counts stay exact).
MAX_STORED_ERRORS = 50_000
PROGRESS_EVERY = 0.5  # seconds


class ImportRefused(Exception):
    """A step that cannot be taken now; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def upload(
    actor: User | None,
    object_type: str,
    file_name: str,
    content: bytes,
    *,
    language: str | None = None,
    columns: ColumnMap | None = None,
    saved_mapping: ColumnMapping | None = None,
) -> ImportJob:
    """Read an uploaded file and create its job, with `columns` as its mapping or else one
    suggested from the header row. Raises `tabular.FileProblem` when the file cannot be
    imported at all; then nothing is stored."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise tabular.FileProblem(
            _("The file is larger than %(size)d MB; split it into smaller files.")
            % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    with _bulk_work():
        inspection = tabular.inspect(content)
    if columns is None:
        definitions = list(CustomFieldDefinition.objects.all())
        suggested = mapping.suggest(inspection.headers, object_type, definitions)
        columns = ColumnMap(object_type, suggested)
    with transaction.atomic():
        job = ImportJob.objects.create(
            object_type=object_type,
            file_name=file_name[:255],
            file_format=inspection.layout.file_format,
            file_size=len(content),
            encoding=inspection.layout.encoding,
            delimiter=inspection.layout.delimiter,
            sheet_name=inspection.sheet_name[:100],
            headers=inspection.headers,
            preview=inspection.preview,
            mapping=columns.as_json(),
            saved_mapping=saved_mapping,
            rows_total=inspection.rows_total,
            language=language or translation.get_language() or "ja",
            created_by=actor,
        )
        ImportFile.objects.create(job=job, content=content, rows=inspection.packed_rows)
    return job


def set_mapping(
    job: ImportJob, columns: ColumnMap, saved_mapping: ColumnMapping | None = None
) -> None:
    """Use `columns` for the next dry run of `job`; its previous result no longer holds."""
    if job.is_running or job.status == ImportStatus.APPLIED:
        raise ImportRefused(_("The mapping cannot change while the import runs or once applied."))
    job.mapping = columns.as_json()
    job.saved_mapping = saved_mapping
    job.status = ImportStatus.UPLOADED
    job.save(update_fields=["mapping", "saved_mapping", "status"])


@transaction.atomic
def save_mapping(
    actor: User | None, name: str, object_type: str, columns: ColumnMap
) -> ColumnMapping:
    """Save `columns` under `name` for the object type, replacing a mapping of that name."""
    saved = ColumnMapping.objects.filter(object_type=object_type, name=name).first()
    if saved is None:
        saved = ColumnMapping(name=name, object_type=object_type, created_by=actor)
        before = None
    else:
        before = audit.snapshot(saved)
    saved.columns = columns.as_json()
    saved.full_clean()
    saved.save()
    if before is None:
        audit.record_create(actor, saved)
    else:
        audit.record_update(actor, saved, before)
    return saved


@transaction.atomic
def update_mapping(actor: User | None, saved: ColumnMapping, before: audit.Snapshot) -> None:
    """Save an edited mapping (already validated by its form) and log the change."""
    saved.save()
    audit.record_update(actor, saved, before)


@transaction.atomic
def delete_mapping(actor: User | None, saved: ColumnMapping) -> None:
    object_id = saved.pk
    saved.delete()
    audit.record_delete(actor, saved, object_id)


# --- Running the steps --------------------------------------------------------------------


def _claimable(statuses: Sequence[str]) -> Q:
    stale = timezone.now() - STALE_AFTER
    return Q(status__in=statuses) | Q(status__in=RUNNING_STATUSES, heartbeat_at__lt=stale)


def start_dry_run(job: ImportJob, *, inline: bool | None = None) -> None:
    """Check the file with its mapping without changing anything: in this process for a
    small file (or when `inline`), else in a background task."""
    claimed = ImportJob.objects.filter(
        _claimable([ImportStatus.UPLOADED, ImportStatus.VALIDATED, ImportStatus.FAILED]),
        pk=job.pk,
    ).update(
        status=ImportStatus.VALIDATING,
        phase="",  # "waiting for a worker" until the run reports its first progress
        rows_done=0,
        error_message="",
        heartbeat_at=timezone.now(),
    )
    if not claimed:
        raise ImportRefused(_("This import is already running or has been applied."))
    _dispatch(job, "dry_run", inline)


def start_apply(
    job: ImportJob,
    actor: User | None,
    *,
    inline: bool | None = None,
    without_dry_run: bool = False,
) -> None:
    """Apply a job whose dry run found no problem: in this process for a small file (or
    when `inline`), else in a background task.

    `without_dry_run` also takes a job just uploaded (the command line): applying checks
    every row first anyway, and with any problem it writes nothing and reports the problems
    as a dry run would."""
    statuses = [ImportStatus.VALIDATED]
    if without_dry_run:
        statuses.append(ImportStatus.UPLOADED)
    claimed = ImportJob.objects.filter(
        _claimable(statuses),
        pk=job.pk,
        error_count=0,
        error_message="",
    ).update(
        status=ImportStatus.APPLYING,
        phase="",
        rows_done=0,
        applied_by=actor,
        heartbeat_at=timezone.now(),
    )
    if not claimed:
        raise ImportRefused(
            _("Only an import whose dry run found no problems can be applied, and only once.")
        )
    _dispatch(job, "apply", inline)


def restart(job: ImportJob, actor: User | None) -> None:
    """Run again a dry run or an apply whose worker stopped reporting (it died or was
    stopped): an interrupted apply wrote nothing, its transaction was never committed."""
    if not job.is_stale:
        raise ImportRefused(_("This import is still running."))
    if job.status == ImportStatus.APPLYING:
        start_apply(job, actor)
    else:
        start_dry_run(job)


def _dispatch(job: ImportJob, step: str, inline: bool | None) -> None:
    from kizuna.integrations import tasks

    if inline is None:
        inline = job.rows_total <= INLINE_ROWS
    if inline and step == "dry_run":
        run_dry_run(job.pk)
    elif inline:
        run_apply(job.pk)
    else:
        task = tasks.dry_run_import if step == "dry_run" else tasks.apply_import
        result = task.enqueue(job.pk)
        ImportJob.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])
    job.refresh_from_db()


@contextmanager
def _bulk_work() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a run: a run allocates millions of
    objects that live until it ends, and the collector would scan them over and over (a
    third of the time of reading a large workbook). A run creates no reference cycles that
    need collecting before it ends; one collection afterwards tidies up."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


class _Progress:
    """Reports a running step's phase and rows on the job row, at most twice a second."""

    def __init__(self, job: ImportJob) -> None:
        self.job_id = job.pk
        self.last = 0.0
        self.phase = ""

    def __call__(self, phase: str, done: int) -> None:
        now = time.monotonic()
        if phase == self.phase and now - self.last < PROGRESS_EVERY:
            return
        self.phase, self.last = phase, now
        ImportJob.objects.filter(pk=self.job_id).update(
            phase=phase, rows_done=done, heartbeat_at=timezone.now()
        )


def _plan(job: ImportJob, *, keep_changes: bool) -> importer.Plan:
    spec = spec_for(job.object_type)
    progress = _Progress(job)
    layout = tabular.Layout(job.file_format, job.encoding, job.delimiter)
    stored = ImportFile.objects.filter(job=job).values_list("content", "rows").first()
    if stored is None:
        plan = importer.Plan(rows_total=job.rows_total)
        plan.problems.append(_("The uploaded file is no longer kept; upload it again."))
        return plan
    content, packed = bytes(stored[0]), bytes(stored[1])
    try:
        columns = ColumnMap.parse(job.mapping, job.object_type)
    except Exception as exc:
        plan = importer.Plan(rows_total=job.rows_total)
        plan.problems.extend(getattr(exc, "messages", [str(exc)]))
        return plan
    planner = importer.Planner(
        spec,
        columns,
        job.headers,
        file_format=job.file_format,
        keep_changes=keep_changes,
        progress=progress,
    )
    rows = tabular.unpack_rows(packed) if packed else tabular.read_rows(content, layout)
    try:
        return planner.plan(rows)
    except tabular.FileProblem as exc:
        plan = importer.Plan(rows_total=job.rows_total)
        plan.problems.append(exc.message)
        return plan


def run_dry_run(job_id: int) -> None:
    """The dry run of a claimed job (the body of the background task)."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.VALIDATING).first()
    if job is None:
        return  # another run took it, or it was never claimed
    with translation.override(job.language):
        try:
            with _bulk_work():
                plan = _plan(job, keep_changes=False)
        except Exception as exc:
            logger.exception("Dry run of import %s failed", job_id)
            _fail(job, _unexpected(exc))
            return
        _store(job, plan, ImportStatus.VALIDATED, validated_at=timezone.now())


def run_apply(job_id: int) -> None:
    """Check the claimed job's file again and write it all in one transaction (the body of
    the background task)."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.APPLYING).first()
    if job is None:
        return
    with translation.override(job.language):
        try:
            with _bulk_work():
                _apply(job)
        except Exception as exc:
            logger.exception("Applying import %s failed", job_id)
            _fail(job, _unexpected(exc))


def _apply(job: ImportJob) -> None:
    plan = _plan(job, keep_changes=True)
    if not plan.ok and job.validated_at is None:
        # Applied without a dry run: this check was the dry run.
        _store(job, plan, ImportStatus.VALIDATED, validated_at=timezone.now())
        return
    if not plan.ok:
        plan.problems.insert(
            0,
            _(
                "The file no longer passes the checks (the data in Kizuna changed since the dry "
                "run). Nothing was changed; see the problems below."
            ),
        )
        _store(job, plan, ImportStatus.FAILED)
        return
    ImportJob.objects.filter(pk=job.pk).update(
        phase=Phase.SAVING, rows_done=plan.rows_total, heartbeat_at=timezone.now()
    )
    actor = job.applied_by or job.created_by
    try:
        with transaction.atomic():
            importer.write(plan, spec_for(job.object_type), actor)
    except importer.ConcurrentChange as exc:
        message = ngettext(
            "%(count)d record was changed by someone else while the import ran. Nothing was "
            "changed; run the dry run again.",
            "%(count)d records were changed by someone else while the import ran. Nothing was "
            "changed; run the dry run again.",
            exc.count,
        ) % {"count": exc.count}
        _fail(job, message)
        return
    except IntegrityError:
        logger.warning("Import %s conflicted with a concurrent change", job.pk, exc_info=True)
        _fail(
            job,
            _(
                "Records with the same external IDs were created or deleted by someone else "
                "while the import ran. Nothing was changed; run the dry run again."
            ),
        )
        return
    _store(job, plan, ImportStatus.APPLIED, applied_at=timezone.now())


def _unexpected(exc: Exception) -> str:
    if isinstance(exc, DatabaseError):
        detail = _("the database refused a change (%(error)s)") % {"error": exc}
    else:
        detail = str(exc) or exc.__class__.__name__
    message = _(
        "The import stopped because of an unexpected error: %(error)s. Nothing was changed."
    )
    return message % {"error": detail}


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED, phase="", error_message=message, heartbeat_at=timezone.now()
    )


@transaction.atomic
def _store(job: ImportJob, plan: importer.Plan, status: str, **stamps: Any) -> None:
    """Record a run's outcome: counts, sample changes and row problems."""
    ImportRowError.objects.filter(job=job).delete()
    ImportRowError.objects.bulk_create(
        (
            ImportRowError(
                job=job,
                row_number=error.row,
                column=error.column[:255],
                value=error.value[:500],
                message=error.message,
            )
            for error in plan.errors[:MAX_STORED_ERRORS]
        ),
        batch_size=2000,
    )
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        phase="",
        rows_total=plan.rows_total or job.rows_total,
        rows_done=plan.rows_total,
        created_count=plan.created,
        updated_count=plan.updated,
        unchanged_count=plan.unchanged,
        error_count=plan.error_rows,
        sample_changes=plan.samples,
        error_message="\n".join(plan.problems),
        heartbeat_at=timezone.now(),
        **stamps,
    )


def prune_uploads(older_than: datetime.timedelta = datetime.timedelta(days=30)) -> int:
    """Delete the stored files (not the records) of finished imports older than a month."""
    cutoff = timezone.now() - older_than
    deleted, _detail = (
        ImportFile.objects.filter(job__created_at__lt=cutoff)
        .exclude(job__status__in=RUNNING_STATUSES)
        .delete()
    )
    return deleted
