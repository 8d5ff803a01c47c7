"""The FTS5 backend: ranked full-text search over the read model, with partial-match and typo
fallbacks.

User text becomes an FTS5 expression only through ``query.parse_query``. Ranking is
BM25 with the title weighted highest, and memories whose *title* matches come first, so
an acronym or proper noun in a title always wins over many mentions in bodies.

A plain question ("how to fix CORS") rarely has a memory holding all its words: when the
exact AND query fills less than a page, the best matches for *any* of its meaningful
words (stop words dropped) follow, ranked by BM25, and say so. Queries that use syntax
(phrases, prefixes, operators) keep their exact meaning. A first search counts at most
COUNT_UPTO matches and takes no facets (the page asks for them in a second request);
with ``facets=True`` the facets are counted over the best FACET_SAMPLE hits and the
total is exact.
"""
import html
import json
import re
from dataclasses import replace

from ... import sql as memories_sql
from ...markdown import plain
from ...selectors import FACET_SAMPLE, FACET_TAG_LIMIT, Page, memory_summary, order_facets
from ...store.cache import cached
from ...store.rows import marks
from .. import sql
from ..query import any_words_query, meaningful_words, parse_query, prefix_query
from ..spelling import closest, known, stem, suggest_terms
from ..stopwords import RELATED_WORDS
from . import base

COUNT_UPTO = 10_000

_MARKED = re.compile(r"<mark>(.*?)</mark>")
# sql.SNIPPETS for a query with a prefix term (bind MATCH, the least and greatest rowid, the
# rowids). FTS5 answers `rowid IN` with one lookup per rowid, and a prefix term merges the
# doclists of every term it covers on each lookup (``auth*``: 4 terms, 46,000 documents, 20
# times: 80-95 ms at 100,000 memories). One pass over the rowid range merges them once (4-8 ms);
# the `+` keeps the IN list a filter on that pass.
SNIPPETS_PREFIX = sql.SNIPPETS.replace("rowid IN ({marks})", "rowid BETWEEN ? AND ? AND +rowid IN ({marks})")


def marked(text):
    """Escape FTS5 output, then turn its \\x02/\\x03 markers into <mark> elements."""
    return html.escape(plain(text)).replace("\x02", "<mark>").replace("\x03", "</mark>")


def memory_search(*, rm, text, filters, page=1, limit=20, exact=False, facets=True):
    """Search results as a Page, plus `query` (what was searched), `corrected` (the query as
    the typo fallback rewrote it), `partial` (the words of the any-word fallback, or None)
    `total_more` (the total was counted only up to COUNT_UPTO) and `titles_only` (one-letter
    prefixes, looked for in titles only: query.PREFIX_MIN_CHARS)."""
    parsed = parse_query(text or "")
    result = {"query": text, "corrected": None, "partial": None, "page": page, "total_more": False,
              "titles_only": list(parsed.titles_only) if parsed else []}
    if parsed is None:
        empty = order_facets(_empty_facets()) if facets else None
        result["page_data"] = Page(items=[], total=0, facets=empty)
        return result
    page_data = cached(rm, ("search", parsed.match, filters, page, limit, facets),
                       lambda: _run(rm.conn, parsed, filters, page, limit, facets))
    if page_data.total == 0 and not exact:
        replacement = cached(rm, ("suggest", parsed.terms), lambda: suggest_terms(rm, parsed.terms))
        fallback = prefix_query(replacement) if replacement else None
        if fallback is not None:
            fallback_page = _run(rm.conn, fallback, filters, page, limit, facets)
            if fallback_page.total:
                result["corrected"] = corrected_text(parsed.terms, replacement, fallback_page.items)
                page_data = fallback_page
    if not exact and not result["corrected"] and page == 1 and page_data.total < limit:
        words = meaningful_words(text)
        if words and len(words) == 1 and words == list(parsed.terms):
            words = None  # one word the exact query already asks for: nothing to widen
        anyq = cached(rm, ("any", tuple(words or ())), lambda: _any_words(rm, words)) if words else None
        if anyq is not None and anyq.match != parsed.match:
            page_data = _with_partial(rm.conn, page_data, parsed, anyq, filters, limit, facets)
            result["partial"] = list(anyq.terms) if any(i.get("partial") for i in page_data.items) else None
    result["total_more"] = page_data.total >= COUNT_UPTO and not facets
    result["page_data"] = page_data
    return result


