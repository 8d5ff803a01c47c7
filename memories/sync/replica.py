"""The owner of a synced client's replica: applies its outbox, pushes, verifies, pulls, reindexes.

Exactly one process owns a replica (pyturso locks the file, and allows one writer): the
sync worker (``manage.py kb_sync``), with one thread per synced client database. A run:

1. drain: outbox operations `queued` by web workers are written into the replica in one
   transaction per batch, then marked `applied` (re-applying after a crash is harmless:
   operations are upserts and deletes by uuid);
2. push, then verify (verify.py): `stats().cdc_operations` must be 0 and the primary must hold each
   changed object as its last operation left it (a push can fail silently); verified
   operations, and those a later one on the same object superseded, become `pushed`; a
   last operation the primary lacks is queued again and the run records an error;
3. pull, and when it brought changes, refresh the read model (search, lists, graphs) by
   (id, version) diff, overlaying changes queued meanwhile so they stay visible;
4. record the run and the replica's state for the status page and the freshness badge.
"""
import fcntl
import logging
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import turso
import turso.sync
from django.utils import timezone

from ..models import SyncRun, SyncState
from ..store import outbox
from ..store import sql as store_sql
from ..store.canonical import CanonicalStore, StoreError
from ..store.readmodel import ReadModel
from .apply import apply_to_replica
from .primary import Primary, RemoteError, redact, resolve_token
from .verify import push_verify

log = logging.getLogger(__name__)

BATCH = 500
KEEP_PUSHED = 5000  # pushed outbox rows kept for the record
KEEP_RUNS = 2000  # sync runs kept per database
# The fields the worker owns; the web sets the request fields, so the worker never saves those.
WORKER_FIELDS = [
    "revision", "last_pull_at", "last_push_at", "last_ok_at", "cdc_operations", "bytes_sent",
    "bytes_received", "last_error", "error_since", "memories", "relationships", "readmodel_refreshed_at",
    "heartbeat_at", "worker",
]


class OwnershipError(StoreError):
    pass


def _fault(point):
    """Test hook: KB_SYNC_FAULT=<point> kills the worker there, as a crash would."""
    if os.environ.get("KB_SYNC_FAULT") == point:
        log.warning("KB_SYNC_FAULT=%s: exiting as a crash", point)
        os._exit(70)


def _from_unix(value):
    return datetime.fromtimestamp(value, tz=UTC) if value else None


def _describe(exc):
    text = str(exc)
    if "network error" in text or "Connection refused" in text or "timed out" in text:
        return f"Cannot reach the primary: {text.split('error:')[-1].strip()}"
    if "401" in text or "403" in text or "Unauthorized" in text:
        return f"The primary refused the auth token: {text}"
    return text


