"""Other writers' commits to a canonical file, applied to its read model once over all processes.

Every web worker, the worker process and the command-line tools open the same read model.
It records the canonical file's change stamp it reflects (``readmodel.STAMP``, the SQLite
header's file change counter, ``CanonicalStore.change_stamp``). A process that sees the file
moved (its ``PRAGMA data_version`` probe) compares the file's stamp with the recorded one:
equal means another process already applied the change, a probe of microseconds; otherwise
one process diffs, outside the read model's write lock, then under it applies the rows found
different and records the stamp in the same transaction (``refresh_once``). Our own writes
through the services move the stamp over themselves when no other writer committed since
their transaction began, so they cost no diff either.

Never a change lost: a stamp is only ever recorded for a state the read model holds at least
(read in the same snapshot as the diff, or proven by data_version to be ours alone), and a
WAL file, whose counter does not move, has no stamp, so every process diffs as before.

Who diffs: the worker's freshness process (``manage.py kb_freshness``, started and restarted
by ``kb_worker``, memories/worker/freshness.py) probes every local client database twice a
second and applies other writers' commits, keeping a beacon file fresh. While the beacon is
fresh, web workers leave those commits to it: a request serves the read model as it is (at
most about a second behind another writer's commit; our own writes show at once) and costs
a probe, never the diff (about 1 s of CPU at 100,000 memories, during which the web worker's
other requests for that database would wait). Without a fresh beacon (no worker: tests,
``runserver``) every process applies commits itself, as before.
"""
import os
import time

from django.conf import settings

from . import sql
from .readmodel import STAMP

# The freshness process touches the beacon every second while it makes progress (a pass over
# its databases within a minute). Older than BEACON_S means nobody is applying other writers'
# commits: web workers do it themselves. kb_worker restarts a dead freshness process within a
# few seconds anyway.
BEACON_S = 10.0
# meta keys "claim <stamp before>" = "<stamp after>": our commits whose read-model update came
# before that of an earlier commit of ours, chained on once the stamp reaches them.
CLAIM = "claim "
# refresh_once's answer when the file is ahead only by our own commits in flight: look again later.
WAITING = "waiting"
KEEP_CLAIMS = 64  # the longest chain of our commits a probe follows
# Which kind of process ran a diff, for meta "diffs <role>" (the load benchmark reports them):
# kb_freshness and kb_worker set theirs; anything else counts as "web".
ROLE = "web"


def beacon_path():
    return settings.DATA_DIR / "index" / "freshness.beat"


def beacon_touch():
    path = beacon_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600)  # KB_DATA_DIR's files are the site user's alone


def beacon_fresh():
    try:
        return time.time() - os.stat(beacon_path()).st_mtime <= BEACON_S
    except OSError:
        return False


def left_to_worker(rm, store):
    """True when another writer's commit is still to apply and the freshness process is
    applying them: the caller serves the read model as it is and looks again on its next
    request. False: apply it here (no fresh beacon, a WAL file without stamps, or nothing left)."""
    if not beacon_fresh():
        return False
    stamp = store.change_stamp()
    return stamp is not None and stamp != rm.stamp()


