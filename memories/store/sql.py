"""The store room's SQL: the canonical memorygraph file and our read model beside it.

Canonical statements are run by store/canonical.py (the interchange writer and the sync outbox
write the same rows, so they use some of them too); read-model statements by store/readmodel.py
and store/freshness.py (upkeep, version rows, meta); CLIENT_BY_SLUG by store/registry.py. The
files' DDL is in store/schema.py. SQL that another room runs lives in that room's sql module
(search/, sync/, interchange/, and memories/sql.py for the pages). Every statement is
parameterised.
"""

# Canonical store (memorygraph format) ------------------------------------------------

CANONICAL_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"

# A version string that changes on every write: the column has second resolution, the
# JSON updated_at has microseconds.
NODE_VERSION = (
    "updated_at || '|' || coalesce(CASE WHEN json_valid(properties) "
    "THEN json_extract(properties, '$.updated_at') END, "
    "length(properties))"
)
NODE_VERSIONS = f"SELECT id, {NODE_VERSION} FROM nodes WHERE label = 'Memory'"
# Full scans page by rowid (file order): paging by the text id reads the file out of order (14x slower).
NODES_ALL = (
    f"SELECT id, properties, {NODE_VERSION}, rowid FROM nodes WHERE label = 'Memory' AND rowid > ? "
    "ORDER BY rowid LIMIT ?"
)
# By ids: "+label" keeps SQLite on the primary key. With a few hundred ids bound it chose the
# partial index idx_nodes_memory (label = 'Memory') and scanned every memory for each query: reading
# back a 1,000-row chunk of an import cost 250 ms at 100,000 memories (quadratic over the import).
NODES_BY_IDS = (f"SELECT id, properties, {NODE_VERSION} FROM nodes "
                "WHERE +label = 'Memory' AND id IN ({marks})")