class ReplicaSync:
    """One synced client database, as its owning worker sees it."""

    def __init__(self, client):
        self.client = client
        self.conn = None
        self.store = None
        self.primary = None
        self._owner_lock = None
        Path(client.readmodel_path).parent.mkdir(parents=True, exist_ok=True)
        self.rm = ReadModel(client.readmodel_path)
        self.state, _ = SyncState.objects.get_or_create(client=client)

    # Opening --------------------------------------------------------------------------

    def _take_ownership(self):
        path = Path(self.client.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(f"{path}.owner", "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            lock.close()
            raise OwnershipError(
                f"The replica {path} is owned by {holder}; one sync worker per replica.") from exc
        lock.seek(0)
        lock.truncate()
        lock.write(f"{socket.gethostname()}:{os.getpid()}")
        lock.flush()
        self._owner_lock = lock

    def open(self):
        if self.conn is not None:
            return
        if self._owner_lock is None:
            self._take_ownership()
        token = resolve_token(self.client.token_ref)
        self.primary = Primary(self.client.remote_url, token)
        try:
            self.conn = turso.sync.connect(
                self.client.path, remote_url=self.client.remote_url, auth_token=token,
                client_name=f"kbsite-{self.client.slug}-{socket.gethostname()}")
        except turso.Error as exc:
            raise RemoteError(_describe(exc)) from exc
        try:
            self.store = CanonicalStore(self.client.path, connection=self.conn, errors=turso.Error)
        except StoreError:
            self.conn = None
            raise

    def close(self):
        self._reset_connection()
        self.rm.close()
        if self._owner_lock is not None:
            self._owner_lock.close()
            self._owner_lock = None

    # One run --------------------------------------------------------------------------

    def run(self):
        """One drain-push-verify-pull-refresh run; records it and returns its SyncRun."""
        started, clock = timezone.now(), time.perf_counter()
        record = SyncRun(client=self.client, started_at=started)
        errors = []
        try:
            self.open()
            applied = self._drain(errors)
            record.pushed = self._push_and_verify(applied, errors)
            record.pulled = self._pull()
            self._reindex(force=record.pulled or bool(applied))
        except (RemoteError, StoreError, turso.Error) as exc:
            errors.append(_describe(exc))
            if isinstance(exc, turso.Error) and "busy" not in str(exc):
                self._reset_connection()
        record.duration_ms = round((time.perf_counter() - clock) * 1000, 1)
        # Driver errors quote the primary's answer, which may echo the Authorization header.
        record.error = redact("\n".join(errors), self.primary and self.primary.token)
        self._record(record)
        return record

    def _reset_connection(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except turso.Error:
                pass
        self.conn = self.store = None

    def _mark(self, seqs, state, *, applied_at=None, pushed_at=None, error=None):
        with self.rm.write() as conn:
            conn.executemany(store_sql.OUTBOX_MARK,
                             ((state, applied_at, pushed_at, error, seq) for seq in seqs))

    def _drain(self, errors):
        """Write queued operations into the replica; returns the outbox rows now applied."""
        while True:
            rows = self.rm.conn.execute(store_sql.OUTBOX_IN_STATE, ("queued", BATCH)).fetchall()
            if not rows:
                break
            try:
                apply_to_replica(self.conn, outbox.ops(rows), temporal=self.store.temporal)
                self.conn.commit()
            except turso.Error:
                self.conn.rollback()
                self._apply_one_by_one(rows, errors)
                continue
            _fault("after_replica_commit")
            self._mark([row["seq"] for row in rows], "applied", applied_at=time.time())
        return self.rm.conn.execute(store_sql.OUTBOX_IN_STATE, ("applied", -1)).fetchall()

    def _apply_one_by_one(self, rows, errors):
        """A batch failed: apply what can be, and set aside (state failed, shown on the status
        page) what the replica refuses as data. Any other error ends the run with every
        operation still queued."""
        for row in rows:
            try:
                apply_to_replica(self.conn, outbox.ops([row]), temporal=self.store.temporal)
                self.conn.commit()
            except (turso.IntegrityError, turso.DataError) as exc:
                self.conn.rollback()
                message = f"{row['op']} {row['object_id']} could not be applied to the replica: {exc}"
                errors.append(message)
                self._mark([row["seq"]], "failed", error=message)
            else:
                self._mark([row["seq"]], "applied", applied_at=time.time())

    def _push_and_verify(self, applied, errors):
        if not applied and not self.conn.stats().cdc_operations:
            return 0
        self.conn.push()
        _fault("after_push")
        left = self.conn.stats().cdc_operations
        if left:
            errors.append(f"The push returned with {left} change(s) still unsent; they will be sent again.")
            return 0
        good, lost = push_verify(primary=self.primary, rows=applied)
        if good:
            self._mark(good, "pushed", pushed_at=time.time())
        if lost:
            # A push can return normally without the primary having the rows: send them again.
            with self.rm.write() as conn:
                conn.executemany(store_sql.OUTBOX_REQUEUE,
                                 (("not found at the primary after a push", seq) for seq in lost))
            errors.append(f"{len(lost)} change(s) were pushed but not found at the primary; "
                          "they are queued to be sent again.")
        with self.rm.write() as conn:
            conn.execute(store_sql.OUTBOX_PRUNE, (KEEP_PUSHED,))
        return len(good)

    def _pull(self):
        return bool(self.conn.pull())

    def _overlay_queued(self, conn):
        outbox.overlay(conn, outbox.queued_ops(conn))

    def _meta(self):
        return {"temporal": "1" if self.store.temporal else "0"}

    def _reindex(self, *, force):
        if not self.rm.is_built(self.client.path):
            self.rebuild()
        elif force:
            self.rm.refresh(self.store, overlay=self._overlay_queued, meta=self._meta())
            self._counted()

    def rebuild(self, progress=None):
        self.open()
        result = self.rm.rebuild(self.store, progress=progress, overlay=self._overlay_queued,
                                 meta=self._meta())
        self._counted()
        return result

    def _counted(self):
        self.state.memories = self.store.count_nodes()
        self.state.relationships = self.store.count_edges()
        self.state.readmodel_refreshed_at = timezone.now()

    # Bookkeeping ----------------------------------------------------------------------

    def _record(self, record):
        state, now = self.state, timezone.now()
        count, oldest = outbox.pending(self.rm.conn)
        record.pending = count
        if self.conn is not None:
            try:
                stats = self.conn.stats()
            except turso.Error:
                stats = None
            if stats is not None:
                state.revision = str(stats.revision or "")
                state.last_pull_at = _from_unix(stats.last_pull_unix_time)
                state.last_push_at = _from_unix(stats.last_push_unix_time)
                state.cdc_operations = stats.cdc_operations
                state.bytes_sent = stats.network_sent_bytes
                state.bytes_received = stats.network_received_bytes
        if record.error:
            state.last_error = record.error
            state.error_since = state.error_since or record.started_at
        else:
            state.last_error, state.error_since, state.last_ok_at = "", None, now
        pending_age = (time.time() - oldest) if oldest else 0.0
        stale = (now - state.last_ok_at).total_seconds() if record.error and state.last_ok_at else 0.0
        record.lag_s = round(max(pending_age, stale), 2)
        state.heartbeat_at = now
        state.worker = f"{socket.gethostname()}:{os.getpid()}"
        state.save(update_fields=WORKER_FIELDS)
        record.save()
        if record.pk % 100 == 0:
            runs = SyncRun.objects.filter(client=self.client).values_list("pk", flat=True)
            keep = runs[KEEP_RUNS:KEEP_RUNS + 1]
            if keep:
                SyncRun.objects.filter(client=self.client, pk__lte=keep[0]).delete()
