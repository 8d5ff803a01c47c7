"""A client database's jobs: the list, one job (their fragments poll while a job is active),
Retry and Cancel."""
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from memories.access import RANK, require
from memories.http import client_view, error_response, respond
from memories.models import Membership

from . import selectors
from .jobs import job_cancel, job_retry
from .kinds import exports_folder
from .models import Job

# Who may retry or cancel a kind: what starting it takes (a rebuild is an admin's action).
RETRY_ROLE = {"rebuild": Membership.ADMIN, "export": Membership.VIEWER}


def _buttons(request, jobs):
    """Retry and Cancel are shown only to those who may press them (may_act, read by the template)."""
    for job in jobs:
        job.may_act = RANK[request.kb_role] >= RANK[RETRY_ROLE.get(job.kind, Membership.EDITOR)]
    return jobs


@client_view(role="editor")
def job_list(request, handle):
    jobs = _buttons(request, selectors.job_list(client=handle.client))
    counts = selectors.job_counts(client=handle.client)
    return respond(request, "worker/jobs.html", {"client": handle.client, "jobs": jobs, "counts": counts,
                                                   "polling": any(j.active for j in jobs)}, partial="jobs",
                   data={"jobs": [selectors.job_data(j) for j in jobs], "counts": dict(counts)})


def _job(request, handle, job_id):
    """A job of this client database; an export's is its readers' (they may start one), others editors'."""
    job = get_object_or_404(Job, pk=job_id, client=handle.client)
    if job.kind != "export":
        require(request.user, handle.client, Membership.EDITOR)
    return job


@client_view
def job_detail(request, handle, job_id):
    job = _buttons(request, [_job(request, handle, job_id)])[0]
    return respond(request, "worker/job.html", {"client": handle.client, "job": job,
                                                  "duration": selectors.job_duration(job)}, partial="job",
                   data=selectors.job_data(job))


@client_view
def job_download(request, handle, job_id):
    """A finished export's file, for a day after it was written (the worker then removes it)."""
    job = _job(request, handle, job_id)
    path = exports_folder(handle.client) / job.result.get("file", "-") if job.kind == "export" else None
    if job.status != Job.DONE or path is None or not path.is_file():
        return error_response(request, "This job has no file to download (not an export, not finished, or "
                                       "its file was removed a day after it was written).", status=404)
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name.split("-", 1)[1])


def _act(request, handle, job_id, action):
    job = _job(request, handle, job_id)
    require(request.user, handle.client, RETRY_ROLE.get(job.kind, Membership.EDITOR))
    action(job)
    if request.htmx and not request.htmx.boosted:
        if request.POST.get("from") == "list":  # the list's row was pressed: answer the list
            return job_list(request, handle.client.slug)
        return job_detail(request, handle.client.slug, job.pk)
    return redirect("job_detail", handle.client.slug, job.pk)


@require_POST
@client_view
def job_retry_view(request, handle, job_id):
    return _act(request, handle, job_id, lambda job: job_retry(job=job))


@require_POST
@client_view
def job_cancel_view(request, handle, job_id):
    """Cancel: a queued job never starts; a running import or bulk tagging stops after its chunk."""
    return _act(request, handle, job_id, lambda job: job_cancel(job=job, actor=request.user))
