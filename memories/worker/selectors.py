"""Reads of jobs for the pages and their JSON twins."""
from django.db.models import Count
from django.utils import timezone

from .kinds import KINDS
from .models import Job

RECENT = 50


def job_list(*, client, limit=RECENT):
    return list(Job.objects.filter(client=client).select_related("actor")[:limit])


ORDER = (Job.RUNNING, Job.QUEUED, Job.FAILED, Job.CANCELLED, Job.DONE)


def job_counts(*, client):
    """[(status, count)] of a client database's jobs, running first, the states it has only."""
    found = dict(Job.objects.filter(client=client).order_by().values_list("status").annotate(n=Count("id")))
    return [(status, found[status]) for status in ORDER if found.get(status)]


def job_duration(job):
    """'4.2 s' / '3 min 5 s' from start to end (or to now while it runs); None before it starts."""
    if not job.started_at:
        return None
    seconds = ((job.finished_at or timezone.now()) - job.started_at).total_seconds()
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {int(seconds % 60)} s"


def job_latest(*, client, kind):
    return Job.objects.filter(client=client, kind=kind).first()


def job_data(job):
    """A job as its JSON twin shows it (never its params: they may hold thousands of ids)."""
    stamp = lambda t: t.isoformat() if t else None  # noqa: E731
    return {"id": job.pk, "kind": job.kind, "label": KINDS[job.kind].label, "status": job.status,
            "progress_done": job.progress_done, "progress_total": job.progress_total, "message": job.message,
            "attempts": job.attempts, "max_attempts": job.max_attempts, "worker": job.worker,
            "result": job.result, "actor": job.actor.get_username() if job.actor else None,
            "created_at": stamp(job.created_at), "started_at": stamp(job.started_at),
            "heartbeat_at": stamp(job.heartbeat_at), "finished_at": stamp(job.finished_at),
            "cancel_requested_at": stamp(job.cancel_requested_at), "cancelled_by": job.cancelled_by or None,
            "can_cancel": job.stoppable}
