"""A client database's jobs: the list, one job (its fragment polls while it is active), Retry."""
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from memories.access import require
from memories.http import client_view, error_response, respond
from memories.models import Membership

from . import selectors
from .jobs import JobConflict, job_retry
from .models import Job

# Who may retry a kind: what starting it takes (a rebuild is an admin's action).
RETRY_ROLE = {"rebuild": Membership.ADMIN}


@client_view(role="editor")
def job_list(request, handle):
    jobs = selectors.job_list(client=handle.client)
    return respond(request, "worker/jobs.html", {"client": handle.client, "jobs": jobs,
                                                   "polling": any(j.active for j in jobs)}, partial="jobs",
                   data={"jobs": [selectors.job_data(j) for j in jobs]})


@client_view(role="editor")
def job_detail(request, handle, job_id):
    job = get_object_or_404(Job, pk=job_id, client=handle.client)
    return respond(request, "worker/job.html", {"client": handle.client, "job": job}, partial="job",
                   data=selectors.job_data(job))


@require_POST
@client_view(role="editor")
def job_retry_view(request, handle, job_id):
    job = get_object_or_404(Job, pk=job_id, client=handle.client)
    require(request.user, handle.client, RETRY_ROLE.get(job.kind, Membership.EDITOR))
    try:
        job_retry(job=job)
    except JobConflict as exc:
        return error_response(request, str(exc), status=exc.status)
    if request.htmx and not request.htmx.boosted:
        return job_detail(request, handle.client.slug, job.pk)
    return redirect("job_detail", handle.client.slug, job.pk)
