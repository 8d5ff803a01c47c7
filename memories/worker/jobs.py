"""Queue, retry and report on jobs: what web requests call (they never run the work themselves)."""
import os
import socket
import time

from django.db import transaction
from django.utils import timezone

from memories.errors import KBError
from memories.store.progress import throttled

from .models import Job

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"  # who runs a job; read by crash recovery
HEARTBEAT_S = 2.0  # a running job's progress (and so its heartbeat) is written at most this often


class JobError(KBError):
    """A job that cannot finish for a reason its page should show (not a crash: no retry)."""


class JobConflict(KBError):
    status = 409


class JobCancelled(KBError):
    """Raised at a chunk's end when Cancel was pressed: what the chunks before wrote stays."""

    status = 409


CANCEL_CHECK_S = 0.5  # a running job reads its cancel flag at most this often (one indexed read)


def _user(actor):
    actor = getattr(actor, "on_behalf_of", actor)
    return actor if getattr(actor, "is_authenticated", False) else None


def _send(job):
    """Hand the job to the task queue once the row is committed (the worker must find it)."""
    from .tasks import run_job

    def send():
        result = run_job.enqueue(job.pk)
        Job.objects.filter(pk=job.pk).update(task_id=str(result.id))

    transaction.on_commit(send)


def job_enqueue(*, kind, client=None, actor=None, params=None, total=0, max_attempts=3, message="queued"):
    """Record a job and queue it for the worker; returns the Job (status queued)."""
    job = Job.objects.create(kind=kind, client=client, actor=_user(actor), params=params or {},
                             progress_total=total, max_attempts=max_attempts, message=message)
    _send(job)
    return job


def job_active(*, client, kind):
    return Job.objects.filter(client=client, kind=kind, status__in=Job.ACTIVE).first()


def job_retry(*, job):
    """Queue a failed or cancelled job again, with fresh attempts; it resumes where it stopped."""
    from .kinds import KINDS

    updated = Job.objects.filter(pk=job.pk, status__in=[Job.FAILED, Job.CANCELLED]).update(
        status=Job.QUEUED, attempts=0, message="queued again", finished_at=None, worker="", task_id="",
        cancel_requested_at=None, cancelled_by="")
    if not updated:
        raise JobConflict("Only a failed or cancelled job can be retried; "
                          "this one is queued, running or done.")
    job.refresh_from_db()
    KINDS[job.kind].retried(job)
    _send(job)
    return job


def job_cancel(*, job, actor):
    """Cancel a queued job (it never starts), or ask a running one whose kind can stop at a chunk's
    end to stop there; returns the job. Anything else is a JobConflict."""
    from .kinds import KINDS

    kind, who = KINDS[job.kind], getattr(_user(actor), "username", None) or "someone"
    if Job.objects.filter(pk=job.pk, status=Job.QUEUED).update(
            status=Job.CANCELLED, message=f"Cancelled by {who} before it started.",
            finished_at=timezone.now(), cancelled_by=who):
        job.refresh_from_db()
        kind.gave_up(job)
        return job
    job.refresh_from_db()
    if job.status != Job.RUNNING:
        raise JobConflict(f"This job is {job.status}: only a queued or running job can be cancelled.")
    if not kind.stops_at_chunks:
        raise JobConflict(f"A running {kind.label.lower()} cannot stop half-way; wait for it to finish.")
    Job.objects.filter(pk=job.pk, status=Job.RUNNING, cancel_requested_at=None).update(
        cancel_requested_at=timezone.now(), cancelled_by=who,
        message=f"Cancelled by {who}: stopping after the chunk in progress.")
    job.refresh_from_db()
    return job


def cancel_point(job):
    """check() for a running job, called where it may stop (a committed chunk's end): raises
    JobCancelled once Cancel was pressed. Reads the flag at most every CANCEL_CHECK_S."""
    last = [float("-inf")]

    def check():
        now = time.monotonic()
        if now - last[0] < CANCEL_CHECK_S:
            return
        last[0] = now
        if Job.objects.filter(pk=job.pk, cancel_requested_at__isnull=False).exists():
            raise JobCancelled()

    return check


def requeue(job, message):
    """Recovery: queue a job again whose worker died (it counts as one attempt used)."""
    updated = Job.objects.filter(pk=job.pk, status=Job.RUNNING, worker=job.worker).update(
        status=Job.QUEUED, message=message, worker="", task_id="")
    if updated:
        _send(job)
    return bool(updated)


def job_fail(job, message, *, status=Job.FAILED, only_if=(Job.RUNNING,)):
    """Mark a job finished without success, and let its kind put its own records right."""
    from .kinds import KINDS

    updated = Job.objects.filter(pk=job.pk, status__in=only_if).update(
        status=status, message=str(message)[:2000], finished_at=timezone.now())
    if updated:
        job.refresh_from_db()
        KINDS[job.kind].gave_up(job)
    return bool(updated)


def reporter(job):
    """progress(done, total, message=None) for a running job; every call is also its heartbeat."""
    def report(done, total, message=None):
        fields = {"progress_done": done, "progress_total": total, "heartbeat_at": timezone.now()}
        if message is not None:
            fields["message"] = message[:2000]
        Job.objects.filter(pk=job.pk).update(**fields)

    beat = throttled(lambda done, total: report(done, total), HEARTBEAT_S)

    def progress(done, total, message=None):
        if message is not None:
            report(done, total, message)
        else:
            beat(done, total)

    return progress
