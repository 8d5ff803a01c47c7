"""The DDL of the files the store creates: a new canonical memorygraph file, the read model
(tables, indexes, triggers, facet counts) and the outbox kept in the read model's file.

Run by store/canonical.py, store/readmodel.py, sync/primary.py (a new database on a primary)
and interchange/bulk.py (indexes and triggers made once a bulk load is in).
"""

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

# 4: tags indexed as words (column keywords), not as their JSON text. 5: facet_count's
# 'resolved' row (problems and errors with a current SOLVES or ADDRESSES edge), kept by triggers.
READ_MODEL_VERSION = "5"

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

# A trailing backslash wraps a line without adding a newline: the text SQLite stores for the
# trigger stays what it was.
READ_MODEL_TRIGGERS = """
CREATE TRIGGER memory_ai AFTER INSERT ON memory BEGIN
    INSERT INTO memory_fts(rowid, title, summary, content, keywords)
        VALUES (new.rid, new.title, new.summary, new.content, new.keywords);
    INSERT INTO facet_count(facet, value, n)
        VALUES ('type', new.type, 1), ('project', new.project, 1), ('band', new.band, 1), \
('month', new.month, 1)
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
CREATE TRIGGER memory_resolved_ai AFTER INSERT ON memory WHEN new.type IN ('problem', 'error') BEGIN
    INSERT INTO facet_count(facet, value, n) SELECT 'resolved', '', 1 WHERE EXISTS (SELECT 1 FROM edge \
WHERE to_id = new.id AND rel_type IN ('SOLVES', 'ADDRESSES') AND current = 1)
        ON CONFLICT(facet, value) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER memory_resolved_ad AFTER DELETE ON memory WHEN old.type IN ('problem', 'error') BEGIN
    UPDATE facet_count SET n = n - 1 WHERE facet = 'resolved' AND value = '' AND EXISTS (SELECT 1 \
FROM edge WHERE to_id = old.id AND rel_type IN ('SOLVES', 'ADDRESSES') AND current = 1);
END;
CREATE TRIGGER edge_resolved_ai AFTER INSERT ON edge WHEN new.current = 1 \
AND new.rel_type IN ('SOLVES', 'ADDRESSES') BEGIN
    INSERT INTO facet_count(facet, value, n) SELECT 'resolved', '', 1 WHERE EXISTS (SELECT 1 \
FROM memory WHERE id = new.to_id AND type IN ('problem', 'error')) AND (SELECT count(*) FROM edge \
WHERE to_id = new.to_id AND rel_type IN ('SOLVES', 'ADDRESSES') AND current = 1) = 1
        ON CONFLICT(facet, value) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER edge_resolved_ad AFTER DELETE ON edge WHEN old.current = 1 \
AND old.rel_type IN ('SOLVES', 'ADDRESSES') BEGIN
    UPDATE facet_count SET n = n - 1 WHERE facet = 'resolved' AND value = '' AND EXISTS (SELECT 1 \
FROM memory WHERE id = old.to_id AND type IN ('problem', 'error')) AND NOT EXISTS (SELECT 1 \
FROM edge WHERE to_id = old.to_id AND rel_type IN ('SOLVES', 'ADDRESSES') AND current = 1);
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
INSERT INTO facet_count SELECT 'resolved', '', count(*) FROM memory m WHERE m.type IN ('problem', 'error') \
AND EXISTS (SELECT 1 FROM edge e WHERE e.to_id = m.id AND e.rel_type IN ('SOLVES', 'ADDRESSES') \
AND e.current = 1);
"""

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


# The typo suggestions' vocabulary (memories/search/spelling/), kept in the read model.
# One row per indexed term with its document count, as fts5vocab gives them, but read by an
# indexed range (fts5vocab reads every doclist of the terms it returns to count documents).
# Created if missing (ReadModel.__init__), so read models built before it get it without a
# rebuild; empty until the worker fills it (meta "vocab_generation" absent: the index is scanned).
VOCAB_TABLE = ("CREATE TABLE IF NOT EXISTS term_vocab (term TEXT PRIMARY KEY, doc INTEGER NOT NULL) "
               "WITHOUT ROWID")
# meta keys: the read model's changed_at the table reflects, when it was last written and how
# long that took (the worker's debounce).
VOCAB_GENERATION = "vocab_generation"
VOCAB_REFRESHED_AT, VOCAB_SECONDS = "vocab_refreshed_at", "vocab_seconds"
# The full rebuild fills the table in its own transaction, whose changed_at is stamped last
# (ReadModel.write): BUILT marks the rows as the transaction's, RETAG gives them its stamp.
VOCAB_BUILT = "built"
VOCAB_FILL = "INSERT INTO term_vocab (term, doc) SELECT term, doc FROM memory_vocab"
VOCAB_RETAG = "UPDATE meta SET value = ? WHERE key = 'vocab_generation' AND value = 'built'"


def statements(script):
    """The statements of a ;-separated script without triggers."""
    return [s.strip() for s in script.split(";") if s.strip()]
