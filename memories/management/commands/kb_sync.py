"""The sync worker: owns every synced client database's replica on this machine.

    manage.py kb_sync            run until stopped (SIGTERM/SIGINT), one thread per database
    manage.py kb_sync --once     one run per synced database, then exit (cron, tests)

Each database runs every `sync_interval` seconds, at once when "sync now" is pressed on the
status page, and rebuilds its index when asked. New, archived and changed databases are
picked up while running. One more thread computes the graph analytics of every active
client database, local ones too, after their changes (graphs.analytics), one at a time.
"""
import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections

from graphs.analytics.services import analytics_refresh
from memories import services
from memories.connector import StoreError
from memories.interchange.uploads import uploads_expire
from memories.models import ClientDatabase, SyncState
from memories.primary import RemoteError
from memories.syncworker import ReplicaSync

log = logging.getLogger("memories.sync")

TICK_S = 0.25  # how often a waiting thread looks for "sync now" / "rebuild" requests
RELOAD_S = 2.0  # how often the list of synced databases is read again
UPLOADS_TIDY_S = 300.0  # how often expired and orphaned uploads are removed
ANALYTICS_TICK_S = 1.0  # how often the analytics thread looks for changed databases


def tidy_uploads():
    """Uploads past KB_UPLOAD_KEEP_HOURS go even when nobody uploads (web processes tidy only then)."""
    try:
        removed = uploads_expire()
    except Exception:  # a failure here must not stop the syncing
        log.exception("removing expired uploads failed")
        return
    if removed:
        log.info("removed %d expired or orphaned uploads", removed)


def synced_clients(slug=None):
    clients = ClientDatabase.objects.filter(mode=ClientDatabase.MODE_SYNCED, archived=False)
    return clients.filter(slug=slug) if slug else clients


class ClientThread(threading.Thread):
    def __init__(self, client, stop, stdout):
        super().__init__(name=f"kb_sync-{client.slug}", daemon=True)
        self.client, self.stop, self.stdout = client, stop, stdout
        self.key = (client.path, client.remote_url, client.token_ref, client.sync_interval)
        self.retire = threading.Event()

    def run(self):
        sync = None
        try:
            while not self._stopping():
                try:
                    sync = sync or ReplicaSync(self.client)
                    break
                except (StoreError, RemoteError) as exc:
                    self.stdout.write(f"{self.client.slug}: {exc}")
                    self._wait(self.client.sync_interval)
            next_run = 0.0
            while sync is not None and not self._stopping():
                request = SyncState.objects.filter(client=self.client).values(
                    "sync_requested_at", "rebuild_requested_at").first() or {}
                if request.get("rebuild_requested_at"):
                    self._rebuild(sync)
                    next_run = 0.0
                if request.get("sync_requested_at") or time.monotonic() >= next_run:
                    requested = request.get("sync_requested_at")
                    try:
                        run = sync.run()
                    except Exception:  # a bug must not stop this database's syncing for good
                        log.exception("%s: sync run failed", self.client.slug)
                        run = None
                    if requested:
                        SyncState.objects.filter(client=self.client, sync_requested_at__lte=requested).update(
                            sync_requested_at=None)
                    if run is not None and run.error:
                        self.stdout.write(f"{self.client.slug}: {run.error}")
                    next_run = time.monotonic() + max(self.client.sync_interval, 0.2)
                close_old_connections()
                self._wait(TICK_S)
        finally:
            if sync is not None:
                sync.close()
            connections.close_all()

    def _rebuild(self, sync):
        services.rebuild_recorded(self.client, sync.rebuild, errors=(StoreError, RemoteError))

    def _stopping(self):
        return self.stop.is_set() or self.retire.is_set()

    def _wait(self, seconds):
        deadline = time.monotonic() + seconds
        while not self._stopping() and time.monotonic() < deadline:
            time.sleep(min(TICK_S, max(deadline - time.monotonic(), 0)))


class AnalyticsThread(threading.Thread):
    """Graph analytics of every active client database, one computation at a time and in a
    thread of its own, so that a long one (about 50 s at 100,000 memories) never holds up
    a sync run; how often each database is recomputed is analytics_refresh's debounce."""

    def __init__(self, stop, slug=None):
        super().__init__(name="kb_sync-analytics", daemon=True)
        self.stop, self.slug = stop, slug

    def run(self):
        try:
            while not self.stop.is_set():
                clients = ClientDatabase.objects.filter(archived=False)
                for client in clients.filter(slug=self.slug) if self.slug else clients:
                    if self.stop.is_set():
                        break
                    try:
                        analytics_refresh(client)
                    except Exception:  # one database's failure must not stop the others'
                        log.exception("%s: graph analytics failed", client.slug)
                close_old_connections()
                self.stop.wait(ANALYTICS_TICK_S)
        finally:
            connections.close_all()


class Command(BaseCommand):
    help = "Own the replicas of synced client databases: apply queued writes, push, verify, pull, reindex."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One run per synced database, then exit.")
        parser.add_argument("--client", help="Only this client database (slug).")

    def handle(self, *args, once=False, client=None, **options):
        if once:
            return self._once(client)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        threads = {}
        analytics = AnalyticsThread(stop, client)
        analytics.start()
        self.stdout.write(f"kb_sync: watching synced client databases (every {RELOAD_S} s for new ones)")
        tidy_at = 0.0
        while not stop.is_set():
            if time.monotonic() >= tidy_at:
                tidy_uploads()
                tidy_at = time.monotonic() + UPLOADS_TIDY_S
            wanted = {c.pk: c for c in synced_clients(client)}
            for pk, thread in list(threads.items()):
                changed = pk in wanted and ClientThread(wanted[pk], stop, self.stdout).key != thread.key
                if pk not in wanted or changed or not thread.is_alive():
                    thread.retire.set()
                    thread.join(timeout=30)
                    del threads[pk]
            for pk, database in wanted.items():
                if pk not in threads:
                    self.stdout.write(f"kb_sync: {database.slug} <-> {database.remote_url} "
                                      f"every {database.sync_interval} s")
                    threads[pk] = ClientThread(database, stop, self.stdout)
                    threads[pk].start()
            close_old_connections()
            stop.wait(RELOAD_S)
        for thread in [*threads.values(), analytics]:
            thread.join(timeout=30)
        self.stdout.write("kb_sync: stopped")

    def _once(self, client):
        tidy_uploads()
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
            self.stdout.write(f"{database.slug}: pushed {run.pushed}, pulled {'changes' if run.pulled else 'nothing'}, "
                              f"{run.pending} pending, {run.duration_ms:.0f} ms: {status}")
            failed += bool(run.error)
        if failed:
            raise SystemExit(1)
