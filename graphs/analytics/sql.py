"""All raw SQL of the analytics tables (their schema: ``ANALYTICS_TABLES`` in memories/store/readmodel.py)."""
from memories.store.rows import marks

GENERATION = "SELECT value FROM meta WHERE key = 'changed_at'"

RANKS_CLEAR = "DELETE FROM graph_rank"
RANK_INSERT = ("INSERT INTO graph_rank (memory_id, position, pagerank, community, degree_in, degree_out, "
               "degree) VALUES (?, ?, ?, ?, ?, ?, ?)")
RANK_UPSERT = RANK_INSERT.replace("INSERT INTO", "INSERT OR REPLACE INTO")
RANK_DELETE = "DELETE FROM graph_rank WHERE memory_id = ?"
MEMBERS_CLEAR = "DELETE FROM graph_member"
MEMBER_INSERT = "INSERT INTO graph_member (view, position, grp, memory_id, role) VALUES (?, ?, ?, ?, ?)"
SETS_CLEAR = "DELETE FROM graph_set"
SET_INSERT = ("INSERT INTO graph_set (name, generation, started_at, computed_at, seconds, total, detail) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)")
SETS_RETAG = "UPDATE graph_set SET generation = ?, started_at = ?, computed_at = ?"
RANKS_DETAIL = "UPDATE graph_set SET detail = ? WHERE name = 'ranks'"

# Web workers' reads.
SETS = "SELECT name, generation, started_at, computed_at, seconds, total, detail FROM graph_set"
# CROSS JOIN keeps graph_rank the outer loop, read in position order from its index: with the
# statistics a rebuild's ANALYZE leaves (graph_rank is filled after it), SQLite chose to scan
# all of memory and sort (at 100,000 memories 369 ms against 1 ms).
TOP = """
SELECT r.memory_id AS id, r.pagerank, r.community, m.title, m.type, m.summary, m.importance, m.created_at
FROM graph_rank r CROSS JOIN memory m ON m.id = r.memory_id ORDER BY r.position LIMIT ?
"""
TOP_VERSIONS = (
    "SELECT count(*), group_concat(m.id || ' ' || m.version, ' ') FROM (SELECT memory_id FROM graph_rank "
    "ORDER BY position LIMIT ?) r CROSS JOIN memory m ON m.id = r.memory_id"
)
MEMBERS = "SELECT grp, memory_id, role FROM graph_member WHERE view = ? ORDER BY position"


def ranks_of(count):
    return f"SELECT memory_id, pagerank, community FROM graph_rank WHERE memory_id IN ({marks(count)})"

# The worker's change log (graphs/analytics/state.py): triggers name every memory and edge
# row written, so the worker reads those rows instead of the whole graph after a change.
# Memory rows count only for what the analytics read (an edit is a delete and an insert).
DIRTY_TABLE = ("CREATE TABLE IF NOT EXISTS graph_dirty "
               "(seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL)")
DIRTY_TRIGGERS = tuple(
    f"CREATE TRIGGER IF NOT EXISTS graph_dirty_{table}_{suffix} AFTER {event} ON {table} "
    f"BEGIN INSERT INTO graph_dirty (kind, id) VALUES ('{table[0]}', {row}.id); END"
    for table in ("memory", "edge")
    for suffix, event, row in (("ai", "INSERT", "new"), ("ad", "DELETE", "old"),
                               ("au", "UPDATE", "new"), ("aux", "UPDATE", "old"))
)
# The log is bounded: with no worker emptying it (the worker stopped, runserver) every write
# would add a row for good. Every 1,000th row drops those more than DIRTY_KEEP rows old and
# records how far it dropped; a state behind that mark reloads from a snapshot (a state that
# far behind would anyway: GraphState.stale).
DIRTY_KEEP = 100_000
DIRTY_DROPPED = "graph_dirty_dropped"
DIRTY_TRIGGERS += (
    "CREATE TRIGGER IF NOT EXISTS graph_dirty_cap AFTER INSERT ON graph_dirty "
    f"WHEN new.seq % 1000 = 0 AND new.seq > {DIRTY_KEEP} BEGIN "
    f"DELETE FROM graph_dirty WHERE seq <= new.seq - {DIRTY_KEEP}; "
    f"INSERT INTO meta (key, value) VALUES ('{DIRTY_DROPPED}', new.seq - {DIRTY_KEEP}) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value; END",
)
DIRTY_DROPPED_GET = f"SELECT value FROM meta WHERE key = '{DIRTY_DROPPED}'"
DIRTY_TRIGGERS_FOUND = ("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                        "AND name LIKE 'graph_dirty_%'")
# AUTOINCREMENT: seq never goes back, even when the worker has emptied the log.
DIRTY_MAX = "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'graph_dirty'"
DIRTY_COUNT = "SELECT count(*) FROM graph_dirty WHERE seq > ?"
DIRTY_SINCE = "SELECT seq, kind, id FROM graph_dirty WHERE seq > ? ORDER BY seq"
DIRTY_CLEAR = "DELETE FROM graph_dirty WHERE seq <= ?"
BUILT_AT = "SELECT value FROM meta WHERE key = 'built_at'"
STATE_NODES = "SELECT id, rid, type, importance FROM memory ORDER BY rid"
STATE_EDGES = ("SELECT id, from_id, to_id, rel_type, category, strength FROM edge "
               "WHERE current = 1 ORDER BY id")
STORED_RANKS = "SELECT memory_id, pagerank, community FROM graph_rank"
MEMBERS_CLEAR_VIEW = "DELETE FROM graph_member WHERE view = ?"


def state_nodes_of(count):
    return f"SELECT id, rid, type, importance FROM memory WHERE id IN ({marks(count)})"


def state_edges_of(count):
    return (f"SELECT id, from_id, to_id, rel_type, category, strength FROM edge "
            f"WHERE current = 1 AND id IN ({marks(count)})")
