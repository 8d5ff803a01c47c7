"""An upload's import: stored and previewed, run (in the request or as the worker's job), discarded.

The services of the imports room, beside the readers and plans they drive (``services.py`` at the
top of memories/ holds the writes of one memory or relationship). An ImportJob row follows the
upload through its life; the rows themselves are written by ``plans.apply``.
"""
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from ...format import FormatError
from ...models import AuditEntry, ImportJob
from ...services import Conflict, audit_user
from ...store.canonical import StoreError
from ...store.progress import throttled
from ...worker.jobs import job_enqueue
from .. import uploads
from ..sides import ClientSide
from . import plans, readers, refusals

IMPORT_INLINE_ROWS = 2000  # smaller imports run in the request (bounded); bigger ones are worker jobs
PREVIEW_INLINE_BYTES = 4 * 1024 * 1024  # bigger uploads are stored by the request and previewed by a job


def import_upload(*, handle, actor, upload):
    """Store an uploaded file and preview its import; returns the ImportJob (status preview).
    A file that cannot be imported at all raises ImportRefused and is not kept; one that
    would pass the client database's room for waiting uploads raises UploadsFull."""
    path = uploads.upload_store(client=handle.client, upload=upload)
    if upload.size > PREVIEW_INLINE_BYTES:  # reading and planning it is long work: the worker's
        record = ImportJob.objects.create(client=handle.client, actor=audit_user(actor),
                                          filename=upload.name[:255], path=str(path), size=upload.size)
        job_enqueue(kind="preview", client=handle.client, actor=actor, params={"import": record.pk},
                    message="analysing the file")
        return record
    try:
        plan = import_plan(handle=handle, path=path)
    except BaseException:
        uploads.upload_remove(path)
        raise
    return ImportJob.objects.create(client=handle.client, actor=audit_user(actor),
                                    filename=upload.name[:255], path=str(path), size=upload.size,
                                    source=plan.source, preview=plan.as_dict(), total=len(plan.writes))


def import_plan(*, handle, path):
    incoming = readers.read_path(path, max_bytes=settings.KB_UPLOAD_MAX_BYTES, scratch=Path(path).parent)
    return plans.plan(incoming, ClientSide(handle))


def import_run(*, handle, actor, job):
    """Import a previewed upload. The file is read and compared again (the database may have
    changed since the preview); every chunk is an upsert, so a failed run can be run again."""
    if job.status == ImportJob.PREVIEW and not job.preview:
        raise Conflict("This upload is still being analysed; its page shows the preview when it is ready.")
    updated = ImportJob.objects.filter(pk=job.pk, status__in=[ImportJob.PREVIEW, ImportJob.FAILED]).update(
        status=ImportJob.RUNNING, message="", done=0)
    if not updated:
        raise Conflict("This import is already running, done, discarded or expired.")
    job.refresh_from_db()
    if job.total <= IMPORT_INLINE_ROWS:
        import_execute(handle=handle, actor=actor, job=job)
    else:
        job_enqueue(kind="import", client=handle.client, actor=actor, total=job.total,
                    params={"import": job.pk})
    return job


def import_execute(*, handle, actor, job, on_progress=None):
    """Run a previewed import (in the request when small, else as the worker's job)."""
    def report(done, total):
        ImportJob.objects.filter(pk=job.pk).update(done=done, total=total)
        if on_progress:
            on_progress(done, total)

    progress = throttled(report, 0.5)
    try:
        plan = plans.plan(readers.read_path(job.path, max_bytes=settings.KB_UPLOAD_MAX_BYTES,
                                             scratch=Path(job.path).parent), ClientSide(handle))
        result = plans.apply(plan, ClientSide(handle), progress)
    except (refusals.ImportRefused, StoreError, FormatError, OSError) as exc:
        # An OSError's text names the server's paths; its reason alone is enough here.
        message = (f"The uploaded file could not be read ({exc.strerror or type(exc).__name__})."
                   if isinstance(exc, OSError) else exc)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.FAILED, message=str(message),
                                                   finished_at=timezone.now())
    else:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.DONE, result=result,
                                                   done=len(plan.writes), total=len(plan.writes),
                                                   finished_at=timezone.now())
        AuditEntry.objects.create(client=handle.client, actor=audit_user(actor), action="import",
                                  object_id=str(job.pk), after={"file": job.filename, "source": plan.source,
                                                                "counts": plan.counts, **result})
        uploads.upload_remove(job.path)


def import_discard(*, job):
    if job.status == ImportJob.RUNNING:
        raise Conflict("A running import cannot be discarded.")
    if job.status not in ImportJob.LIVE:
        raise Conflict("This import is already done, discarded or expired.")
    uploads.upload_remove(job.path)
    job.status = ImportJob.DISCARDED
    job.save(update_fields=["status"])
