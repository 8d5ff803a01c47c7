"""The read model: a local SQLite file per client database, derived from the canonical store.

It holds typed memory columns, a tag link table, the edges, facet counts and an FTS5
index. It can always be rebuilt from the canonical file (``rebuild``), and is kept in
step incrementally (``apply_*`` after our own writes, ``refresh`` when the canonical
file changed underneath us) by comparing ``(id, version)`` pairs, deletions included.
"""
import json
import sqlite3
import time
from contextlib import contextmanager

from django.conf import settings

from . import schema, sql
from .rebuild import Rebuild
from .records import edge_record, memory_record
from .rows import chunks, marks

BUSY_TIMEOUT_S = 30
# meta key: the canonical file's change stamp (connector.change_stamp) this read model reflects
# at least, shared by every process that opens it, so other writers' commits are diffed once
# (memories/store/freshness.py).
STAMP = "canonical_stamp"
# (id, version) diffs this process ran (tests and the benchmark count them); meta "diffs" counts
# the read model's over all processes.
diff_runs = 0

# Whole-graph analytics, computed by the worker (graphs/analytics/) and read by web workers.
# Created if missing, so read models built before them get them; never dropped by a rebuild
# (the next computation replaces their rows, as the generation they carry has moved on).
ANALYTICS_TABLES = """
CREATE TABLE IF NOT EXISTS graph_rank (
    memory_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,  -- 0 = highest PageRank, ties in memory order
    pagerank REAL NOT NULL,
    community INTEGER NOT NULL,  -- -1 = no relationship at all
    degree_in INTEGER NOT NULL,
    degree_out INTEGER NOT NULL,
    degree INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS graph_rank_position ON graph_rank(position);
CREATE TABLE IF NOT EXISTS graph_member (
    view TEXT NOT NULL,  -- chains, unsolved, contradictions or superseded
    position INTEGER NOT NULL,  -- priority order for cutting the view to a limit
    grp INTEGER NOT NULL,  -- what is kept or cut whole: a chain, an edge and its ends, one memory
    memory_id TEXT NOT NULL,
    role TEXT NOT NULL,  -- unsolved: open (an unsolved problem) or context (its neighbour)
    PRIMARY KEY (view, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS graph_set (
    name TEXT PRIMARY KEY,  -- ranks, or the view of graph_member rows
    generation TEXT NOT NULL,  -- meta.changed_at of the read model the set was computed from
    started_at REAL NOT NULL,
    computed_at REAL NOT NULL,
    seconds REAL NOT NULL,
    total INTEGER NOT NULL,
    detail TEXT NOT NULL
) WITHOUT ROWID
"""


def connect(path):
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    # Every web thread has a connection of its own (registry.ClientHandle.readmodel): SQLite's 2 MB
    # default page cache, times 4 threads, was 8 of a web worker's MB, and a smaller one cost no
    # measurable CPU at 100,000 memories (the file's pages stay in the OS page cache).
    conn.execute(f"PRAGMA cache_size = -{page_cache_kb()}")
    return conn


def page_cache_kb():
    """KB_READMODEL_CACHE_KB; 512 in a process that has not configured Django (the analytics child
    reads the read model without it, graphs/analytics/background.py)."""
    return int(settings.KB_READMODEL_CACHE_KB) if settings.configured else 512