def refresh_once(rm, store):
    """Apply the commits other writers made to ``store``'s file to ``rm``, unless a process
    sharing ``rm`` already did. Returns the diff's counts, None when there was nothing to do, or
    WAITING when the file is ahead only by our own writers' commits whose updates are due (or
    the read model caught up while this looked): the caller looks again on its next request.

    The diff runs in two steps, and only the short one holds the read model's write lock:

    1. Outside it, the file's stamp S is read first and then every (id, version) pair of both
       sides is compared (``diff_versions``): the file in short reads by pages of rowids, not
       one snapshot (a snapshot's shared lock holds writers' commits back for its duration,
       which the memorygraph server waits out: its busy timeout is 5 s), the read model as of
       its last commit (WAL: no lock). Every file row read is as of S or later. At 100,000
       memories this is 2.5-5 s of CPU; under the write lock it held back every write of the
       site for as long (kb_bench_load: requests of 6-7 s, a third of the site's writes done).
    2. Under the write lock only the ids that step found different are read again from both
       sides and applied. A row that step found equal was equal then on both sides, at a
       state of S or later, and the read model only ever moves to later states of a row (our
       own writes commit to the file before their read model; other appliers take this
       lock). So the read model holds state S at least and S is recorded, unless the stamp
       recorded meanwhile (claims of our own writes) is already later. A change made after
       the first step's reads moved the file past S: the next probe diffs again. A relationship
       whose memory is not in the read model yet is left for that next diff the same way.

    A WAL file has no stamp to tell: there the whole diff runs in one snapshot, under the lock."""
    stamp = store.change_stamp()
    if stamp is not None and stamp == rm.stamp():
        return None
    if stamp is not None and ours_in_flight(rm, store, stamp):
        return WAITING
    candidates = rm.diff_versions(store, paged=True) if stamp is not None else None
    conn = rm.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        now = store.change_stamp()
        if now is not None and now == rm.stamp():
            result = None
        elif candidates is not None and now is not None:
            result = _apply(rm, store, stamp, _still_different(rm, store, candidates))
        else:  # a WAL file, or one that became one: no stamps, one snapshot
            with store.snapshot():
                diff = rm.diff_versions(store)
                found = (diff, list(store.iter_nodes(diff["changed"])),
                         list(store.iter_edges(diff["edges_changed"])))
                result = _apply(rm, store, None, found)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def _still_different(rm, store, candidates):
    """Of the ids the unlocked diff found different, those that still are, read again from
    both sides (a few rows, where the full diff reads every row): (diff, nodes, edges)."""
    memories = candidates["changed"] + candidates["removed"]
    links = candidates["edges_changed"] + candidates["edges_removed"]
    nodes, edges = list(store.iter_nodes(memories)), list(store.iter_edges(links))
    ours, ours_edges = rm.versions_of(memories), rm.versions_of(links, edges=True)
    present, present_edges = {node[0] for node in nodes}, {edge["id"] for edge in edges}
    nodes = [node for node in nodes if ours.get(node[0]) != node[2]]
    edges = [edge for edge in edges if ours_edges.get(edge["id"]) != edge["version"]]
    diff = {"changed": [node[0] for node in nodes], "removed": [i for i in ours if i not in present],
            "edges_changed": [edge["id"] for edge in edges],
            "edges_removed": [i for i in ours_edges if i not in present_edges]}
    return diff, nodes, edges


def ours_in_flight(rm, store, stamp):
    """Is the file ahead of the read model only by our own writers' commits, whose read-model
    updates (a few milliseconds behind each commit) have not come yet, or no longer ahead at
    all? Then the probe waits for them (looks again on the next request) instead of diffing
    (store/writers.py). Any commit of another writer breaks the chain."""
    at, ours = rm.stamp(), False
    if at == stamp:
        # The read model caught up since the caller read its stamp (an update of ours came in
        # between): nothing is left to diff. Without this a probe that lost that race diffed the
        # whole file for nothing (kb_bench_agents at 100,000: stores of 5-7 s, a quarter of the
        # web workers' CPU), as its chain had no step to call ours.
        return True
    busy, commits = store.pending_commits()
    if not busy and not commits:
        return False
    for _ in range(2 * KEEP_CLAIMS):
        after = rm.meta(CLAIM + at) if at else None  # ours, applied before an earlier one of ours
        if after is None:
            after = commits.get(at)
            if after is None:
                break
            ours = True
        at = after
    if at == stamp:
        return ours
    return busy and _ahead(stamp, at) and int(stamp.split(":")[1]) == int(at.split(":")[1]) + 1


