"""Ranked full-text search over the read model, with a typo-tolerant fallback.

User text becomes an FTS5 expression only through ``query.parse_query``. Ranking is
BM25 with the title weighted highest, and memories whose *title* matches come first, so
an acronym or proper noun in a title always wins over many mentions in bodies. Facet
counts are taken over the best FACET_SAMPLE hits (exact when there are fewer); the
total is an exact count.
"""
import html
import json
import re
import sqlite3
import threading

from . import sql
from .cache import cached
from .markdown import plain
from .query import parse_query, prefix_query
from .selectors import FACET_SAMPLE, FACET_TAG_LIMIT, Page, memory_summary, order_facets

_local = threading.local()


_MARKED = re.compile(r"<mark>(.*?)</mark>")


def marked(text):
    """Escape FTS5 output, then turn its \\x02/\\x03 markers into <mark> elements."""
    return html.escape(plain(text)).replace("\x02", "<mark>").replace("\x03", "</mark>")


def memory_search(*, rm, text, filters, page=1, limit=20):
    """Search results as a Page, plus `query` (what was searched) and `corrected` (typo fallback)."""
    parsed = parse_query(text or "")
    result = {"query": text, "corrected": None, "page": page}
    if parsed is None:
        result["page_data"] = Page(items=[], total=0, facets=order_facets(_empty_facets()))
        return result
    page_data = cached(rm, ("search", parsed.match, filters, page, limit),
                       lambda: _run(rm.conn, parsed, filters, page, limit))
    if page_data.total == 0:
        replacement = cached(rm, ("suggest", parsed.terms), lambda: suggest_terms(rm.conn, parsed.terms))
        if replacement:
            fallback = prefix_query(replacement)
            if fallback is not None:
                fallback_page = _run(rm.conn, fallback, filters, page, limit)
                if fallback_page.total:
                    result["corrected"] = _surface_words(fallback_page.items[0]) or " ".join(replacement)
                    page_data = fallback_page
    result["page_data"] = page_data
    return result


def _surface_words(item):
    """The words as written in the best hit (the index holds stems such as 'kubernet')."""
    words = {}
    for found in _MARKED.findall(item["title_html"] + " " + item["snippet_html"]):
        words.setdefault(html.unescape(found).lower(), html.unescape(found))
    return " ".join(words.values())


def _empty_facets():
    return {k: {} for k in ("type", "tag", "project", "band", "month")}


def ranked_rids(conn, parsed, filters, want):
    """Up to `want` rowids, best first: title matches, then the rest, each by BM25.

    Ranking every match of a very common word costs 40-90 ms at 100k memories; when the
    title matches alone fill the request, the rest is never ranked.
    """
    query, params = sql.match_query(*sql.MATCH_RANKED, filters=filters)
    titles = [r[0] for r in conn.execute(query, [parsed.title_only(), *params, want]).fetchall()]
    if len(titles) >= want:
        return titles
    seen = set(titles)
    rest = conn.execute(query, [parsed.match, *params, want + len(titles)]).fetchall()
    return (titles + [r[0] for r in rest if r[0] not in seen])[:want]


def search_ids(*, rm, parsed, filters, limit):
    """The ids of the best `limit` hits, in rank order (for graphing a search)."""
    rids = ranked_rids(rm.conn, parsed, filters, limit)
    if not rids:
        return []
    rows = rm.conn.execute(sql.MEMORIES_BY_RIDS.format(marks=",".join("?" * len(rids))), rids).fetchall()
    by_rid = {r["rid"]: r["id"] for r in rows}
    return [by_rid[r] for r in rids if r in by_rid]


