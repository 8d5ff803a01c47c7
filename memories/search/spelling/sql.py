"""All raw SQL of the typo room: the upkeep of the read model's vocabulary table, the index's
own vocabulary where the table may not answer, and the in-memory stemmer."""

# The vocabulary table itself is the read model's (memories/store/schema.py, VOCAB_*).
STATE = ("SELECT key, value FROM meta WHERE key IN ('changed_at', 'vocab_generation', "
         "'vocab_refreshed_at', 'vocab_seconds')")

# Web workers: one first letter's terms of the lengths that can match (suggest.sizes), in the
# index's order (code points, as fts5vocab's). length() counts code points, as Python's len().
RANGE = "SELECT term, doc FROM term_vocab WHERE term >= ? AND term < ? AND length(term) BETWEEN ? AND ?"
FROM = "SELECT term, doc FROM term_vocab WHERE term >= ? AND length(term) BETWEEN ? AND ?"
# The same from the index itself (fts5vocab), when the table may not answer (suggest.py).
INDEX_HAS = "SELECT 1 FROM memory_vocab WHERE term = ?"
INDEX_RANGE = "SELECT term, doc FROM memory_vocab WHERE term >= ? AND term < ?"
INDEX_FROM = "SELECT term, doc FROM memory_vocab WHERE term >= ?"

# A word stemmed exactly as the index stems it: an in-memory FTS5 table of the index's tokenizer
# holds the one word, its instance vocabulary gives the terms in order (suggest.stem).
STEMMER_TABLE = "CREATE VIRTUAL TABLE s USING fts5(x, tokenize='porter unicode61')"
STEMMER_VOCAB = "CREATE VIRTUAL TABLE sv USING fts5vocab(s, 'instance')"
STEMMER_CLEAR = "DELETE FROM s"
STEMMER_PUT = "INSERT INTO s(x) VALUES (?)"
STEMMER_TERMS = "SELECT term FROM sv ORDER BY offset"

# The worker's refresh: the index's vocabulary against the table's, only the differences written.
INDEX_ALL = "SELECT term, doc FROM memory_vocab"
TABLE_ALL = "SELECT term, doc FROM term_vocab"
UPSERT = "INSERT INTO term_vocab (term, doc) VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET doc = excluded.doc"
DELETE = "DELETE FROM term_vocab WHERE term = ?"
META_SET = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