def _apply(rm, store, stamp, found):
    conn = rm.conn
    diff, nodes, edges = found
    values = {"diffs": int(rm.meta("diffs") or 0) + 1,
              f"diffs {ROLE}": int(rm.meta(f"diffs {ROLE}") or 0) + 1}
    if any(diff.values()):
        rm.apply_memories(conn, nodes)
        rm.remove_memories(conn, diff["removed"])
        rm.remove_edges(conn, diff["edges_removed"])
        if stamp is not None and store.change_stamp() != stamp:  # a memory may be newer than S
            edges = [e for e in edges if all(conn.execute(sql.MEMORY_RID, (e[end],)).fetchone()
                                             for end in ("from_id", "to_id"))]
        rm.apply_edges(conn, edges)
        # changed_at only when rows changed: caches and the analytics' debounce key on it.
        values.update(changed_at=time.time_ns(), refreshed_at=time.time())
    rm.set_meta(rm.conn, **values)
    _record(conn, stamp)
    return {key: len(ids) for key, ids in diff.items()}


def _record(conn, stamp):
    """Record that the read model holds state ``stamp`` at least, never moving the recorded
    stamp back (our writes' claims may have moved it past S meanwhile), then follow the claims
    of our commits made after it. Claims of commits before it are held by it: dropped."""
    row = conn.execute(sql.META_GET, (STAMP,)).fetchone()
    recorded = row[0] if row else ""
    if stamp is None:  # a WAL file: no stamps, no claims
        conn.execute(sql.META_CLAIMS_DROP, (CLAIM + "%",))
        conn.execute(sql.META_PUT, (STAMP, ""))
        return
    at = recorded if _ahead(recorded, stamp) else stamp
    for key, _after in conn.execute(sql.META_LIKE, (CLAIM + "%",)).fetchall():
        if not _ahead(key[len(CLAIM):], at) and key[len(CLAIM):] != at:
            conn.execute(sql.META_DROP, (key,))
    while (row := conn.execute(sql.META_GET, (CLAIM + at,)).fetchone()) is not None:
        conn.execute(sql.META_DROP, (CLAIM + at,))
        at = row[0]
    conn.execute(sql.META_PUT, (STAMP, at))


def commit_claim(store):
    """After our own commit to ``store``: ``(stamp before, stamp after)`` when no other
    connection committed between our BEGIN and the stamp read after our COMMIT (the connector
    reads it there, while our writers take turns: store/writers.py), so the file is exactly
    the state before plus our write; None otherwise, or without stamps."""
    return store.take_commit()


def claim(conn, claimed):
    """In the read-model transaction that applies our write (its rows read back inside it, so
    a later transaction always holds later rows): move the recorded stamp over it, only from
    the state our write started on. Our writers' read-model updates may come in another order
    than their commits: a claim from a state ahead of the recorded one waits in meta until the
    stamp reaches it. A commit of another writer not applied yet leaves the stamp behind, so
    the next probe diffs once and applies it (and drops the waiting claims)."""
    if not claimed:
        return
    before, after = claimed
    row = conn.execute(sql.META_GET, (STAMP,)).fetchone()
    recorded = row[0] if row else ""
    if recorded != before:
        if _ahead(before, recorded):
            conn.execute(sql.META_PUT, (CLAIM + before, after))
        return
    while (row := conn.execute(sql.META_GET, (CLAIM + after,)).fetchone()) is not None:
        conn.execute(sql.META_DROP, (CLAIM + after,))
        after = row[0]
    conn.execute(sql.META_CLAIM, (after, STAMP, before))


def _ahead(stamp, recorded):
    """Is ``stamp`` a later state of the same file than ``recorded`` ("<inode>:<counter>")?"""
    try:
        inode, counter = stamp.split(":")
        recorded_inode, recorded_counter = recorded.split(":")
        return inode == recorded_inode and int(counter) > int(recorded_counter)
    except (AttributeError, ValueError):
        return False