def corrected_text(terms, replacement, items):
    """The query as the user would have written it: each misspelt word once, replaced by the
    word as the best hits spell it ("kubernetes", not the stem "kubernet"). `replacement` is
    suggest_terms' answer: one indexed term for each stem of the terms, in order."""
    fixed = dict(zip((s for term in terms for s in stem(term)), replacement))
    seen = {}
    for item in items[:5]:
        for found in _MARKED.findall(item["title_html"] + " " + item["snippet_html"]):
            word = html.unescape(found).lower()
            seen.setdefault(word, (stem(word) or [""])[0])
    out = []
    for word in (w for term in terms for w in re.findall(r"\w+", term)):
        stems = stem(word)
        if all(fixed.get(s, s) == s for s in stems):
            out.append(word)
            continue
        for s in stems:
            best = fixed.get(s, s)
            out.append(next((w for w, ws in seen.items() if ws == best), None)
                       or next((w for w in seen if w.startswith(best)), best))
    return " ".join(dict.fromkeys(out))


def _any_words(rm, words):
    """OR of the words the index holds (a misspelt one replaced by its closest term, as a
    prefix), or None when none is left."""
    kept = []
    for word in words:
        stems = stem(word)
        if stems and all(known(rm.conn, s) for s in stems):
            kept.append((word, False))
        elif len(stems) == 1 and (best := closest(rm, stems[0])):
            kept.append((best, True))
        kept += [(w, False) for w in RELATED_WORDS.get(word, ()) if all(known(rm.conn, s) for s in stem(w))]
    return any_words_query(kept)


def _with_partial(conn, page_data, parsed, anyq, filters, limit, facets):
    """The exact hits, then the best any-word hits that are not among them, up to limit."""
    exact_ids = {i["id"] for i in page_data.items}
    rids = ranked_rids(conn, anyq, filters, limit + len(exact_ids), titles_first=False)
    extra = [i for i in _items(conn, anyq, rids) if i["id"] not in exact_ids][:limit - len(exact_ids)]
    for item in extra:
        item["partial"] = True
    found = page_data.facets
    if facets and page_data.total == 0:
        found = _facets(conn, anyq, filters, page_data.total)
    return Page(items=page_data.items + extra, total=page_data.total, facets=found,
                next_cursor=page_data.next_cursor)


def _empty_facets():
    return {k: {} for k in ("type", "tag", "project", "band", "month")}


def ranked_rids(conn, parsed, filters, want, *, titles_first=True):
    """Up to `want` rowids, best first: title matches, then the rest, each by BM25.

    Ranking every match of a very common word costs 40-90 ms at 100k memories; when the
    title matches alone fill the request, the rest is never ranked. Any-word queries are
    ranked by BM25 alone: a title holding one common word must not beat a body holding all.
    """
    query, params = sql.match_query(*sql.MATCH_RANKED, filters=filters)
    titles = [r[0] for r in conn.execute(query, [parsed.title_only(), *params, want]).fetchall()] \
        if titles_first else []
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
    rows = rm.conn.execute(sql.MEMORIES_BY_RIDS.format(marks=marks(len(rids))), rids).fetchall()
    by_rid = {r["rid"]: r["id"] for r in rows}
    return [by_rid[r] for r in rids if r in by_rid]


