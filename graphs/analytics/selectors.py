"""Web workers' reads of the stored analytics: plain SQL on indexed tables, no graph in memory."""
import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field

from memories.selectors import age_text

from . import sql

VIEWS = ("chains", "unsolved", "contradictions", "superseded")
# SQLite's default limit on bound parameters is 32766.
CHUNK = 4000


@dataclass(frozen=True)
class RowSet:
    """One stored row set (``ranks`` or a view's members) and when it was computed."""
    name: str
    generation: str
    started_at: float
    computed_at: float
    seconds: float
    total: int
    detail: dict = field(default_factory=dict)


@contextmanager
def snapshot(rm):
    """Read several tables as of one commit (the worker may swap the sets between two reads)."""
    conn = rm.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def sets(rm):
    """{name: RowSet} of the stored sets; empty before the first computation."""
    try:
        rows = rm.conn.execute(sql.SETS).fetchall()
    except sqlite3.OperationalError:  # a read model opened before the tables existed
        return {}
    return {r[0]: RowSet(*r[:6], json.loads(r[6])) for r in rows}


def ranks_of(*, rm, ids):
    """``(pagerank, community)`` dicts for those of ``ids`` that have been ranked."""
    ids = list(ids)
    pagerank, community = {}, {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for memory_id, rank, group in rm.conn.execute(sql.ranks_of(len(chunk)), chunk):
            pagerank[memory_id], community[memory_id] = rank, group
    return pagerank, community


def top(*, rm, limit):
    """The ``limit`` memories of highest PageRank, most central first, as node dicts that also
    carry ``pagerank`` and ``community`` (memories deleted since the computation drop out)."""
    return [dict(row) for row in rm.conn.execute(sql.TOP, (limit,))]


def top_versions(*, rm, limit):
    """A digest of the versions of the ``limit`` memories of highest PageRank (what ``top``
    reads): it moves when one of them is edited or deleted. About a millisecond at 100,000."""
    count, versions = rm.conn.execute(sql.TOP_VERSIONS, (limit,)).fetchone()
    return count, hash(versions)


def member_groups(*, rm, view, roles=None):
    """A view's members as lists of ids, one per group, in priority order; read lazily, so a
    view cut to its limit reads little more than it shows. ``roles`` (a dict) is filled with
    the role of every member read."""
    cursor = rm.conn.execute(sql.MEMBERS, (view,))
    try:
        current, group = None, []
        for grp, memory_id, role in cursor:
            if grp != current and group:
                yield group
                group = []
            current = grp
            group.append(memory_id)
            if roles is not None:
                roles[memory_id] = role
        if group:
            yield group
    finally:
        cursor.close()


def freshness(ranks, *, generation, now):
    """What a page says about its ranks: computing, up to date, or how old."""
    if ranks is None:
        return "ranks are being computed"
    if ranks.generation == generation:
        return "ranks up to date"
    return f"ranks as of {age_text(now - ranks.started_at)} ago"

