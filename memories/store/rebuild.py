"""The read model's full rebuild from the canonical store, and the pieces a bulk import's
indexer (interchange/bulk.py) shares with it: loading memory records, creating triggers.

``Rebuild`` is part of ``ReadModel`` (store/readmodel.py), which provides ``conn``,
``write`` and ``set_meta``.
"""
import json
import time

from . import schema, sql
from .records import edge_record, memory_record


class Rebuild:
    """The read model's rebuild (a mixin of ReadModel)."""

    def rebuild(self, store, *, progress=None, overlay=None, meta=None):
        """Recreate everything from the canonical store in one transaction.

        Readers keep seeing the old contents (WAL) until the commit; ``progress`` is
        called as progress(done, total) while memories load.
        """
        started = time.perf_counter()
        total = store.count_nodes()
        cache = self.conn.execute("PRAGMA cache_size").fetchone()[0]
        # A big page cache for the bulk load and index builds (only for this connection).
        self.conn.execute("PRAGMA cache_size = -262144")
        with self.write() as conn:
            for name in ("memory_fts", "memory_vocab", "term_vocab", "memory", "memory_tag", "edge",
                         "facet_count", "meta"):
                conn.execute(f"DROP TABLE IF EXISTS {name}")
            for statement in schema.statements(schema.READ_MODEL_TABLES):
                conn.execute(statement)
            done = 0
            batch = []
            for memory_id, props, version in store.iter_nodes():
                batch.append(memory_record(memory_id, props, version))
                if len(batch) >= 2000:
                    done += load_batch(conn, batch)
                    batch = []
                    if progress:
                        progress(done, total)
            done += load_batch(conn, batch)
            if progress:
                progress(done, total)
            conn.executemany(sql.EDGE_INSERT_RM, (edge_record(e) for e in store.iter_edges()))
            conn.execute(sql.FTS_REBUILD)
            conn.execute(schema.VOCAB_TABLE)
            conn.execute(schema.VOCAB_FILL)  # typo suggestions' vocabulary (memories/search/spelling/)
            for statement in schema.statements(schema.READ_MODEL_INDEXES + schema.FACETS_FROM_SCRATCH):
                conn.execute(statement)
            for statement in triggers(schema.READ_MODEL_TRIGGERS):
                conn.execute(statement)
            if overlay:
                overlay(conn)
            now = time.time()
            self.set_meta(conn, version=schema.READ_MODEL_VERSION, source=store.path, built_at=now,
                           refreshed_at=now, **{schema.VOCAB_GENERATION: schema.VOCAB_BUILT}, **(meta or {}))
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.execute("PRAGMA optimize")
        self.conn.execute(f"PRAGMA cache_size = {cache}")
        return {"memories": done, "seconds": round(time.perf_counter() - started, 2)}


def load_batch(conn, records):
    """Insert memory records and their tag links (no edges); how many records."""
    conn.executemany(sql.MEMORY_INSERT, records)
    conn.executemany(sql.MEMORY_TAG_INSERT, (
        (tag, r["created_at"], r["id"], r["type"]) for r in records for tag in json.loads(r["tags"])
    ))
    return len(records)


def triggers(script):
    """The CREATE TRIGGER statements of a script, one string each (their bodies hold `;`)."""
    return [s.strip() + " END" for s in script.split("END;") if s.strip()]
