"""The site's worker: the one process that owns all long work (memories/worker/loop.py).

    manage.py kb_worker            run until stopped (SIGTERM/SIGINT): sync threads, analytics, jobs
    manage.py kb_worker --once     one sync run per synced database, tidy, run queued jobs, exit

Running, it starts the freshness process (``kb_freshness``) as its child and restarts it when it dies.
"""
import signal
import threading

from django.core.management.base import BaseCommand

from memories.store import freshness
from memories.store.canonical import StoreError
from memories.sync.primary import RemoteError
from memories.sync.replica import ReplicaSync
from memories.worker import loop
from memories.worker.threads import synced_clients


class Command(BaseCommand):
    help = "Run the worker: sync of synced client databases, graph analytics and queued jobs."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="One run per synced database and every queued job, then exit.")
        parser.add_argument("--client", help="Only this client database (slug) for syncs and analytics.")
        parser.add_argument("--no-jobs", action="store_true", help="Sync and analytics only, no job threads.")
        parser.add_argument("--no-freshness", action="store_true",
                            help="Start no freshness process: web workers apply other writers' commits.")

    def handle(self, *args, once=False, client=None, no_jobs=False, no_freshness=False, **options):
        if once:
            return self._once(client, jobs=not no_jobs)
        freshness.ROLE = "worker"  # its analytics thread diffs only while no freshness process runs
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        loop.run(stop, client=client, stdout=self.stdout, jobs=not no_jobs, fresh=not no_freshness)

    def _once(self, client, jobs):
        loop.tidy()
        failed = 0
        for database in synced_clients(client):
            try:
                sync = ReplicaSync(database)
            except (StoreError, RemoteError) as exc:
                self.stdout.write(f"{database.slug}: {exc}")
                failed += 1
                continue
            try:
                run = sync.run()
            finally:
                sync.close()
            status = run.error or "ok"
            pulled = "changes" if run.pulled else "nothing"
            self.stdout.write(f"{database.slug}: pushed {run.pushed}, pulled {pulled}, "
                              f"{run.pending} pending, {run.duration_ms:.0f} ms: {status}")
            failed += bool(run.error)
        if jobs:
            loop.run_once_jobs()
        if failed:
            raise SystemExit(1)
