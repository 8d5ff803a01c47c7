"""Upload a file into a client database: preview what it would do, then import with progress."""
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from ...http import client_view, error_response, respond
from ...models import ImportJob
from ...worker.models import Job
from . import runs
from .refusals import ImportRefused


class LimitedUpload(FileUploadHandler):
    """Stops reading an upload once it passes KB_UPLOAD_MAX_MB (a body without a length, or a lie)."""

    def __init__(self, request, limit):
        super().__init__(request)
        self.limit, self.received, self.too_large = limit, 0, False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def _too_large(request):
    limit = settings.KB_UPLOAD_MAX_BYTES
    return error_response(request, "The file is larger than the upload limit of "
                                   f"{settings.KB_UPLOAD_MAX_MB:g} MB (KB_UPLOAD_MAX_MB). "
                                   "Import big files with `manage.py kb_import`.",
                          status=413, errors={"file": f"at most {limit:,} bytes"})


@csrf_exempt
def import_start(request, client):
    """The size limit is enforced while the body is read, so the handler goes in before CSRF reads it."""
    if request.method == "POST":
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not (length.isascii() and length.isdigit()):
            return error_response(request, "The request's Content-Length is not a number of bytes.",
                                  status=400)
        if len(length) > 18 or int(length) > settings.KB_UPLOAD_MAX_BYTES + 64 * 1024:
            return _too_large(request)
        request.upload_handlers.insert(0, LimitedUpload(request, settings.KB_UPLOAD_MAX_BYTES))
    return _import_start(request, client)


@csrf_protect
@client_view(role="editor")
def _import_start(request, handle):
    context = {"client": handle.client, "limit_mb": settings.KB_UPLOAD_MAX_MB,
               "keep_hours": settings.KB_UPLOAD_KEEP_HOURS,
               "jobs": ImportJob.objects.filter(client=handle.client)[:10]}
    if request.method != "POST":
        return respond(request, "memories/import.html", context)
    if any(getattr(h, "too_large", False) for h in request.upload_handlers):
        return _too_large(request)
    upload = request.FILES.get("file")
    if upload is None:
        return error_response(request, "Choose a file to import.", status=400, errors={"file": "required"})
    try:
        job = runs.import_upload(handle=handle, actor=request.user, upload=upload)
    except ImportRefused as exc:  # the page names the file it refused
        raise ImportRefused(f"{upload.name}: {exc}", errors={"file": str(exc)}) from exc
    return redirect("import_job", handle.client.slug, job.pk)


def _work(job):
    """The worker's latest job for this import (its preview or its run), if it had one."""
    return Job.objects.filter(client=job.client_id, kind__in=["preview", "import"],
                              params__import=job.pk).first()


def _job_data(job, work=None):
    return {"id": job.pk, "file": job.filename, "size": job.size, "source": job.source, "status": job.status,
            "analysing": job.status == ImportJob.PREVIEW and not job.preview,
            "work": {"id": work.pk, "kind": work.kind, "status": work.status, "message": work.message}
            if work else None,
            "preview": job.preview, "done": job.done, "total": job.total, "result": job.result,
            "message": job.message, "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}


@client_view(role="editor")
def import_job(request, handle, job_id):
    job = get_object_or_404(ImportJob, pk=job_id, client=handle.client)
    work = _work(job)
    return respond(request, "memories/import_job.html", {"client": handle.client, "job": job, "work": work},
                   partial="status", data=_job_data(job, work))


@require_POST
@client_view(role="editor")
def import_run(request, handle, job_id):
    job = get_object_or_404(ImportJob, pk=job_id, client=handle.client)
    runs.import_run(handle=handle, actor=request.user, job=job)
    return redirect("import_job", handle.client.slug, job.pk)


@require_POST
@client_view(role="editor")
def import_discard(request, handle, job_id):
    job = get_object_or_404(ImportJob, pk=job_id, client=handle.client)
    runs.import_discard(job=job)
    return redirect("import_start", handle.client.slug)
