"""Typo suggestions: the indexed term closest to a word the index does not hold.

Distances are optimal string alignment (a swap of neighbours is one edit), computed by
rapidfuzz in C: scoring one letter's 6,000 terms costs under a millisecond, where the former
Python loop took about 110 ms at 100,000 memories. The terms come from the read model's
vocabulary table (vocabulary.py), or, when it may not answer, from the index itself.
"""
import sqlite3
import threading

from rapidfuzz import process
from rapidfuzz.distance import OSA

from . import sql, vocabulary
from .vocabulary import Candidates

_local = threading.local()


def _stemmer():
    """An in-memory FTS5 table that stems words exactly as the index does."""
    conn = getattr(_local, "stemmer", None)
    if conn is None:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.execute(sql.STEMMER_TABLE)
        conn.execute(sql.STEMMER_VOCAB)
        _local.stemmer = conn
    return conn


def stem(word):
    conn = _stemmer()
    conn.execute(sql.STEMMER_CLEAR)
    conn.execute(sql.STEMMER_PUT, (word,))
    return [r[0] for r in conn.execute(sql.STEMMER_TERMS).fetchall()]


def known(conn, term):
    return conn.execute(sql.INDEX_HAS, (term,)).fetchone() is not None


def suggest_terms(rm, terms):
    """Replace each misspelt word by the closest indexed term (edit distance 1-2), or None."""
    replaced, changed = [], False
    for term in terms:
        for word in stem(term):
            if known(rm.conn, word):
                replaced.append(word)
                continue
            best = closest(rm, word)
            if best is None:
                return None
            replaced.append(best)
            changed = True
    return replaced if changed else None


def closest(rm, word):
    """The closest term to `word` among those sharing its first letter (typos rarely hit the
    first letter), fewest edits first, then the most documents; None beyond the limit."""
    if len(word) < 3:
        return None
    span = _following(word[0])
    candidates, exact = vocabulary.starting_with(rm.conn, word[0], span, sizes(word))
    if candidates is not None:
        best = best_term(word, candidates)
        if best is not None or exact:
            return best
    return best_term(word, rm.conn.execute(*_terms_starting_with(word[0], span)).fetchall())


def _limit(word):
    return 1 if len(word) <= 5 else 2


def sizes(word):
    """(least, greatest) length of a term best_term can choose for ``word``: an edit changes
    the length by one at most, and the stem rule compares lengths 5 to len(word) - 1. The terms
    outside it cannot win, and leaving them out keeps the others' order, so the same term wins
    (for the benchmark mix's typos about 70 % of a letter's rows are read: a small saving)."""
    least = len(word) - _limit(word)
    return (min(least, 5) if len(word) > 5 else least), len(word) + _limit(word)


def best_term(word, candidates):
    """The best of the candidates (Candidates or (term, doc) rows) for `word`, or None: edit
    distance at most 1 for words of up to 5 letters, else 2. The index holds stems ("environ")
    and a misspelt word is not stemmed ("environemnt"), so a stem of 5+ letters also compares
    with the word's start, at one edit more."""
    if not isinstance(candidates, Candidates):
        candidates = Candidates(candidates)
    limit = _limit(word)
    distance = {i: d for _, d, i in process.extract(
        word, candidates.terms, scorer=OSA.distance, score_cutoff=limit, limit=None)}
    for size in range(5, len(word)):
        indices, terms = candidates.by_size.get(size, ((), ()))
        for _, d, j in process.extract(word[:size], terms, scorer=OSA.distance, score_cutoff=limit - 1,
                                       limit=None) if terms else ():
            distance[indices[j]] = min(distance.get(indices[j], limit + 1), d + 1)
    if not distance:
        return None
    # Ties: more documents first, then index order (what the former one-by-one scan kept).
    best = min(distance, key=lambda i: (distance[i], -candidates.docs[i], i))
    return candidates.terms[best]


def _following(letter):
    """The first code point after `letter` that a term can start with, or None past U+10FFFF.

    Terms compare as UTF-8 bytes, that is by code point. After U+D7FF come the surrogates,
    which no term can hold, so the range ends at U+E000; nothing comes after U+10FFFF, so
    every term from it on starts with it.
    """
    following = ord(letter) + 1
    if 0xD800 <= following <= 0xDFFF:
        following = 0xE000
    return None if following > 0x10FFFF else chr(following)


def _terms_starting_with(letter, following):
    """The vocabulary query for the terms in [letter, following)."""
    if following is None:
        return sql.INDEX_FROM, (letter,)
    return sql.INDEX_RANGE, (letter, following)