class ReadModel(Rebuild):
    """One connection to one read-model file. Writes run in short IMMEDIATE transactions; a
    full rebuild from the canonical store is ``rebuild`` (store/rebuild.py)."""

    def __init__(self, path):
        self.path = str(path)
        self.conn = connect(self.path)
        # The outbox of a synced client outlives rebuilds (its table is never dropped).
        tables = schema.OUTBOX_TABLE + ";" + ANALYTICS_TABLES + ";" + schema.VOCAB_TABLE
        for statement in schema.statements(tables):
            self.conn.execute(statement)

    def close(self):
        self.conn.close()

    def meta(self, key, default=None):
        try:
            row = self.conn.execute(sql.META_GET, (key,)).fetchone()
        except sqlite3.OperationalError:
            return default
        return row[0] if row else default

    def is_built(self, source):
        """Built by this code version, from this canonical file (KB_MEMORY_DB may have changed)."""
        return self.meta("version") == schema.READ_MODEL_VERSION and self.meta("source") == source

    @contextmanager
    def write(self):
        """A write transaction; it stamps meta.changed_at so caches (the graph) can tell it changed."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            stamp = time.time_ns()
            self.set_meta(self.conn, changed_at=stamp)
            self.conn.execute(schema.VOCAB_RETAG, (str(stamp),))  # a rebuild's vocabulary rows
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def changed_at(self):
        return self.meta("changed_at")

    @staticmethod
    def set_meta(conn, **values):
        """Set meta keys to values (as text) on ``conn``, inside the caller's transaction."""
        conn.executemany(
            sql.META_PUT,
            [(k, str(v)) for k, v in values.items()],
        )

    # Incremental upkeep ------------------------------------------------------------------

    @staticmethod
    def apply_memories(conn, nodes):
        """Upsert (id, props, version) triples, keeping each memory's rowid (FTS key) stable."""
        for memory_id, props, version in nodes:
            record = memory_record(memory_id, props, version)
            row = conn.execute(sql.MEMORY_RID, (memory_id,)).fetchone()
            if row:
                record["rid"] = row[0]
                conn.execute(sql.MEMORY_DELETE, (memory_id,))
                conn.execute(sql.MEMORY_TAG_DELETE, (memory_id,))
            conn.execute(sql.MEMORY_INSERT, record)
            conn.executemany(sql.MEMORY_TAG_INSERT, (
                (tag, record["created_at"], memory_id, record["type"]) for tag in json.loads(record["tags"])
            ))

    @staticmethod
    def remove_memories(conn, ids):
        for memory_id in ids:
            conn.execute(sql.MEMORY_DELETE, (memory_id,))
            conn.execute(sql.MEMORY_TAG_DELETE, (memory_id,))
            conn.execute(sql.EDGE_RM_FOR_MEMORY, (memory_id, memory_id))

    @staticmethod
    def apply_edges(conn, edges):
        records = [edge_record(e) for e in edges]
        conn.executemany(sql.EDGE_RM, ((r["id"],) for r in records))
        conn.executemany(sql.EDGE_INSERT_RM, records)

    @staticmethod
    def remove_edges(conn, ids):
        conn.executemany(sql.EDGE_RM, ((i,) for i in ids))

    def refresh(self, store, *, overlay=None, meta=None):
        """Bring the read model in step with the canonical file by an (id, version) diff."""
        diff = self.diff_versions(store)
        if any(diff.values()):
            nodes = list(store.iter_nodes(diff["changed"]))
            edges = list(store.iter_edges(diff["edges_changed"]))
            with self.write() as conn:
                self.apply_diff(conn, diff, nodes, edges)
                if overlay:
                    # Changes queued since the diff was taken stay visible (read-your-writes).
                    overlay(conn)
                self.set_meta(conn, refreshed_at=time.time(), **(meta or {}))
        return {key: len(ids) for key, ids in diff.items()}

    def diff_versions(self, store, *, paged=False):
        """{changed, removed, edges_changed, edges_removed: ids} by comparing (id, version) pairs
        (``paged``: the file's read in short reads, not one snapshot: CanonicalStore.iter_versions)."""
        global diff_runs
        diff_runs += 1
        changed, removed = self._diff_table(store.iter_versions(paged=paged), sql.MEMORY_VERSIONS)
        edges_changed, edges_removed = self._diff_table(store.iter_versions(edges=True, paged=paged),
                                                        sql.EDGE_VERSIONS_RM)
        return {"changed": changed, "removed": removed, "edges_changed": edges_changed,
                "edges_removed": edges_removed}

    def versions_of(self, ids, *, edges=False):
        """{id: version} of the given memories (or relationships) this read model holds."""
        query, found = sql.RM_EDGE_VERSIONS_OF if edges else sql.RM_MEMORY_VERSIONS_OF, {}
        for chunk in chunks(ids, 500):
            found.update(self.conn.execute(query.format(marks=marks(len(chunk))), chunk))
        return found

    def _diff_table(self, theirs, ours_query):
        """(ids new or changed in ``theirs``, ids only in ours). Theirs are streamed and ours held
        as {id: hash of version}, one table at a time: a 100,000-memory file's pairs held as
        text on both sides took a few hundred MB in the process that diffed (any web worker)."""
        ours = {memory_id: hash(version) for memory_id, version in self.conn.execute(ours_query)}
        changed = [i for i, version in theirs if ours.pop(i, None) != hash(version)]
        return changed, list(ours)

    def apply_diff(self, conn, diff, nodes, edges):
        self.apply_memories(conn, nodes)
        self.remove_memories(conn, diff["removed"])
        self.remove_edges(conn, diff["edges_removed"])
        self.apply_edges(conn, edges)

    def stamp(self):
        """The canonical file's change stamp this read model reflects (None: unknown)."""
        return self.meta(STAMP) or None

