"""The worker process (`manage.py kb_worker`): the one process that owns all long work.

Its threads: one per synced client database (sync runs), one for graph analytics, and
KB_WORKER_THREADS job runners (django_tasks_db's Worker loop) plus their heartbeat. The main
thread picks up new, archived and changed synced databases, recovers jobs whose worker died
(at start and every RECOVER_S), tidies uploads and finished task rows, and watches its child
process, the freshness process (``kb_freshness``: other writers' commits to local files,
freshness.py), restarting it when it dies.
"""
import logging
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .freshness import FreshnessProcess
from .recovery import RECOVER_S, jobs_recover
from .runner import run_pending, start_runners
from .threads import RELOAD_S, UPLOADS_TIDY_S, AnalyticsThread, ClientThread, synced_clients, tidy_uploads

log = logging.getLogger("memories.worker")

TASKS_KEEP = timedelta(days=1)  # finished rows of the task queue (our Job rows are the record)


def tidy():
    tidy_uploads()
    tidy_exports()
    try:
        DBTaskResult.objects.filter(finished_at__lt=timezone.now() - TASKS_KEEP).delete()
    except Exception:  # tidying must never stop the worker
        log.exception("removing finished task rows failed")


def recover(stdout=None):
    try:
        requeued, failed = jobs_recover()
    except Exception:
        log.exception("job recovery failed")
        return
    if (requeued or failed) and stdout:
        stdout.write(f"kb_worker: {requeued} interrupted job(s) queued again, {failed} failed")


def run(stop, *, client=None, stdout, jobs=True, fresh=True):
    """Until stop is set (SIGTERM/SIGINT). A job still running then is recovered by the next start.
    fresh: start the freshness process (without it, web workers apply other writers' commits)."""
    threads = {}
    keeper = FreshnessProcess(stdout, client) if fresh else None
    if keeper:
        keeper.start()
    analytics = AnalyticsThread(stop, client)
    analytics.start()
    recover(stdout)
    runners = start_runners(stop) if jobs else []
    stdout.write(f"kb_worker: {len(runners) - 1 if runners else 0} job thread(s); watching synced client "
                 f"databases (every {RELOAD_S} s for new ones)")
    tidy_at = recover_at = 0.0
    while not stop.is_set():
        if time.monotonic() >= tidy_at:
            tidy()
            tidy_at = time.monotonic() + UPLOADS_TIDY_S
        if time.monotonic() >= recover_at:
            recover(stdout)
            recover_at = time.monotonic() + RECOVER_S
        wanted = {c.pk: c for c in synced_clients(client)}
        for pk, thread in list(threads.items()):
            changed = pk in wanted and ClientThread(wanted[pk], stop, stdout).key != thread.key
            if pk not in wanted or changed or not thread.is_alive():
                thread.retire.set()
                thread.join(timeout=30)
                del threads[pk]
        for pk, database in wanted.items():
            if pk not in threads:
                stdout.write(f"kb_worker: {database.slug} <-> {database.remote_url} "
                             f"every {database.sync_interval} s")
                threads[pk] = ClientThread(database, stop, stdout)
                threads[pk].start()
        if keeper:
            keeper.check()
        close_old_connections()
        stop.wait(RELOAD_S)
    if keeper:
        keeper.stop()
    for runner in runners:
        getattr(runner, "stop", lambda: None)()
    for thread in [*threads.values(), analytics, *runners]:
        thread.join(timeout=5 if thread in runners else 30)
    stdout.write("kb_worker: stopped")


def run_once_jobs():
    """`--once`: recover, then run every queued job to the end in this process."""
    recover()
    run_pending()


def tidy_exports(now=None):
    """Export files (and parts a killed job left) go a day after they were written."""
    from .kinds import EXPORT_KEEP_S

    root = Path(settings.DATA_DIR) / "exports"
    cutoff = (now or time.time()) - EXPORT_KEEP_S
    removed = 0
    for path in root.glob("*/*") if root.is_dir() else []:
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:  # gone meanwhile, or not ours to remove: the next tick tries again
            continue
    return removed
