"""The index vocabulary of a read model, in memory, one copy per process and read model.

fts5vocab counts documents by reading every doclist of the terms it returns: one letter's terms
cost 80-150 ms at 100,000 memories, the whole vocabulary (about 40,000 terms) 0.8 s. So the
whole list is read once, in a background thread on a connection of its own (sqlite3 lets other
threads run meanwhile), and kept per read model with the change stamp it was read at.

A list read at the current stamp is exact. One read before later writes is used only when it
yields a candidate (the terms those writes added are missing from it, never the other way
round, bar deletions); when it yields nothing the caller scans the index itself. A stale list
is read again at most every RELOAD_S seconds, so agents writing every second do not make each
process read 0.8 s of index per write.
"""
import logging
import threading
import time
from bisect import bisect_left

from ..readmodel import connect

VOCAB_ALL = "SELECT term, doc FROM memory_vocab"
RELOAD_S = 30
# Bounded memory: past this many terms (about 100 bytes each in memory) the list is not kept
# and every suggestion scans the index.
MAX_TERMS = 500_000
# Lists kept at once (one per read model a process serves; the least recently read goes first).
MAX_LISTS = 8

log = logging.getLogger(__name__)
_lock = threading.Lock()
_lists = {}  # read-model path -> Vocabulary
_loading = set()  # paths being read


class Vocabulary:
    def __init__(self, stamp, rows):
        self.stamp = stamp
        self.loaded_at = time.monotonic()
        self.terms = [t for t, _ in rows]  # sorted by code point, as the index keeps them
        self.docs = [d for _, d in rows]
        self._spans = {}  # first letter -> suggest.Candidates, built on first use

    def starting_with(self, letter, following):
        """Candidates of the terms in [letter, following); following None: to the end."""
        if letter not in self._spans:
            lo = bisect_left(self.terms, letter)
            hi = len(self.terms) if following is None else bisect_left(self.terms, following, lo)
            self._spans[letter] = Candidates(list(zip(self.terms[lo:hi], self.docs[lo:hi])))
        return self._spans[letter]


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


def current(rm):
    """(vocabulary, exact): the kept list and whether it reflects the read model as it is now,
    or (None, False); starts a background read when there is none or it is stale."""
    stamp = rm.changed_at()
    with _lock:
        vocab = _lists.get(rm.path)
        exact = vocab is not None and vocab.stamp == stamp
        stale = vocab is None or (not exact and time.monotonic() - vocab.loaded_at > RELOAD_S)
        if stale and rm.path not in _loading:
            _loading.add(rm.path)
            threading.Thread(target=_load, args=(rm.path,), name="kb-vocabulary", daemon=True).start()
    return vocab, exact


def load_now(rm):
    """Read the list in this thread (tests, the benchmark's setup); returns it."""
    _load(rm.path)
    return _lists.get(rm.path)


def forget(path=None):
    with _lock:
        if path is None:
            _lists.clear()
        else:
            _lists.pop(str(path), None)


def _load(path):
    try:
        conn = connect(path)
        conn.row_factory = None
        try:
            conn.execute("BEGIN")  # one snapshot: the stamp read is the state the terms are from
            row = conn.execute("SELECT value FROM meta WHERE key = 'changed_at'").fetchone()
            rows = conn.execute(VOCAB_ALL).fetchmany(MAX_TERMS + 1)
            conn.execute("COMMIT")
        finally:
            conn.close()
        vocab = Vocabulary(row[0] if row else None, rows) if len(rows) <= MAX_TERMS else None
        with _lock:
            _lists.pop(path, None)
            if vocab is not None:
                _lists[path] = vocab
                while len(_lists) > MAX_LISTS:
                    _lists.pop(next(iter(_lists)))
    except Exception:  # a read model being rebuilt or removed: the next lookup scans and tries again
        log.warning("Could not read the vocabulary of %s", path, exc_info=True)
    finally:
        with _lock:
            _loading.discard(path)
