"""The interchange room's SQL: whole rows read for imports and the bridge, exports' reads of
the read model, the import writer's read-back, the bridge's own file and uploaded files.

Run by interchange/sides.py, bridge.py, bulk.py, writer.py, imports/ and exports/. The
statements writing whole rows into a memorygraph file are the canonical file's (store/sql.py).
"""

from memories.store.sql import EDGE_VERSION, NODE_VERSION

# Whole rows of a synced client's read model, as the bridge and imports read its side (sides.py).
RM_NODE_ROWS_BY_IDS = "SELECT id, props, created_at, version FROM memory WHERE id IN ({marks})"
RM_EDGE_ROWS_BY_IDS = ("SELECT id, from_id, to_id, rel_type, props, created_at, current FROM edge "
                       "WHERE id IN ({marks})")

# Exports --------------------------------------------------------------------------------
# A selection is bound as one JSON array of memory ids (json_each), in chunks: no temp table,
# so a long streamed export never shares state with the thread's other statements.

EXPORT_ALL_IDS = "SELECT id FROM memory ORDER BY rid"
EXPORT_MEMORIES = "SELECT * FROM memory WHERE id IN (SELECT value FROM json_each(?)) ORDER BY rid"
EXPORT_TITLES = "SELECT id, title FROM memory WHERE id IN (SELECT value FROM json_each(?))"
EXPORT_EDGES_FROM = (
    "SELECT id, from_id, to_id, rel_type, props, created_at, current FROM edge "
    "WHERE from_id IN (SELECT value FROM json_each(?)) ORDER BY from_id, created_at, id"
)
EXPORT_EDGES_TO = (
    "SELECT id, from_id, to_id, rel_type, props, created_at, current FROM edge "
    "WHERE to_id IN (SELECT value FROM json_each(?)) ORDER BY to_id, created_at, id"
)
# A deferred transaction takes its snapshot at its first read: this one (exports.reads.snapshot).
SNAPSHOT_START = "SELECT count(*) FROM meta"
# The import's writer process reads back the versions of the memories it just wrote.
NODE_VERSIONS_BY_IDS = f"SELECT id, {NODE_VERSION} FROM nodes WHERE +label = 'Memory' AND id IN ({{marks}})"
# ... and of the relationships, with the created_at column an upsert keeps (the rest is what it wrote).
EDGE_READBACK_BY_IDS = f"SELECT id, {EDGE_VERSION}, created_at FROM relationships WHERE id IN ({{marks}})"
EDGE_READBACK_BY_IDS_TEMPORAL = (
    f"SELECT id, {EDGE_VERSION} || '|' || coalesce(valid_until, ''), created_at FROM relationships "
    "WHERE id IN ({marks})")
# A bulk load's full-text rows, a chunk at a time: the memories added after the given rid.
FTS_FROM_RID = ("INSERT INTO memory_fts(rowid, title, summary, content, keywords) "
                "SELECT rid, title, summary, content, keywords FROM memory WHERE rid > ?")
MEMORY_LAST_RID = "SELECT coalesce(max(rid), 0) FROM memory"
# Is there anything to take apart before a bulk load (an empty read model has nothing)?
MEMORY_ANY = "SELECT 1 FROM memory LIMIT 1"
EDGE_ANY = "SELECT 1 FROM edge LIMIT 1"
# The full-text index's segments merged, once a bulk load's memories are in.
FTS_OPTIMIZE = "INSERT INTO memory_fts(memory_fts) VALUES ('optimize')"

# The memorygraph bridge's own file: the versions both sides had at the end of the last run.
BRIDGE_SCHEMA = """
CREATE TABLE IF NOT EXISTS base (kind TEXT NOT NULL, id TEXT NOT NULL, local TEXT, remote TEXT,
                                 PRIMARY KEY (kind, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (at REAL NOT NULL, summary TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
"""
BRIDGE_BASE = "SELECT id, local, remote FROM base WHERE kind = ?"
BRIDGE_BASE_PUT = "INSERT OR REPLACE INTO base VALUES (?, ?, ?, ?)"
BRIDGE_BASE_DROP = "DELETE FROM base WHERE kind = ? AND id = ?"
BRIDGE_META = "SELECT key, value FROM meta"
BRIDGE_META_PUT = "INSERT OR REPLACE INTO meta VALUES (?, ?)"
BRIDGE_RUN = "INSERT INTO runs VALUES (?, ?)"

# Uploaded files read for an import (our own copy of the upload, read-only).
IMPORT_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table'"
IMPORT_NODES = "SELECT * FROM nodes WHERE label = 'Memory'"
IMPORT_CLAUDE_FLOW = "SELECT * FROM memory_entries"
IMPORT_MCP_TURSO = "SELECT * FROM knowledge_base"


def import_edges(fields, columns):
    """The relationships' ``fields`` (our EdgeRow's names, never the file's) in order, NULL for
    those not among the table's ``columns``."""
    return "SELECT " + ", ".join(f'"{f}"' if f in columns else "NULL" for f in fields) + " FROM relationships"
