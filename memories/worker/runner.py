"""Running jobs: `execute` (one job, in whatever process the queue hands it to), the worker's
runner threads (django_tasks_db's own Worker loop, one per thread) and `run_pending` (the same
loop until the queue is empty: tests and `kb_worker --once`)."""
import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connections
from django.db.models import F
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker

from .jobs import WORKER_ID, JobCancelled, JobError, job_fail
from .models import Job
from .priority import lower_this_thread

log = logging.getLogger("memories.worker")

BEAT_S = 5.0  # the worker's own heartbeat of every job it runs, between their progress reports
RUNNING_HERE = set()  # ids of the jobs this process is running now (recovery leaves them alone)
_here_lock = threading.Lock()


def execute(job_id):
    """Claim a queued job and run its kind; a job not queued (cancelled, or already taken) is left."""
    from .jobs import reporter
    from .kinds import KINDS

    now = timezone.now()
    with _here_lock:  # before the claim: recovery must never take a job this process just claimed
        if job_id in RUNNING_HERE:
            # A second task for a job this process runs (recovery resent it while the first task
            # was taken but not yet claimed): leave it, and leave the mark, or recovery would take
            # the running job for one whose worker died and run it twice at once.
            return None
        RUNNING_HERE.add(job_id)
    claimed = Job.objects.filter(pk=job_id, status=Job.QUEUED).update(
        status=Job.RUNNING, attempts=F("attempts") + 1, worker=WORKER_ID, heartbeat_at=now,
        started_at=now, message="running")
    if not claimed:
        with _here_lock:
            RUNNING_HERE.discard(job_id)
        return None
    job = Job.objects.get(pk=job_id)
    try:
        result = KINDS[job.kind].run(job, reporter(job))
    except JobError as exc:
        job_fail(job, exc)
    except JobCancelled as exc:  # at a chunk's end: its kind's message says what stays done
        job.refresh_from_db()
        job_fail(job, f"Cancelled by {job.cancelled_by or 'someone'}: {exc or 'stopped at a chunk end.'}",
                 status=Job.CANCELLED)
    except Exception as exc:  # a bug: the job fails with its type, the worker keeps going
        log.exception("job %s (%s) failed", job_id, job.kind)
        job_fail(job, f"The job stopped with an internal error ({type(exc).__name__}); press Retry.")
    else:
        Job.objects.filter(pk=job_id, status=Job.RUNNING).update(
            status=Job.DONE, result=result or {}, message="done", finished_at=timezone.now(),
            progress_done=F("progress_total"))
    finally:
        with _here_lock:
            RUNNING_HERE.discard(job_id)
    return job_id


def _worker(batch):
    return Worker(queue_names=["default"], interval=0 if batch else 0.5, batch=batch, backend_name="default",
                  startup_delay=False, max_tasks=None, worker_id=WORKER_ID[:64], excluded_queue_names=[])


def run_pending():
    """Run every queued job in this process, then return: the code the worker's threads run."""
    _worker(batch=True).run()


class RunnerThread(threading.Thread):
    """One of KB_WORKER_THREADS threads taking jobs from the queue until the worker stops."""

    def __init__(self, index):
        super().__init__(name=f"kb_worker-jobs-{index}", daemon=True)
        self.loop = _worker(batch=False)

    def stop(self):
        self.loop.running = False

    def run(self):
        lower_this_thread()  # imports, exports, bulk tagging: long work that yields to web requests
        try:
            self.loop.run()
        finally:
            connections.close_all()


class HeartbeatThread(threading.Thread):
    """Beats for every job this process runs, so a job in one long step is not taken for dead."""

    def __init__(self, stop):
        super().__init__(name="kb_worker-heartbeat", daemon=True)
        self.stop_event = stop

    def run(self):
        try:
            while not self.stop_event.wait(BEAT_S):
                with _here_lock:
                    ids = list(RUNNING_HERE)
                if ids:
                    Job.objects.filter(pk__in=ids, status=Job.RUNNING).update(heartbeat_at=timezone.now())
                close_old_connections()
        finally:
            connections.close_all()


def start_runners(stop):
    """The worker's job threads; returns them (stop() each, then join)."""
    threads = [RunnerThread(i) for i in range(settings.KB_WORKER_THREADS)]
    threads.append(HeartbeatThread(stop))
    for thread in threads:
        thread.start()
    return threads
