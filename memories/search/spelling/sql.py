"""All raw SQL of the typo room: the read model's vocabulary table and its upkeep."""

# One row per indexed term with its document count, as fts5vocab gives them, but read by an
# indexed range (fts5vocab reads every doclist of the terms it returns to count documents).
# Created if missing (ReadModel.__init__), so read models built before it get it without a
# rebuild; empty until the worker fills it (meta "vocab_generation" absent: the index is scanned).
TABLE = "CREATE TABLE IF NOT EXISTS term_vocab (term TEXT PRIMARY KEY, doc INTEGER NOT NULL) WITHOUT ROWID"
# meta keys: the read model's changed_at the table reflects, when it was last written and how
# long that took (the worker's debounce).
GENERATION, REFRESHED_AT, SECONDS = "vocab_generation", "vocab_refreshed_at", "vocab_seconds"
STATE = ("SELECT key, value FROM meta WHERE key IN ('changed_at', 'vocab_generation', "
         "'vocab_refreshed_at', 'vocab_seconds')")
# The full rebuild fills the table in its own transaction, whose changed_at is stamped last
# (ReadModel.write): BUILT marks the rows as the transaction's, RETAG gives them its stamp.
BUILT = "built"
FILL = "INSERT INTO term_vocab (term, doc) SELECT term, doc FROM memory_vocab"
RETAG = "UPDATE meta SET value = ? WHERE key = 'vocab_generation' AND value = 'built'"

# Web workers: one first letter's terms of the lengths that can match (suggest.sizes), in the
# index's order (code points, as fts5vocab's). length() counts code points, as Python's len().
RANGE = "SELECT term, doc FROM term_vocab WHERE term >= ? AND term < ? AND length(term) BETWEEN ? AND ?"
FROM = "SELECT term, doc FROM term_vocab WHERE term >= ? AND length(term) BETWEEN ? AND ?"

# The worker's refresh: the index's vocabulary against the table's, only the differences written.
INDEX_ALL = "SELECT term, doc FROM memory_vocab"
TABLE_ALL = "SELECT term, doc FROM term_vocab"
UPSERT = "INSERT INTO term_vocab (term, doc) VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET doc = excluded.doc"
DELETE = "DELETE FROM term_vocab WHERE term = ?"
META_SET = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
