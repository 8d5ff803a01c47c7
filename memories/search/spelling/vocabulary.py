"""The index vocabulary of a read model, as web workers read it: one first letter's terms.

fts5vocab counts documents by reading every doclist of the terms it returns: one letter's terms
cost 80-150 ms at 100,000 memories, the whole vocabulary (about 40,000 terms) 0.8 s. So the read
model keeps the vocabulary as a table of its own, term_vocab, which the worker writes after
changes (upkeep.py) and a full rebuild fills; a web worker reads one letter's terms from it by
an indexed range in a few ms. Nothing is kept in a web process and no thread is started there
(issue 11: a copy of the list per process and read model cost each web worker memory).

The table is exact when it was written at the read model's current change stamp. One written
before later writes is used only when it yields a candidate and is at most STALE_S old (the
worker is behind by its debounce: the terms those writes added are missing from it, never the
other way round, bar deletions); otherwise (no worker running, never filled) the caller scans
the index itself, as before the table existed.
"""
import time

from ...store import schema
from . import sql

# How old a table written before later writes may be and still answer (when it finds a
# candidate); the worker rewrites it every few seconds while writes come (upkeep.debounce).
STALE_S = 30


class Candidates:
    """(term, doc) rows in index order, with the terms grouped by length for the stem rule."""

    def __init__(self, rows):
        self.terms = [t for t, _ in rows]
        self.docs = [d for _, d in rows]
        self.by_size = {}
        for i, term in enumerate(self.terms):
            self.by_size.setdefault(len(term), ([], []))
            self.by_size[len(term)][0].append(i)
            self.by_size[len(term)][1].append(term)


def state(conn):
    """The meta rows of the table: changed_at, vocab_generation, vocab_refreshed_at, vocab_seconds."""
    return dict(conn.execute(sql.STATE).fetchall())


def starting_with(conn, letter, following, sizes=(0, 1 << 30), now_ns=None):
    """(Candidates, exact) of the terms in [letter, following) (following None: to the end)
    whose length is within ``sizes`` (least, greatest), or (None, False) when the table may
    not answer: never filled, or stale for over STALE_S."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")  # one snapshot: the stamps read are those of the rows read
    try:
        meta = state(conn)
        generation = meta.get(schema.VOCAB_GENERATION)
        exact = generation is not None and generation == meta.get("changed_at")
        if not exact and not _recent(generation, now_ns):
            return None, False
        query = (sql.FROM, (letter, *sizes)) if following is None else \
            (sql.RANGE, (letter, following, *sizes))
        cursor = conn.cursor()
        cursor.row_factory = None  # plain tuples: a letter holds thousands of terms
        rows = cursor.execute(*query).fetchall()
    finally:
        if own:
            conn.execute("COMMIT")
    return Candidates(rows), exact


def _recent(generation, now_ns):
    try:
        written = int(generation)
    except (TypeError, ValueError):  # absent, or a rebuild's rows not stamped yet
        return False
    return ((now_ns or time.time_ns()) - written) / 1e9 <= STALE_S
