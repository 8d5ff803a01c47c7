"""The worker's upkeep of the vocabulary table (term_vocab): rewritten after changes, debounced.

The index's vocabulary is read whole in one snapshot (0.8 s at 100,000 memories: fts5vocab
counts each term's documents from its doclist) and compared with the table's; only the terms
whose document count changed, or that came or went, are written, so a write of one memory
costs the table a few rows. While writes keep coming the read comes at most every
debounce() seconds; the first change after a quiet spell is read at once (at the worker's
next analytics tick).
"""
import logging
import sqlite3
import time

from memories.store import schema
from memories.store.canonical import StoreError
from memories.store.registry import handle_for

from . import sql
from .vocabulary import state

log = logging.getLogger("memories.search.spelling")

# Seconds between two reads while writes keep coming: FACTOR times as long as the last took,
# within these bounds (0.8 s at 100,000 memories: one read every 4 s, a fifth of a core).
FACTOR, MIN_S, MAX_S = 5.0, 1.0, 30.0


def debounce(seconds):
    return min(MAX_S, max(MIN_S, FACTOR * seconds))


def vocabulary_refresh(rm, *, force=False, now=None):
    """Bring term_vocab up to the read model's index; returns {terms, written, seconds} or None
    when it was current, or not due yet (``force``: whatever the debounce says)."""
    now = time.time() if now is None else now
    conn = rm.conn
    meta = state(conn)
    generation = meta.get(schema.VOCAB_GENERATION)
    if generation == meta.get("changed_at") and generation is not None:
        return None
    last_at = float(meta.get(schema.VOCAB_REFRESHED_AT) or 0)
    last_s = float(meta.get(schema.VOCAB_SECONDS) or 0)
    if not force and now - last_at < debounce(last_s):
        return None
    clock = time.perf_counter()
    conn.execute("BEGIN")  # one snapshot: the index's terms, the table's and their stamps
    try:
        meta = state(conn)
        index = conn.execute(sql.INDEX_ALL).fetchall()
        table = dict(conn.execute(sql.TABLE_ALL).fetchall())
    finally:
        conn.execute("COMMIT")
    upserts = [(term, doc) for term, doc in index if table.pop(term, None) != doc]
    conn.execute("BEGIN IMMEDIATE")  # never stamps changed_at: the table follows the read model
    try:
        if state(conn).get(schema.VOCAB_GENERATION) != meta.get(schema.VOCAB_GENERATION):
            conn.execute("ROLLBACK")  # a rebuild filled it meanwhile
            return None
        conn.executemany(sql.UPSERT, upserts)
        conn.executemany(sql.DELETE, ((term,) for term in table))
        seconds = round(time.perf_counter() - clock, 3)
        conn.executemany(sql.META_SET, [(schema.VOCAB_GENERATION, meta.get("changed_at") or ""),
                                        (schema.VOCAB_REFRESHED_AT, str(now)),
                                        (schema.VOCAB_SECONDS, str(seconds))])
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return {"terms": len(index), "written": len(upserts) + len(table), "seconds": seconds}


def vocabulary_refresh_client(client):
    """The worker's tick for one client database (its analytics thread): nothing until its read
    model is built (whoever builds it fills the table)."""
    try:
        rm = handle_for(client).readmodel
        if not rm.is_built(client.path):
            return None
        return vocabulary_refresh(rm)
    except (StoreError, sqlite3.OperationalError) as exc:  # a read model being rebuilt or removed
        log.debug("%s: vocabulary not refreshed: %s", client.slug, exc)
        return None


class VocabularyUpkeep:
    """The vocabulary table as a step of the worker's read-model upkeep, with the attributes and
    methods of memories/worker/upkeep.py's UpkeepStep (not a subclass: the search room sits below
    the worker's); memories/apps.py registers it."""

    name = "the vocabulary table's refresh"
    order = 50

    def refresh(self, client):
        vocabulary_refresh_client(client)

    def close(self):
        pass