NODE_COUNT = "SELECT count(*) FROM nodes WHERE label = 'Memory'"
EDGE_COUNT = "SELECT count(*) FROM relationships"
META_CLAIM = "UPDATE meta SET value = ? WHERE key = ? AND value = ?"
META_GET = "SELECT value FROM meta WHERE key = ?"
META_PUT = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
META_DROP = "DELETE FROM meta WHERE key = ?"
META_CLAIMS_DROP = "DELETE FROM meta WHERE key LIKE ?"
META_LIKE = "SELECT key, value FROM meta WHERE key LIKE ?"
# The file header as the pager sees it: write version (2 = WAL) and the file change counter.
FILE_HEADER = "SELECT hex(substr(data, 19, 1)), hex(substr(data, 25, 4)) FROM sqlite_dbpage WHERE pgno = 1"
NODE_GET = "SELECT properties FROM nodes WHERE id = ? AND label = 'Memory'"
NODE_INSERT = (
    "INSERT INTO nodes (id, label, properties, created_at, updated_at) "
    "VALUES (?, 'Memory', ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)
NODE_INSERT_AT = ("INSERT INTO nodes (id, label, properties, created_at, updated_at) "
                  "VALUES (?, 'Memory', ?, ?, ?)")
NODE_UPDATE = ("UPDATE nodes SET properties = ?, updated_at = CURRENT_TIMESTAMP "
               "WHERE id = ? AND label = 'Memory'")
NODE_DELETE = "DELETE FROM nodes WHERE id = ? AND label = 'Memory'"
NODE_EDGES_DELETE = "DELETE FROM relationships WHERE from_id = ? OR to_id = ?"

EDGE_VERSION = (
    "length(properties) || '|' || CASE WHEN json_valid(properties) THEN "
    "coalesce(json_extract(properties, '$.last_validated'), '') || '|' || "
    "coalesce(json_extract(properties, '$.strength'), '') "
    "ELSE '' END"
)
_EDGE_COLS = f"id, from_id, to_id, rel_type, properties, created_at, NULL, {EDGE_VERSION}"
_EDGE_COLS_TEMPORAL = (
    f"id, from_id, to_id, rel_type, properties, created_at, valid_until, "
    f"{EDGE_VERSION} || '|' || coalesce(valid_until, '')"
)
EDGE_VERSIONS = f"SELECT id, {EDGE_VERSION} FROM relationships"
EDGE_VERSIONS_TEMPORAL = f"SELECT id, {EDGE_VERSION} || '|' || coalesce(valid_until, '') FROM relationships"
# The same by pages of rowids, one short read each (store/freshness.py: the diff outside one snapshot).
NODE_VERSIONS_PAGE = (
    f"SELECT id, {NODE_VERSION}, rowid FROM nodes WHERE label = 'Memory' AND rowid > ? ORDER BY rowid LIMIT ?"
)
EDGE_VERSIONS_PAGE = (
    f"SELECT id, {EDGE_VERSION}, rowid FROM relationships WHERE rowid > ? ORDER BY rowid LIMIT ?"
)
EDGE_VERSIONS_PAGE_TEMPORAL = (
    f"SELECT id, {EDGE_VERSION} || '|' || coalesce(valid_until, ''), rowid FROM relationships "
    "WHERE rowid > ? ORDER BY rowid LIMIT ?"
)
EDGES_ALL = f"SELECT {_EDGE_COLS}, rowid FROM relationships WHERE rowid > ? ORDER BY rowid LIMIT ?"
EDGES_ALL_TEMPORAL = (f"SELECT {_EDGE_COLS_TEMPORAL}, rowid FROM relationships "
                      "WHERE rowid > ? ORDER BY rowid LIMIT ?")
EDGES_BY_IDS = f"SELECT {_EDGE_COLS} FROM relationships WHERE id IN ({{marks}})"
EDGES_BY_IDS_TEMPORAL = f"SELECT {_EDGE_COLS_TEMPORAL} FROM relationships WHERE id IN ({{marks}})"
EDGE_EXISTS = "SELECT 1 FROM relationships WHERE from_id = ? AND to_id = ? AND rel_type = ? LIMIT 1"
# Is there already a path to_id ->...-> from_id of this type? Then from_id -> to_id closes a cycle.
# {edges} is the table of relationships: the canonical file's here, the read model's for a synced
# client's web side (sync/sql.py).
REACHES = """
WITH RECURSIVE reach(id) AS (
    SELECT ?1
    UNION
    SELECT e.to_id FROM {edges} e JOIN reach ON e.from_id = reach.id WHERE e.rel_type = ?2
)
SELECT 1 FROM reach WHERE id = ?3 LIMIT 1
"""
EDGE_REACHES = REACHES.format(edges="relationships")
EDGE_INSERT = (
    "INSERT INTO relationships (id, from_id, to_id, rel_type, properties, created_at) "
    "VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP)"
)
EDGE_INSERT_TEMPORAL = (
    "INSERT INTO relationships (id, from_id, to_id, rel_type, properties, created_at, "
    "valid_from, valid_until, recorded_at, invalidated_by) "
    "VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP, ?, NULL, ?, NULL)"
)
EDGE_DELETE = "DELETE FROM relationships WHERE id = ?"

# Whole rows, as imports, exports and the memorygraph bridge copy them.
# "+label": see NODES_BY_IDS.
NODE_ROWS_BY_IDS = ("SELECT id, properties, created_at, updated_at FROM nodes "
                    "WHERE +label = 'Memory' AND id IN ({marks})")
EDGE_ROWS_BY_IDS = "SELECT * FROM relationships WHERE id IN ({marks})"
EDGE_INSERT_ROW_TEMPORAL = (
    "INSERT INTO relationships (id, from_id, to_id, rel_type, properties, created_at, valid_from, "
    "valid_until, recorded_at, invalidated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
EDGE_INSERT_ROW_HALF = (
    "INSERT INTO relationships (id, from_id, to_id, rel_type, properties, created_at, valid_until, "
    "invalidated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
EDGE_INSERT_ROW = (
    "INSERT INTO relationships (id, from_id, to_id, rel_type, properties, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
# Export files are filled with NODE_INSERT_AT and EDGE_INSERT_ROW_TEMPORAL. An edge superseded
# by one outside the selection keeps that fact in its properties only.
EXPORT_DANGLING_INVALIDATIONS = (
    "UPDATE relationships SET invalidated_by = NULL WHERE invalidated_by IS NOT NULL "
    "AND invalidated_by NOT IN (SELECT id FROM relationships)"
)
# libsql (real SQLite) takes ON CONFLICT upserts; bulk copies into a memorygraph file use them.
NODE_UPSERT_ROW = (
    "INSERT INTO nodes (id, label, properties, created_at, updated_at) VALUES (?, 'Memory', ?, ?, ?) "
    "ON CONFLICT(id) DO UPDATE SET properties = excluded.properties, updated_at = excluded.updated_at"
)
EDGE_UPSERT_ROW_TEMPORAL = EDGE_INSERT_ROW_TEMPORAL + (
    " ON CONFLICT(id) DO UPDATE SET properties = excluded.properties, valid_until = excluded.valid_until")
EDGE_UPSERT_ROW_HALF = EDGE_INSERT_ROW_HALF + (
    " ON CONFLICT(id) DO UPDATE SET properties = excluded.properties, valid_until = excluded.valid_until")
EDGE_UPSERT_ROW = EDGE_INSERT_ROW + " ON CONFLICT(id) DO UPDATE SET properties = excluded.properties"

# Read model ----------------------------------------------------------------------------

MEMORY_COLUMNS = (
    "rid", "id", "type", "title", "summary", "content", "tags", "keywords", "importance", "band",
    "confidence", "project", "month", "created_at", "updated_at", "props", "version",
)
MEMORY_INSERT = (
    f"INSERT INTO memory ({', '.join(MEMORY_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in MEMORY_COLUMNS)})"
)
MEMORY_RID = "SELECT rid FROM memory WHERE id = ?"
MEMORY_DELETE = "DELETE FROM memory WHERE id = ?"
MEMORY_TAG_INSERT = "INSERT OR IGNORE INTO memory_tag (tag, created_at, memory_id, type) VALUES (?, ?, ?, ?)"
MEMORY_TAG_DELETE = "DELETE FROM memory_tag WHERE memory_id = ?"
MEMORY_VERSIONS = "SELECT id, version FROM memory"

EDGE_COLUMNS = (
    "id", "from_id", "to_id", "rel_type", "category", "strength", "confidence", "context",
    "props", "created_at", "current", "version",
)
# Callers delete the old row first: REPLACE would skip the delete trigger that keeps counts.
EDGE_INSERT_RM = (
    f"INSERT INTO edge ({', '.join(EDGE_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in EDGE_COLUMNS)})"
)
EDGE_RM = "DELETE FROM edge WHERE id = ?"
EDGE_RM_FOR_MEMORY = "DELETE FROM edge WHERE from_id = ? OR to_id = ?"
EDGE_VERSIONS_RM = "SELECT id, version FROM edge"
RM_MEMORY_VERSIONS_OF = "SELECT id, version FROM memory WHERE id IN ({marks})"
RM_EDGE_VERSIONS_OF = "SELECT id, version FROM edge WHERE id IN ({marks})"
FTS_REBUILD = "INSERT INTO memory_fts(memory_fts) VALUES ('rebuild')"


# Django's tables ----------------------------------------------------------------------

# A client database by its slug (not archived): registry.get_client, for a superuser's request
# and for management commands. Bind the slug.
CLIENT_BY_SLUG = "SELECT * FROM memories_clientdatabase WHERE slug = %s AND NOT archived"

# The outbox of a synced client (its table: store/schema.py), written by store/outbox.py and
# drained by the sync worker (sync/replica.py).
OUTBOX_INSERT = "INSERT INTO outbox (op, object_id, payload, queued_at) VALUES (?, ?, ?, ?)"
OUTBOX_IN_STATE = ("SELECT seq, op, object_id, payload, queued_at FROM outbox "
                   "WHERE state = ? ORDER BY seq LIMIT ?")
OUTBOX_MARK = ("UPDATE outbox SET state = ?, applied_at = coalesce(?, applied_at), pushed_at = ?, error = ? "
               "WHERE seq = ?")
OUTBOX_REQUEUE = "UPDATE outbox SET state = 'queued', error = ? WHERE seq = ?"
OUTBOX_FAILED = "SELECT count(*) FROM outbox WHERE state = 'failed'"
OUTBOX_PENDING = "SELECT count(*), min(queued_at) FROM outbox WHERE state != 'pushed'"
OUTBOX_PENDING_IDS = ("SELECT DISTINCT object_id FROM outbox "
                      "WHERE state != 'pushed' AND object_id IN ({marks})")
OUTBOX_PRUNE = "DELETE FROM outbox WHERE state = 'pushed' AND seq < (SELECT max(seq) FROM outbox) - ?"

# Read-model lookups that stand in for the canonical file on a synced client's web side.
RM_NODE_PROPS = "SELECT props FROM memory WHERE id = ?"
RM_NODES_BY_IDS = "SELECT id, props, version FROM memory WHERE id IN ({marks})"
RM_NODE_COUNT = "SELECT count(*) FROM memory"
RM_EDGE_COUNT = "SELECT count(*) FROM edge"
RM_EDGES_BY_IDS = ("SELECT id, from_id, to_id, rel_type, props, created_at, current, version FROM edge "
                   "WHERE id IN ({marks})")
RM_EDGE_EXISTS = "SELECT 1 FROM edge WHERE from_id = ? AND to_id = ? AND rel_type = ? LIMIT 1"
RM_EDGE_REACHES = REACHES.format(edges="edge")
