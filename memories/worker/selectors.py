"""Reads of jobs for the pages and their JSON twins."""
from .kinds import KINDS
from .models import Job

RECENT = 50


def job_list(*, client, limit=RECENT):
    return list(Job.objects.filter(client=client).select_related("actor")[:limit])


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
            "heartbeat_at": stamp(job.heartbeat_at), "finished_at": stamp(job.finished_at)}