def _run(conn, parsed, filters, page, limit):
    query, params = sql.match_query(sql.MATCH_COUNT, filters=filters)
    total = conn.execute(query, [parsed.match, *params]).fetchone()[0]
    offset = (page - 1) * limit
    page_rids = ranked_rids(conn, parsed, filters, offset + limit)[offset:] if total else []
    # Facets count every match up to FACET_SAMPLE (in index order: no ranking needed).
    query, params = sql.match_query(*sql.MATCH_ROWIDS, filters=filters)
    facets = _sample_facets(conn, [r[0] for r in conn.execute(query, [parsed.match, *params, FACET_SAMPLE])])
    facets["sampled"] = FACET_SAMPLE if total > FACET_SAMPLE else None
    items = []
    if page_rids:
        marks = ",".join("?" * len(page_rids))
        rows = {r["rid"]: r for r in conn.execute(sql.MEMORIES_BY_RIDS.format(marks=marks), page_rids).fetchall()}
        snippets = {r["rowid"]: r for r in conn.execute(sql.SNIPPETS.format(marks=marks),
                                                         [parsed.match, *page_rids]).fetchall()}
        for rid in page_rids:
            row, snip = rows[rid], snippets.get(rid)
            item = memory_summary(row)
            item["title_html"] = marked(snip["title_hl"]) if snip else html.escape(row["title"])
            item["snippet_html"] = marked(snip["snippet"]) if snip else html.escape(plain(row["summary"])[:200])
            items.append(item)
    pages = (total + limit - 1) // limit
    return Page(items=items, total=total, facets=facets, next_cursor=str(page + 1) if page < pages else None)


def _sample_facets(conn, rids):
    conn.execute(sql.SAMPLE_TABLE)
    conn.execute(sql.SAMPLE_CLEAR)
    conn.execute(sql.SAMPLE_BY_RIDS, (json.dumps(rids),))
    facets = {c: dict(conn.execute(sql.SAMPLE_FACET.format(column=c)).fetchall()) for c in sql.FACET_COLUMNS}
    facets["tag"] = dict(conn.execute(sql.SAMPLE_TAGS, (FACET_TAG_LIMIT,)).fetchall())
    return order_facets(facets)


# Typo fallback ---------------------------------------------------------------------------

def _stemmer():
    """An in-memory FTS5 table that stems words exactly as the index does."""
    conn = getattr(_local, "stemmer", None)
    if conn is None:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.execute("CREATE VIRTUAL TABLE s USING fts5(x, tokenize='porter unicode61')")
        conn.execute("CREATE VIRTUAL TABLE sv USING fts5vocab(s, 'instance')")
        _local.stemmer = conn
    return conn


def stem(word):
    conn = _stemmer()
    conn.execute("DELETE FROM s")
    conn.execute("INSERT INTO s(x) VALUES (?)", (word,))
    return [r[0] for r in conn.execute("SELECT term FROM sv ORDER BY offset").fetchall()]


def edit_distance(a, b, limit):
    """Edit distance counting a swap of neighbours as one edit (optimal string alignment);
    limit + 1 as soon as it must exceed limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if before is not None and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def suggest_terms(conn, terms):
    """Replace each misspelt word by the closest indexed term (edit distance 1-2), or None."""
    replaced, changed = [], False
    for term in terms:
        for word in stem(term):
            if conn.execute("SELECT 1 FROM memory_vocab WHERE term = ?", (word,)).fetchone():
                replaced.append(word)
                continue
            best = _closest(conn, word)
            if best is None:
                return None
            replaced.append(best)
            changed = True
    return replaced if changed else None


def _closest(conn, word):
    if len(word) < 3:
        return None
    limit = 1 if len(word) <= 5 else 2
    # Typos rarely hit the first letter; scanning one letter's terms keeps this cheap.
    best = None
    for term, docs in conn.execute(*_terms_starting_with(word[0])).fetchall():
        distance = edit_distance(word, term, limit)
        if len(term) >= 5 and len(word) > len(term):
            # The index holds stems ("environ"); a misspelt word is not stemmed ("environemnt"),
            # so also compare its start with the stem, at the cost of one edit.
            distance = min(distance, edit_distance(word[:len(term)], term, limit) + 1)
        if distance <= limit:
            key = (distance, -docs)
            if best is None or key < best[0]:
                best = (key, term)
    return best[1] if best else None


def _terms_starting_with(letter):
    """The vocabulary query for the terms whose first letter is `letter`, for any code point.

    Terms compare as UTF-8 bytes, that is by code point. After U+D7FF come the surrogates,
    which no term can hold, so the range ends at U+E000; nothing comes after U+10FFFF, so
    every term from it on starts with it.
    """
    following = ord(letter) + 1
    if 0xD800 <= following <= 0xDFFF:
        following = 0xE000
    if following > 0x10FFFF:
        return sql.VOCAB_FROM, (letter,)
    return sql.VOCAB_RANGE, (letter, chr(following))
