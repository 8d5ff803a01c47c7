"""Other writers' commits to a canonical file, applied to its read model once over all processes.

Every web worker, the worker process and the command-line tools open the same read model.
It records the canonical file's change stamp it reflects (``readmodel.STAMP``, the SQLite
header's file change counter, ``CanonicalStore.change_stamp``). A process that sees the file
moved (its ``PRAGMA data_version`` probe) compares the file's stamp with the recorded one:
equal means another process already applied the change, a probe of microseconds; otherwise
one process, holding the read model's write lock, diffs and records the new stamp in the
same transaction. Our own writes through the services move the stamp over themselves when
no other writer committed since their transaction began, so they cost no diff either.

Never a change lost: a stamp is only ever recorded for a state the read model holds at least
(read in the same snapshot as the diff, or proven by data_version to be ours alone), and a
WAL file, whose counter does not move, has no stamp, so every process diffs as before.
"""
import time

from .. import sql
from ..readmodel import STAMP


def refresh_once(rm, store):
    """Apply the commits other writers made to ``store``'s file to ``rm``, unless a process
    sharing ``rm`` already did. Returns the diff's counts, or None when there was nothing to do.

    The diff is read in one snapshot of the file (its shared lock holds writers' commits back
    for its duration, about 0.2 s at 100,000 memories) and applied with that snapshot's stamp
    under the read model's write lock, which the next process waits for and then finds the
    stamp equal."""
    stamp = store.change_stamp()
    if stamp is not None and stamp == rm.stamp():
        return None
    conn = rm.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        with store.snapshot():
            stamp = store.change_stamp()
            result = None if stamp is not None and stamp == rm.stamp() else _apply(rm, store, stamp)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def _apply(rm, store, stamp):
    diff = rm.diff_versions(store)
    values = {STAMP: stamp or "", "diffs": int(rm.meta("diffs") or 0) + 1}
    if any(diff.values()):
        rm.apply_diff(rm.conn, diff, list(store.iter_nodes(diff["changed"])),
                       list(store.iter_edges(diff["edges_changed"])))
        # changed_at only when rows changed: caches and the analytics' debounce key on it.
        values.update(changed_at=time.time_ns(), refreshed_at=time.time())
    rm._set_meta(rm.conn, **values)
    return {key: len(ids) for key, ids in diff.items()}


def commit_claim(store):
    """After our own commit to ``store``: ``(stamp before, stamp after)`` when no other
    connection committed since our transaction began (data_version unmoved), so the file is
    exactly the state before plus our write; None otherwise, or without stamps."""
    commit = store.take_commit()
    if commit is None:
        return None
    with store.snapshot():
        stamp, version = store.change_stamp(), store.data_version()
    return (commit[0], stamp) if stamp and version == commit[1] else None


def claim(conn, claimed):
    """In the read-model transaction that applies our write: move the recorded stamp over it,
    only from the state our write started on. A commit of another writer before ours that is
    not applied yet leaves the stamp behind, so the next probe diffs once and applies it."""
    if claimed:
        conn.execute(sql.META_CLAIM, (claimed[1], STAMP, claimed[0]))
