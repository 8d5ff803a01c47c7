"""Which client databases exist, and the open handles (canonical store + read model) per process.

A ``ClientHandle`` owns one canonical connection (guarded by a lock: libsql connections
are not shared across threads safely) and hands each thread its own read-model
connection. ``ensure_fresh`` is called at the start of every request: a ``PRAGMA
data_version`` probe (microseconds) tells whether another process - typically the
memorygraph server - committed to the canonical file; only then does it compare the file's
change stamp with the read model's, and diff only if no other process has applied that
commit yet and the worker's freshness process is not there to do it (store/freshness.py).
"""
import os
import sqlite3
import threading
from pathlib import Path

from django.conf import settings
from django.http import Http404

from ..models import ClientDatabase
from . import sql
from .canonical import CanonicalStore, StoreError, is_lock_timeout
from .freshness import WAITING, left_to_worker, refresh_once
from .outbox import OutboxStore
from .readmodel import STAMP, ReadModel

DEFAULT_SLUG = "default"
# Files kept beside a database file: SQLite's journals, pyturso's replica metadata, the sync
# worker's owner lock. A client database's path must not be another's file nor one of these.
SIDE_SUFFIXES = ("-wal", "-shm", "-journal", "-info", "-changes", ".owner")

_handles = {}
_handles_lock = threading.Lock()


def default_memory_path():
    if settings.KB_MEMORY_DB:
        return Path(settings.KB_MEMORY_DB).expanduser()
    return settings.DATA_DIR / "demo-memory.db"


def ensure_default_client():
    """Register the `default` client database, pointing at KB_MEMORY_DB (or the demo file)."""
    path = str(default_memory_path())
    client, created = ClientDatabase.objects.get_or_create(
        slug=DEFAULT_SLUG, defaults={"name": "Default", "path": path}
    )
    if not created and client.path != path:
        client.path = path
        client.save(update_fields=["path"])
    return client


def get_client(slug):
    """The client database of a URL; an archived one, `default` included, is not found.
    `default` is registered first if it is not, and pointed at KB_MEMORY_DB if it points
    elsewhere: one query when it is as it should be, where ensure_default_client's
    get_or_create on every request cost 0.5 ms more (issue 11), and a raw query, as
    access.client_and_role's, 0.1 ms where the ORM's get took 0.8 ms."""
    found = list(ClientDatabase.objects.raw(sql.CLIENT_BY_SLUG, [slug]))
    if slug == DEFAULT_SLUG and (not found or found[0].path != str(default_memory_path())):
        ensure_default_client()
        found = list(ClientDatabase.objects.raw(sql.CLIENT_BY_SLUG, [slug]))
    if not found:
        raise Http404(f"No client database named {slug!r}.")
    return found[0]


def file_stem(path):
    """The real path of a database file, with a side file mapped to the file it belongs to."""
    real = os.path.realpath(path)
    for suffix in SIDE_SUFFIXES:
        if real.endswith(suffix):
            return real[:-len(suffix)]
    return real


def files_in_use(*, exclude_pk=None):
    """{file stem: slug} of every client database's files but one's: its memorygraph file or
    replica and its read model. Archived databases count: restoring one must find its files its own."""
    clients = ClientDatabase.objects.all()
    used = {}
    if not clients.filter(slug=DEFAULT_SLUG).exists():
        used[file_stem(default_memory_path())] = DEFAULT_SLUG  # registered on the first request
    for client in clients.exclude(pk=exclude_pk):
        for path in (client.path, client.readmodel_path):
            used.setdefault(file_stem(path), client.slug)
    return used


class ClientHandle:
    def __init__(self, client):
        self.client = client
        self.lock = threading.RLock()
        self._store = None
        self._seen_version = None
        self._local = threading.local()

    @property
    def synced(self):
        return self.client.synced

    @property
    def store(self):
        """The canonical file, or for a synced client the outbox in front of its replica
        (web processes never open a replica: its sync worker owns it)."""
        if self._store is None:
            if self.synced:
                self._check_synced_index()
                self._store = OutboxStore(self.client.readmodel_path, self.client.path)
            else:
                lock = f"{self.client.readmodel_path}-writers.lock"  # our writers' turns (store/writers.py)
                self._store = CanonicalStore(self.client.path, writers=lock)
        return self._store

    def _check_synced_index(self):
        if not self.readmodel.is_built(self.client.path):
            raise StoreError(
                f"{self.client.name} is a synced database whose replica has not been indexed yet. "
                "The sync worker does this on its first run: check that `manage.py kb_sync` is running "
                "and see the sync status page for its last error.")

    @property
    def readmodel(self):
        rm = getattr(self._local, "rm", None)
        if rm is None:
            self.client.readmodel_path.parent.mkdir(parents=True, exist_ok=True)
            rm = self._local.rm = ReadModel(self.client.readmodel_path)
        return rm

    def forget_seen(self):
        """The next ensure_fresh compares stamps, though this connection's data_version is unmoved."""
        self._seen_version = None

    def ensure_fresh(self, *, apply=False):
        """Make the read model reflect every commit made to the canonical file so far, or, while
        the freshness process applies other writers' commits (its beacon), every commit it has
        applied. apply: apply them here whatever that process does (it, and tools that must
        read the file's exact state: the bridge, imports, exports)."""
        if self.synced:
            # The sync worker keeps a synced client's read model fresh after every pull.
            self._check_synced_index()
            return self.readmodel
        with self.lock:
            store, rm = self.store, self.readmodel
            version = store.data_version()
            if not rm.is_built(store.path):
                self._rebuild(store, rm)
            elif version != self._seen_version:
                if not apply and left_to_worker(rm, store):
                    return rm  # _seen_version unchanged: the next request looks again
                try:
                    if refresh_once(rm, store) is WAITING:
                        return rm  # our other writers' updates are due in milliseconds: look again then
                except sqlite3.OperationalError as exc:
                    if not is_lock_timeout(exc):
                        raise
                    # The read model's lock outlasted its busy timeout (a rebuild, a bulk import):
                    # serve it as it is; the next request looks again.
                    return rm
            self._seen_version = version
        return rm

    @staticmethod
    def _rebuild(store, rm, progress=None):
        # The stamp is read before the rows: the new read model holds that state at least.
        return rm.rebuild(store, progress=progress, meta={STAMP: store.change_stamp() or ""})

    def rebuild(self, progress=None):
        if self.synced:
            raise StoreError(f"{self.client.name} is synced: its sync worker rebuilds its index "
                             "(use Rebuild index on the sync status page).")
        with self.lock:
            version = self.store.data_version()
            result = self._rebuild(self.store, self.readmodel, progress)
            self._seen_version = version
            return result

    def close(self):
        if self._store is not None:
            self._store.close()
            self._store = None
        rm = getattr(self._local, "rm", None)
        if rm is not None:
            rm.close()
            self._local.rm = None


def handle_for(client):
    key = (client.slug, client.path, client.mode)
    with _handles_lock:
        handle = _handles.get(key)
        if handle is None:
            handle = _handles[key] = ClientHandle(client)
        return handle


def close_all():
    """Close every handle (tests, and after a client's path changed)."""
    with _handles_lock:
        for handle in _handles.values():
            handle.close()
        _handles.clear()
