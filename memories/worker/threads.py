"""The worker's long-lived threads besides the job runners: one per synced client database
(it owns that replica: apply queued writes, push, verify, pull, reindex, rebuild when asked)
and one running the read-model upkeep of every active client database after its changes (the
steps registered in upkeep.py: graph analytics, the typo suggestions' vocabulary)."""
import logging
import threading
import time

from django.db import close_old_connections, connections

from memories.interchange.uploads import uploads_expire
from memories.models import ClientDatabase, SyncState
from memories.store.canonical import StoreError
from memories.sync import services
from memories.sync.primary import RemoteError
from memories.sync.replica import ReplicaSync

from .upkeep import upkeep_steps

log = logging.getLogger("memories.sync")

TICK_S = 0.25  # how often a waiting thread looks for "sync now" / "rebuild" requests
RELOAD_S = 2.0  # how often the list of synced databases is read again
UPLOADS_TIDY_S = 300.0  # how often expired and orphaned uploads are removed
ANALYTICS_TICK_S = 0.5  # how often the analytics thread looks for changed databases (a step is quick)


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
        services.index_rebuild_run(client=self.client, rebuild=sync.rebuild, errors=(StoreError, RemoteError))

    def _stopping(self):
        return self.stop.is_set() or self.retire.is_set()

    def _wait(self, seconds):
        deadline = time.monotonic() + seconds
        while not self._stopping() and time.monotonic() < deadline:
            time.sleep(min(TICK_S, max(deadline - time.monotonic(), 0)))


class AnalyticsThread(threading.Thread):
    """The read-model upkeep of every active client database (upkeep.py), in a thread of its own
    so that it never holds up a sync run: each tick steps the databases that changed (within
    about a second of a write). Graph analytics send their debounced full runs to a child process
    (graphs.analytics.background), adopted when they finish, so a long one (most of a minute at
    100,000 memories) holds up neither the steps nor this process's other threads."""

    def __init__(self, stop, slug=None):
        super().__init__(name="kb_sync-analytics", daemon=True)
        self.stop, self.slug = stop, slug

    def run(self):
        steps = upkeep_steps()
        try:
            while not self.stop.is_set():
                clients = ClientDatabase.objects.filter(archived=False)
                for client in clients.filter(slug=self.slug) if self.slug else clients:
                    if self.stop.is_set():
                        break
                    for step in steps:
                        try:
                            step.refresh(client)
                        except Exception:  # one database's failure must not stop the others'
                            log.exception("%s: %s failed", client.slug, step.name)
                close_old_connections()
                self.stop.wait(ANALYTICS_TICK_S)
        finally:
            for step in steps:
                step.close()
            connections.close_all()
