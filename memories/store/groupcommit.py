"""Group commit: writes that arrive while one is committing are committed together in the next.

A commit to a memorygraph file in its rollback-journal mode costs several fsyncs (5-25 ms on this
disk, the bench's raw rate), and writes to one file are serial. Threads of one process that
arrive while a write transaction is in progress queue here instead of waiting for the handle's
lock one by one; when it is free, one of them (the leader) runs every queued write in ONE
transaction, each in a savepoint of its own, so a write that fails (validation, a conflict)
is rolled back alone and answered with its own error while the others commit. The leader then
updates the read model once for the writes that succeeded, still under the lock, writes their
audit entries in one insert, and hands each waiting thread its own result or exception.

At most ``MAX_WRITES`` writes share a transaction: the memorygraph server waits behind our write
lock (memorygraph-format.md: keep write transactions short), and one small write takes well
under a millisecond inside it, so the lock is held about as long as for one commit.
"""
import threading
import weakref
from contextlib import contextmanager

MAX_WRITES = 32

_groups = weakref.WeakKeyDictionary()
_groups_lock = threading.Lock()


class _Write:
    __slots__ = ("run", "outcome", "error", "done")

    def __init__(self, run):
        self.run, self.outcome, self.error, self.done = run, None, None, False


class WriteGroup:
    """The queue of one handle's writes in this process."""

    def __init__(self):
        self._cond = threading.Condition()
        self._queue = []
        self._leading = False

    def submit(self, handle, run, *, apply, record):
        """Run ``run(store)`` inside a savepoint of a transaction shared with concurrent writes;
        returns what it returned or raises what it raised. Once per group, for the outcomes of the
        writes that succeeded: ``apply(handle, outcomes)`` under the handle's lock after the
        commit (the read model, before anyone is answered), then ``record(outcomes)`` outside it
        (the audit log). The same two callables for every write of a handle."""
        write = _Write(run)
        if handle.lock._is_owned():
            # A caller holding the handle (a bulk copy, a job) would deadlock waiting for a
            # leader that waits for that lock: its write is a group of its own, at once.
            self._lead(handle, apply, record, batch=[write])
        else:
            self._join(write, handle, apply, record)
        if write.error is not None:
            raise write.error
        return write.outcome

    def _join(self, write, handle, apply, record):
        with self._cond:
            self._queue.append(write)
        while True:
            with self._cond:
                while self._leading and not write.done:
                    self._cond.wait()
                if write.done:
                    break
                self._leading = True
            try:
                self._lead(handle, apply, record)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()

    def _take(self):
        with self._cond:
            batch, self._queue[:] = self._queue[:MAX_WRITES], self._queue[MAX_WRITES:]
        return batch

    def _lead(self, handle, apply, record, batch=None):
        try:
            with handle.lock:
                with handle.store.transaction() as store:
                    if batch is None:
                        # Taken once the file is ours, not before waiting for it: writes that came
                        # while our other web worker's group held the writers' turn join this group
                        # instead of the next. (A wait for the memorygraph server's SQLite lock, in
                        # BEGIN IMMEDIATE, holds the GIL in libsql: no thread queues meanwhile.)
                        batch = self._take()
                    for write in batch:
                        try:
                            with _savepoint(store.conn):
                                write.outcome = write.run(store)
                        except Exception as exc:  # noqa: BLE001 - it is this write's answer
                            write.error = exc
                outcomes = [w.outcome for w in batch if w.error is None]
                apply(handle, outcomes)
            record(outcomes)
        except BaseException as exc:
            # The transaction, apply or record failed: no write of the group is known complete.
            # One that never began fails the writes waiting for it, as a group taken before would.
            if batch is None:
                batch = self._take()
            for write in batch:
                if write.error is None:
                    write.error = exc
            if not isinstance(exc, Exception):
                raise
        finally:
            with self._cond:
                for write in batch:
                    write.done = True
                self._cond.notify_all()


@contextmanager
def _savepoint(conn):
    # Plain SQL on the store's connection: libsql's and stdlib sqlite3's both take it inside
    # the store's BEGIN IMMEDIATE.
    conn.execute("SAVEPOINT kb_write")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK TO kb_write")
        conn.execute("RELEASE kb_write")
        raise
    conn.execute("RELEASE kb_write")


def fresh_unless_writing(handle):
    """``handle.ensure_fresh()``, unless a thread of this process holds the handle (writing): then a
    request that only writes goes on without waiting, and its write queues for that thread's next
    group. Its write needs nothing else: the services read the canonical file, and the read model
    is built, since the first holder of the lock built it (ensure_fresh) before anything was written."""
    if handle.lock.acquire(blocking=False):
        try:
            handle.ensure_fresh()
        finally:
            handle.lock.release()


def group_for(handle):
    with _groups_lock:
        group = _groups.get(handle)
        if group is None:
            group = _groups[handle] = WriteGroup()
        return group