def _run(conn, parsed, filters, page, limit, facets=True):
    if facets:
        query, params = sql.match_query(sql.MATCH_COUNT, filters=filters)
        total = conn.execute(query, [parsed.match, *params]).fetchone()[0]
    else:
        query, params = sql.match_count_upto(filters)
        total = conn.execute(query, [parsed.match, *params, COUNT_UPTO]).fetchone()[0]
    offset = (page - 1) * limit
    page_rids = ranked_rids(conn, parsed, filters, offset + limit)[offset:] if total else []
    pages = (total + limit - 1) // limit
    return Page(items=_items(conn, parsed, page_rids), total=total,
                facets=_facets(conn, parsed, filters, total) if facets else None,
                next_cursor=str(page + 1) if page < pages else None)


def _facets(conn, parsed, filters, total):
    """Counts over the first FACET_SAMPLE matches (index order: no ranking needed). A facet
    the filters choose values of is counted without its own filter, so its other values
    stay offered: choosing a second type widens the search (OR within a facet)."""
    def sample(without=None):
        chosen = filters if without is None else \
            replace(filters, **{without: () if without == "types" else None})
        query, params = sql.match_query(*sql.MATCH_ROWIDS, filters=chosen)
        rids = [r[0] for r in conn.execute(query, [parsed.match, *params, FACET_SAMPLE])]
        return _sample_facets(conn, rids)

    found = sample()
    for facet, field in (("type", "types"), ("band", "band"), ("project", "project"), ("month", "month")):
        if getattr(filters, field) not in ((), None):
            found[facet] = sample(field)[facet]
    found["sampled"] = FACET_SAMPLE if total > FACET_SAMPLE else None
    return found


def _items(conn, parsed, rids):
    if not rids:
        return []
    in_rids = marks(len(rids))
    rows = {r["rid"]: r for r in conn.execute(sql.MEMORIES_BY_RIDS.format(marks=in_rids), rids).fetchall()}
    if '"*' in parsed.match:  # a prefix term (user text is quoted: `"*` is always FTS5 syntax)
        query, params = SNIPPETS_PREFIX.format(marks=in_rids), [parsed.match, min(rids), max(rids), *rids]
    else:
        query, params = sql.SNIPPETS.format(marks=in_rids), [parsed.match, *rids]
    snippets = {r["rowid"]: r for r in conn.execute(query, params)}
    items = []
    for rid in rids:
        row, snip = rows[rid], snippets.get(rid)
        item = memory_summary(row)
        item["title_html"] = marked(snip["title_hl"]) if snip else html.escape(row["title"])
        item["snippet_html"] = _snippet(row, snip)
        items.append(item)
    return items


def _snippet(row, snip):
    """Text around the matches in the content, else in the summary, else the summary's start."""
    for column in ("content_snippet", "summary_snippet"):
        if snip and "\x02" in (snip[column] or ""):
            return marked(snip[column])
    return html.escape(plain(row["summary"] or row["content"])[:200])


def _sample_facets(conn, rids):
    conn.execute(memories_sql.SAMPLE_TABLE)
    conn.execute(memories_sql.SAMPLE_CLEAR)
    conn.execute(sql.SAMPLE_BY_RIDS, (json.dumps(rids),))
    facets = {c: dict(conn.execute(memories_sql.SAMPLE_FACET.format(column=c)).fetchall())
              for c in memories_sql.FACET_COLUMNS}
    facets["tag"] = dict(conn.execute(memories_sql.SAMPLE_TAGS, (FACET_TAG_LIMIT,)).fetchall())
    return order_facets(facets)


class SearchBackend(base.SearchBackend):
    """SQLite FTS5 over the read model's memory_fts table: the functions above."""

    def memory_search(self, **kwargs):
        return memory_search(**kwargs)

    def search_ids(self, **kwargs):
        return search_ids(**kwargs)

    def ranked_rids(self, conn, parsed, filters, want, *, titles_first=True):
        return ranked_rids(conn, parsed, filters, want, titles_first=titles_first)
