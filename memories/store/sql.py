"""All raw SQL of the memories app: the canonical memorygraph tables and our read model.

Every statement is parameterised. User search text only reaches MATCH after
``memories.query.parse_query`` has quoted it.
"""

# Canonical store (memorygraph format) ------------------------------------------------

CANONICAL_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"

# The server's own DDL (0.12.4), used only to initialise a brand-new, empty file.
CANONICAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    properties TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS relationships (
    id TEXT PRIMARY KEY,
    from_id TEXT NOT NULL,
    to_id TEXT NOT NULL,
    rel_type TEXT NOT NULL,
    properties TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    valid_from TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    valid_until TIMESTAMP,
    recorded_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    invalidated_by TEXT,
    FOREIGN KEY (from_id) REFERENCES nodes(id) ON DELETE CASCADE,
    FOREIGN KEY (to_id) REFERENCES nodes(id) ON DELETE CASCADE,
    FOREIGN KEY (invalidated_by) REFERENCES relationships(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS idx_nodes_label ON nodes(label);
CREATE INDEX IF NOT EXISTS idx_nodes_created ON nodes(created_at);
CREATE INDEX IF NOT EXISTS idx_nodes_memory ON nodes(label) WHERE label = 'Memory';
CREATE INDEX IF NOT EXISTS idx_rel_from ON relationships(from_id);
CREATE INDEX IF NOT EXISTS idx_rel_to ON relationships(to_id);
CREATE INDEX IF NOT EXISTS idx_rel_type ON relationships(rel_type);
CREATE INDEX IF NOT EXISTS idx_relationships_temporal ON relationships(valid_from, valid_until);
CREATE INDEX IF NOT EXISTS idx_relationships_current ON relationships(valid_until) WHERE valid_until IS NULL;
CREATE INDEX IF NOT EXISTS idx_relationships_recorded ON relationships(recorded_at);
"""

# A version string that changes on every write: the column has second resolution, the
# JSON updated_at has microseconds.
_NODE_VERSION = (
    "updated_at || '|' || coalesce(CASE WHEN json_valid(properties) THEN json_extract(properties, '$.updated_at') END, "
    "length(properties))"
)
NODE_VERSIONS = f"SELECT id, {_NODE_VERSION} FROM nodes WHERE label = 'Memory'"
# Full scans page by rowid (file order): paging by the text id reads the file out of order (14x slower).
NODES_ALL = (
    f"SELECT id, properties, {_NODE_VERSION}, rowid FROM nodes WHERE label = 'Memory' AND rowid > ? "
    "ORDER BY rowid LIMIT ?"
)
# By ids: "+label" keeps SQLite on the primary key. With a few hundred ids bound it chose the
# partial index idx_nodes_memory (label = 'Memory') and scanned every memory for each query: reading
# back a 1,000-row chunk of an import cost 250 ms at 100,000 memories (quadratic over the import).
NODES_BY_IDS = (f"SELECT id, properties, {_NODE_VERSION} FROM nodes "
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
NODE_INSERT_AT = "INSERT INTO nodes (id, label, properties, created_at, updated_at) VALUES (?, 'Memory', ?, ?, ?)"
NODE_UPDATE = "UPDATE nodes SET properties = ?, updated_at = CURRENT_TIMESTAMP WHERE id = ? AND label = 'Memory'"
NODE_DELETE = "DELETE FROM nodes WHERE id = ? AND label = 'Memory'"
NODE_EDGES_DELETE = "DELETE FROM relationships WHERE from_id = ? OR to_id = ?"

_EDGE_VERSION = (
    "length(properties) || '|' || CASE WHEN json_valid(properties) THEN "
    "coalesce(json_extract(properties, '$.last_validated'), '') || '|' || coalesce(json_extract(properties, '$.strength'), '') "
    "ELSE '' END"
)
_EDGE_COLS = f"id, from_id, to_id, rel_type, properties, created_at, NULL, {_EDGE_VERSION}"
_EDGE_COLS_TEMPORAL = (
    f"id, from_id, to_id, rel_type, properties, created_at, valid_until, "
    f"{_EDGE_VERSION} || '|' || coalesce(valid_until, '')"
)
EDGE_VERSIONS = f"SELECT id, {_EDGE_VERSION} FROM relationships"
EDGE_VERSIONS_TEMPORAL = f"SELECT id, {_EDGE_VERSION} || '|' || coalesce(valid_until, '') FROM relationships"
# The same by pages of rowids, one short read each (store/freshness.py: the diff outside one snapshot).
NODE_VERSIONS_PAGE = (
    f"SELECT id, {_NODE_VERSION}, rowid FROM nodes WHERE label = 'Memory' AND rowid > ? ORDER BY rowid LIMIT ?"
)
EDGE_VERSIONS_PAGE = (
    f"SELECT id, {_EDGE_VERSION}, rowid FROM relationships WHERE rowid > ? ORDER BY rowid LIMIT ?"
)
EDGE_VERSIONS_PAGE_TEMPORAL = (
    f"SELECT id, {_EDGE_VERSION} || '|' || coalesce(valid_until, ''), rowid FROM relationships "
    "WHERE rowid > ? ORDER BY rowid LIMIT ?"
)
EDGES_ALL = f"SELECT {_EDGE_COLS}, rowid FROM relationships WHERE rowid > ? ORDER BY rowid LIMIT ?"
EDGES_ALL_TEMPORAL = f"SELECT {_EDGE_COLS_TEMPORAL}, rowid FROM relationships WHERE rowid > ? ORDER BY rowid LIMIT ?"
EDGES_BY_IDS = f"SELECT {_EDGE_COLS} FROM relationships WHERE id IN ({{marks}})"
EDGES_BY_IDS_TEMPORAL = f"SELECT {_EDGE_COLS_TEMPORAL} FROM relationships WHERE id IN ({{marks}})"
EDGE_EXISTS = "SELECT 1 FROM relationships WHERE from_id = ? AND to_id = ? AND rel_type = ? LIMIT 1"
# Is there already a path to_id ->...-> from_id of this type? Then from_id -> to_id closes a cycle.
EDGE_REACHES = """
WITH RECURSIVE reach(id) AS (
    SELECT ?1
    UNION
    SELECT r.to_id FROM relationships r JOIN reach ON r.from_id = reach.id WHERE r.rel_type = ?2
)
SELECT 1 FROM reach WHERE id = ?3 LIMIT 1
"""
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

# Read model ----------------------------------------------------------------------------

# 4: tags indexed as words (column keywords), not as their JSON text.
READ_MODEL_VERSION = "4"

READ_MODEL_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE memory (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    content TEXT NOT NULL,
    tags TEXT NOT NULL,
    keywords TEXT NOT NULL,
    importance REAL NOT NULL,
    band TEXT NOT NULL,
    confidence REAL NOT NULL,
    project TEXT NOT NULL,
    month TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    props TEXT NOT NULL,
    version TEXT NOT NULL
);
CREATE TABLE memory_tag (
    tag TEXT NOT NULL, created_at TEXT NOT NULL, memory_id TEXT NOT NULL, type TEXT NOT NULL,
    PRIMARY KEY (tag, created_at, memory_id)
) WITHOUT ROWID;
CREATE TABLE edge (
    id TEXT PRIMARY KEY,
    from_id TEXT NOT NULL,
    to_id TEXT NOT NULL,
    rel_type TEXT NOT NULL,
    category TEXT NOT NULL,
    strength REAL,
    confidence REAL,
    context TEXT NOT NULL,
    props TEXT NOT NULL,
    created_at TEXT,
    current INTEGER NOT NULL,
    version TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE facet_count (facet TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (facet, value)) WITHOUT ROWID;
CREATE VIRTUAL TABLE memory_fts USING fts5(
    title, summary, content, keywords, content='memory', content_rowid='rid', tokenize='porter unicode61'
);
CREATE VIRTUAL TABLE memory_vocab USING fts5vocab(memory_fts, row);
"""

# Created after a bulk load: keeping FTS and counts by trigger during the load is 2x slower.
READ_MODEL_INDEXES = """
CREATE INDEX memory_created ON memory(created_at, id);
CREATE INDEX memory_updated ON memory(updated_at, id);
CREATE INDEX memory_importance ON memory(importance, id);
CREATE INDEX memory_title ON memory(title COLLATE NOCASE, id);
CREATE INDEX memory_type ON memory(type, created_at, id);
CREATE INDEX memory_project ON memory(project, created_at, id);
CREATE INDEX memory_band ON memory(band, created_at, id);
CREATE INDEX memory_month ON memory(month, created_at, id);
CREATE INDEX memory_tag_type ON memory_tag(tag, type, created_at, memory_id);
CREATE INDEX memory_tag_memory ON memory_tag(memory_id);
CREATE INDEX edge_from ON edge(from_id, rel_type);
CREATE INDEX edge_to ON edge(to_id, rel_type, current);
CREATE INDEX edge_to_from ON edge(to_id, from_id, current);
"""

READ_MODEL_TRIGGERS = """
CREATE TRIGGER memory_ai AFTER INSERT ON memory BEGIN
    INSERT INTO memory_fts(rowid, title, summary, content, keywords)
        VALUES (new.rid, new.title, new.summary, new.content, new.keywords);
    INSERT INTO facet_count(facet, value, n)
        VALUES ('type', new.type, 1), ('project', new.project, 1), ('band', new.band, 1), ('month', new.month, 1)
        ON CONFLICT(facet, value) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER memory_ad AFTER DELETE ON memory BEGIN
    INSERT INTO memory_fts(memory_fts, rowid, title, summary, content, keywords)
        VALUES ('delete', old.rid, old.title, old.summary, old.content, old.keywords);
    UPDATE facet_count SET n = n - 1 WHERE (facet = 'type' AND value = old.type)
        OR (facet = 'project' AND value = old.project) OR (facet = 'band' AND value = old.band)
        OR (facet = 'month' AND value = old.month);
    DELETE FROM facet_count WHERE n <= 0;
END;
CREATE TRIGGER edge_ai AFTER INSERT ON edge WHEN new.current = 1 BEGIN
    INSERT INTO facet_count(facet, value, n) VALUES ('edge', 'current', 1)
        ON CONFLICT(facet, value) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER edge_ad AFTER DELETE ON edge WHEN old.current = 1 BEGIN
    UPDATE facet_count SET n = n - 1 WHERE facet = 'edge' AND value = 'current';
END;
CREATE TRIGGER memory_tag_ai AFTER INSERT ON memory_tag BEGIN
    INSERT INTO facet_count(facet, value, n) VALUES ('tag', new.tag, 1)
        ON CONFLICT(facet, value) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER memory_tag_ad AFTER DELETE ON memory_tag BEGIN
    UPDATE facet_count SET n = n - 1 WHERE facet = 'tag' AND value = old.tag;
    DELETE FROM facet_count WHERE facet = 'tag' AND value = old.tag AND n <= 0;
END;
"""

FACETS_FROM_SCRATCH = """
DELETE FROM facet_count;
INSERT INTO facet_count SELECT 'type', type, count(*) FROM memory GROUP BY type;
INSERT INTO facet_count SELECT 'project', project, count(*) FROM memory GROUP BY project;
INSERT INTO facet_count SELECT 'band', band, count(*) FROM memory GROUP BY band;
INSERT INTO facet_count SELECT 'month', month, count(*) FROM memory GROUP BY month;
INSERT INTO facet_count SELECT 'tag', tag, count(*) FROM memory_tag GROUP BY tag;
INSERT INTO facet_count SELECT 'edge', 'current', count(*) FROM edge WHERE current = 1;
"""

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

# Listing, faceting and search over the read model ------------------------------------

# sort key -> (ORDER BY column, direction); ties broken by id in the same direction.
SORTS = {
    "newest": ("created_at", "DESC"),
    "oldest": ("created_at", "ASC"),
    "updated": ("updated_at", "DESC"),
    "importance": ("importance", "DESC"),
    "title": ("title COLLATE NOCASE", "ASC"),
}
_SORT_VALUE = {"created_at": "created_at", "updated_at": "updated_at", "importance": "importance",
               "title COLLATE NOCASE": "title"}

UNRESOLVED = (
    "m.type IN ('problem', 'error') AND NOT EXISTS (SELECT 1 FROM edge e WHERE e.to_id = m.id "
    "AND e.rel_type IN ('SOLVES', 'ADDRESSES') AND e.current = 1)"
)


def filter_clause(filters, alias="m", *, skip_tag=None):
    """WHERE conditions and parameters for a Filters object (see selectors.Filters)."""
    where, params = [], []
    if filters.types:
        where.append(f"{alias}.type IN ({','.join('?' * len(filters.types))})")
        params += filters.types
    for column, value in (("project", filters.project), ("band", filters.band), ("month", filters.month)):
        if value is not None:
            where.append(f"{alias}.{column} = ?")
            params.append(value)
    for tag in filters.tags:
        if tag != skip_tag:
            where.append(f"EXISTS (SELECT 1 FROM memory_tag x WHERE x.tag = ? AND x.memory_id = {alias}.id)")
            params.append(tag)
    if filters.unresolved:
        where.append(UNRESOLVED.replace("m.", f"{alias}."))
    return where, params


def list_query(filters, sort, cursor, limit):
    """A keyset-paginated page of memories. cursor is (sort value, id) of the last row shown.

    With a tag filter and a date sort, the walk is driven by the tag link table's primary
    key (tag, created_at, memory_id): a page costs a few index steps however common the tag.
    """
    column, direction = SORTS[sort]
    op = "<" if direction == "DESC" else ">"
    if filters.tags and column == "created_at":
        tag = filters.tags[0]
        where, params = filter_clause(filters, skip_tag=tag)
        where.insert(0, "t.tag = ?")
        params.insert(0, tag)
        if cursor is not None:
            where.append(f"(t.created_at, t.memory_id) {op} (?, ?)")
            params += list(cursor)
        return (
            f"SELECT m.* FROM memory_tag t JOIN memory m ON m.id = t.memory_id WHERE {' AND '.join(where)} "
            f"ORDER BY t.created_at {direction}, t.memory_id {direction} LIMIT ?",
            params + [limit],
        )
    where, params = filter_clause(filters)
    if cursor is not None:
        where.append(f"(m.{column}, m.id) {op} (?, ?)")
        params += list(cursor)
    clause = " AND ".join(where) or "1"
    order = f"m.{column} {direction}, m.id {direction}"
    return f"SELECT m.* FROM memory m WHERE {clause} ORDER BY {order} LIMIT ?", params + [limit]


def sort_value(sort, row):
    return row[_SORT_VALUE[SORTS[sort][0]]]


FACET_COLUMNS = ("type", "project", "band", "month")

# Facet counts over a filtered selection are taken from its first FACET_SAMPLE rows (exact
# whenever the selection is smaller): counting tags over 40,000 matches costs 250 ms.
SAMPLE_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS sample (rid INTEGER PRIMARY KEY, id TEXT, type TEXT, project TEXT, "
    "band TEXT, month TEXT)"
)
SAMPLE_CLEAR = "DELETE FROM temp.sample"


def sample_fill(filters, sort, limit):
    query, params = list_query(filters, sort, None, limit)
    select = query.replace("SELECT m.*", "SELECT m.rid, m.id, m.type, m.project, m.band, m.month", 1)
    return f"INSERT OR IGNORE INTO temp.sample {select}", params


SAMPLE_FACET = "SELECT {column} AS value, count(*) AS n FROM temp.sample GROUP BY 1"
SAMPLE_TAGS = (
    # CROSS JOIN keeps the sample as the outer loop; otherwise SQLite scans the whole tag table.
    "SELECT t.tag AS value, count(*) AS n FROM temp.sample s CROSS JOIN memory_tag t ON t.memory_id = s.id "
    "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?"
)


def count_query(filters):
    where, params = filter_clause(filters)
    return f"SELECT count(*) FROM memory m WHERE {' AND '.join(where) or '1'}", params


FACET_ONE = "SELECT n FROM facet_count WHERE facet = ? AND value = ?"
FACET_TOTALS = "SELECT value, n FROM facet_count WHERE facet = ?"
TAG_TOTALS = "SELECT value, n FROM facet_count WHERE facet = 'tag' ORDER BY n DESC, value LIMIT ?"
TAG_INDEX = "SELECT value AS tag, n FROM facet_count WHERE facet = 'tag' ORDER BY {order} LIMIT ? OFFSET ?"
TAG_INDEX_COUNT = "SELECT count(*) FROM facet_count WHERE facet = 'tag'"
TAG_MEMORY_IDS = "SELECT memory_id FROM memory_tag WHERE tag = ?"

MEMORY_BY_ID = "SELECT * FROM memory WHERE id = ?"
MEMORIES_BY_IDS = "SELECT id, title, type FROM memory WHERE id IN ({marks})"
EDGES_OUT = (
    "SELECT e.*, m.title AS other_title, m.type AS other_type FROM edge e "
    "LEFT JOIN memory m ON m.id = e.to_id WHERE e.from_id = ? ORDER BY e.rel_type, m.title"
)
EDGES_IN = (
    "SELECT e.*, m.title AS other_title, m.type AS other_type FROM edge e "
    "LEFT JOIN memory m ON m.id = e.from_id WHERE e.to_id = ? ORDER BY e.rel_type, m.title"
)
EDGE_BY_ID = "SELECT * FROM edge WHERE id = ?"
COUNTS = (
    "SELECT (SELECT coalesce(sum(n), 0) FROM facet_count WHERE facet = 'type') AS memories, "
    "(SELECT coalesce(sum(n), 0) FROM facet_count WHERE facet = 'edge') AS edges"
)
# Problems and errors that have a current resolving edge; unresolved = their type counts minus this.
# Both sides are answered from covering indexes (memory_type, edge_to).
RESOLVED_COUNT = (
    "SELECT count(*) FROM memory m WHERE m.type IN ('problem', 'error') AND EXISTS (SELECT 1 FROM edge e "
    "WHERE e.to_id = m.id AND e.rel_type IN ('SOLVES', 'ADDRESSES') AND e.current = 1)"
)

# Search ------------------------------------------------------------------------------------
# Title weighted above summary, tags and content.
BM25 = "bm25(memory_fts, 10.0, 4.0, 1.0, 3.0)"


def _match(filters):
    where, params = filter_clause(filters)
    if not where:
        return "FROM memory_fts WHERE memory_fts MATCH ?", []
    return ("FROM memory_fts JOIN memory m ON m.rid = memory_fts.rowid WHERE memory_fts MATCH ? AND "
            + " AND ".join(where), params)


def match_query(select, tail="", *, filters):
    """SELECT <select> over the FTS matches that pass filters; bind the MATCH expression first."""
    body, params = _match(filters)
    return f"SELECT {select} {body} {tail}", params


def match_count_upto(filters):
    """count(*) of the matches that stops at a limit (bind MATCH, filter values, the limit):
    the first page of a common word need not count 40,000 matches."""
    body, params = _match(filters)
    return f"SELECT count(*) FROM (SELECT 1 {body} LIMIT ?)", params


MATCH_COUNT = "count(*)"
MATCH_RANKED = (f"memory_fts.rowid AS rid, {BM25} AS score", "ORDER BY score LIMIT ?")  # best first
MATCH_ROWIDS = ("memory_fts.rowid", "LIMIT ?")
MATCH_IDS = "(SELECT id FROM memory WHERE rid = memory_fts.rowid)"


# One statement for the whole sample (bind a JSON array of rowids): 10x faster than one insert per row.
SAMPLE_BY_RIDS = (
    "INSERT OR IGNORE INTO temp.sample SELECT rid, id, type, project, band, month FROM memory "
    "WHERE rid IN (SELECT value FROM json_each(?))"
)
MEMORIES_BY_RIDS = "SELECT * FROM memory WHERE rid IN ({marks})"


# \x02 and \x03 mark matches; the text is HTML-escaped before they become <mark>.
# Snippets come from the content or the summary only: a snippet of the tag column reads
# as a word list, not as text.
SNIPPETS = (
    "SELECT rowid, highlight(memory_fts, 0, char(2), char(3)) AS title_hl, "
    "snippet(memory_fts, 2, char(2), char(3), '…', 24) AS content_snippet, "
    "snippet(memory_fts, 1, char(2), char(3), '…', 24) AS summary_snippet "
    "FROM memory_fts WHERE memory_fts MATCH ? AND rowid IN ({marks})"
)
VOCAB_HAS = "SELECT 1 FROM memory_vocab WHERE term = ?"
VOCAB_RANGE = "SELECT term, doc FROM memory_vocab WHERE term >= ? AND term < ?"
VOCAB_FROM = "SELECT term, doc FROM memory_vocab WHERE term >= ?"


def statements(script):
    """The statements of a ;-separated script without triggers."""
    return [s.strip() for s in script.split(";") if s.strip()]


# Synced client databases ---------------------------------------------------------------

# The outbox: writes queued by web workers for the sync worker, kept in the read-model file
# so that a write and its read-your-writes overlay commit together. It survives rebuilds.
# state: queued (not yet in the replica) -> applied (in the replica, not yet verified at the
# primary) -> pushed (verified at the primary).
OUTBOX_TABLE = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op TEXT NOT NULL,
    object_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    queued_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    applied_at REAL,
    pushed_at REAL,
    error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox(state, seq);
CREATE INDEX IF NOT EXISTS outbox_object ON outbox(object_id, state)
"""
OUTBOX_INSERT = "INSERT INTO outbox (op, object_id, payload, queued_at) VALUES (?, ?, ?, ?)"
OUTBOX_IN_STATE = "SELECT seq, op, object_id, payload, queued_at FROM outbox WHERE state = ? ORDER BY seq LIMIT ?"
OUTBOX_MARK = "UPDATE outbox SET state = ?, applied_at = coalesce(?, applied_at), pushed_at = ?, error = ? WHERE seq = ?"
OUTBOX_REQUEUE = "UPDATE outbox SET state = 'queued', error = ? WHERE seq = ?"
OUTBOX_FAILED = "SELECT count(*) FROM outbox WHERE state = 'failed'"
OUTBOX_PENDING = "SELECT count(*), min(queued_at) FROM outbox WHERE state != 'pushed'"
OUTBOX_PENDING_IDS = "SELECT DISTINCT object_id FROM outbox WHERE state != 'pushed' AND object_id IN ({marks})"
OUTBOX_PRUNE = "DELETE FROM outbox WHERE state = 'pushed' AND seq < (SELECT max(seq) FROM outbox) - ?"

# Rows as the outbox carries them into the replica: an upsert by uuid, so that applying an
# operation twice (a worker killed between the replica commit and marking it applied)
# changes nothing. Written as UPDATE, then INSERT when no row matched: turso 0.8.3 fails
# `INSERT ... ON CONFLICT DO UPDATE` of an existing row after other writes in the same
# transaction ("Invalid Text value", "Payload too small for indicated header size").
REPLICA_NODE_UPDATE = "UPDATE nodes SET properties = ?, updated_at = ? WHERE id = ?"
REPLICA_NODE_INSERT = "INSERT INTO nodes (id, label, properties, created_at, updated_at) VALUES (?, 'Memory', ?, ?, ?)"
REPLICA_EDGE_UPDATE = "UPDATE relationships SET properties = ? WHERE id = ?"
REPLICA_EDGE_INSERT = (
    "INSERT INTO relationships (id, from_id, to_id, rel_type, properties, created_at) VALUES (?, ?, ?, ?, ?, ?)"
)
REPLICA_EDGE_INSERT_TEMPORAL = (
    "INSERT INTO relationships (id, from_id, to_id, rel_type, properties, created_at, valid_from, valid_until, "
    "recorded_at, invalidated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)"
)
REPLICA_EDGE_COUNT = "SELECT count(*) FROM relationships"

# Read at the primary over /v2/pipeline.
PRIMARY_TABLES = (
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
    "AND name NOT LIKE 'turso_%' AND name NOT LIKE '__turso_%'"
)
PRIMARY_NODES = (
    "SELECT id, CASE WHEN json_valid(properties) THEN json_extract(properties, '$.updated_at') END "
    "FROM nodes WHERE id IN ({marks})"
)
PRIMARY_EDGES = "SELECT id FROM relationships WHERE id IN ({marks})"

# Read-model lookups that stand in for the canonical file on a synced client's web side.
RM_NODE_PROPS = "SELECT props FROM memory WHERE id = ?"
RM_NODES_BY_IDS = "SELECT id, props, version FROM memory WHERE id IN ({marks})"
RM_NODE_COUNT = "SELECT count(*) FROM memory"
RM_EDGE_COUNT = "SELECT count(*) FROM edge"
RM_EDGES_BY_IDS = "SELECT id, from_id, to_id, rel_type, props, created_at, current, version FROM edge WHERE id IN ({marks})"
RM_EDGE_EXISTS = "SELECT 1 FROM edge WHERE from_id = ? AND to_id = ? AND rel_type = ? LIMIT 1"
RM_EDGE_REACHES = """
WITH RECURSIVE reach(id) AS (
    SELECT ?1
    UNION
    SELECT e.to_id FROM edge e JOIN reach ON e.from_id = reach.id WHERE e.rel_type = ?2
)
SELECT 1 FROM reach WHERE id = ?3 LIMIT 1
"""


# Whole rows, for imports and the memorygraph bridge -------------------------------------

# "+label": see NODES_BY_IDS.
NODE_ROWS_BY_IDS = ("SELECT id, properties, created_at, updated_at FROM nodes "
                    "WHERE +label = 'Memory' AND id IN ({marks})")
EDGE_ROWS_BY_IDS = "SELECT * FROM relationships WHERE id IN ({marks})"
RM_NODE_ROWS_BY_IDS = "SELECT id, props, created_at, version FROM memory WHERE id IN ({marks})"
RM_EDGE_ROWS_BY_IDS = "SELECT id, from_id, to_id, rel_type, props, created_at, current FROM edge WHERE id IN ({marks})"
EDGE_INSERT_ROW_TEMPORAL = (
    "INSERT INTO relationships (id, from_id, to_id, rel_type, properties, created_at, valid_from, valid_until, "
    "recorded_at, invalidated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
EDGE_INSERT_ROW_HALF = (
    "INSERT INTO relationships (id, from_id, to_id, rel_type, properties, created_at, valid_until, invalidated_by) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


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
EDGE_UPSERT_ROW = REPLICA_EDGE_INSERT + " ON CONFLICT(id) DO UPDATE SET properties = excluded.properties"
RM_MEMORY_VERSIONS_OF = "SELECT id, version FROM memory WHERE id IN ({marks})"
RM_EDGE_VERSIONS_OF = "SELECT id, version FROM edge WHERE id IN ({marks})"
# The import's writer process reads back the versions of the memories it just wrote.
NODE_VERSIONS_BY_IDS = f"SELECT id, {_NODE_VERSION} FROM nodes WHERE +label = 'Memory' AND id IN ({{marks}})"
# ... and of the relationships, with the created_at column an upsert keeps (the rest is what it wrote).
EDGE_READBACK_BY_IDS = f"SELECT id, {_EDGE_VERSION}, created_at FROM relationships WHERE id IN ({{marks}})"
EDGE_READBACK_BY_IDS_TEMPORAL = (
    f"SELECT id, {_EDGE_VERSION} || '|' || coalesce(valid_until, ''), created_at FROM relationships "
    "WHERE id IN ({marks})")
# A bulk load's full-text rows, a chunk at a time: the memories added after the given rid.
FTS_FROM_RID = ("INSERT INTO memory_fts(rowid, title, summary, content, keywords) "
                "SELECT rid, title, summary, content, keywords FROM memory WHERE rid > ?")

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


# Django's tables ----------------------------------------------------------------------

# A member's client database (not archived) with the member's role, for every request under
# /c/<client>/ (memories/access.py). The ORM's select_related form of it cost 0.6 ms a request
# to compile and run, this 0.1 ms (issue 13: a first search's way through Django). Bind the slug
# and the user's id.
MEMBER_CLIENT = ("SELECT c.*, m.role AS member_role FROM memories_clientdatabase c "
                 "JOIN memories_membership m ON m.client_id = c.id "
                 "WHERE c.slug = %s AND NOT c.archived AND m.user_id = %s")
# The header's switcher: the client databases a user may open (not archived), by name, at most
# a bound number; (slug, name) only. The ORM's queryset of it (visible_clients) cost 0.8 ms a
# page to build and run, this 0.04 ms (issue 11: graph pages at 100,000 memories). Bind the
# user's id (members) and the bound.
SWITCHER_MEMBER = ("SELECT c.slug, c.name FROM memories_clientdatabase c "
                   "JOIN memories_membership m ON m.client_id = c.id "
                   "WHERE NOT c.archived AND m.user_id = %s ORDER BY c.name LIMIT %s")
SWITCHER_ALL = "SELECT slug, name FROM memories_clientdatabase WHERE NOT archived ORDER BY name LIMIT %s"
# A client database by its slug (not archived): registry.get_client, for a superuser's request
# and for management commands. Bind the slug.
CLIENT_BY_SLUG = "SELECT * FROM memories_clientdatabase WHERE slug = %s AND NOT archived"
