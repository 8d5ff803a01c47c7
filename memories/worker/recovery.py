"""Jobs whose worker died (kill -9, a deploy, a crash): queued again while attempts are left,
otherwise failed with the reason. Run at the worker's start and every RECOVER_S seconds."""
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .jobs import WORKER_ID, _send, job_fail, requeue
from .models import Job
from .runner import RUNNING_HERE

RECOVER_S = 15.0
STOPPED = "the worker stopped while running this job (killed or restarted); press Retry."


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead_here(worker):
    """True when worker names a process of this host that no longer runs the job."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return worker == WORKER_ID or not _alive(int(pid))


def jobs_recover(now=None):
    """Returns (requeued, failed) counts."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.KB_JOB_STALE_S)
    requeued = failed = 0
    for job in Job.objects.filter(status=Job.RUNNING):
        if job.pk in RUNNING_HERE:
            continue
        if not (job.heartbeat_at is None or job.heartbeat_at < stale or _dead_here(job.worker)):
            continue
        if job.cancel_requested_at:  # Cancel was pressed: the worker's death only made it sooner
            message = (f"Cancelled by {job.cancelled_by or 'someone'}; the worker stopped before it did. "
                       "What its committed chunks wrote stays.")
            failed += job_fail(job, message, status=Job.CANCELLED)
        elif job.attempts < job.max_attempts:
            requeued += requeue(
                job, "queued again: the worker stopped while running it (killed or restarted)")
        else:
            failed += job_fail(job, f"Failed after {job.attempts} attempt(s): {STOPPED}")
    requeued += _resend_lost(stale)
    return requeued, failed


def _resend_lost(stale):
    """A queued job whose task was taken by a worker that died before claiming it goes back in."""
    lost = 0
    for job in Job.objects.filter(status=Job.QUEUED, created_at__lt=stale).exclude(task_id=""):
        task = DBTaskResult.objects.filter(id=job.task_id).values_list("status", flat=True).first()
        if task not in ("READY",):
            _send(job)
            lost += 1
    return lost
