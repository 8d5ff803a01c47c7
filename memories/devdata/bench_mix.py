"""The searches and list pages kb_bench and kb_bench_search time, and the bare FTS5 query a
first search is judged against."""
from django.conf import settings

from memories import selectors
from memories.search import sql
from memories.search.backends.fts import SNIPPETS_PREFIX
from memories.search.query import parse_query
from memories.selectors import Filters
from memories.store.rows import marks

from .synthetic import PROJECTS
from .synthetic_text import ACRONYMS, DOMAIN_WORDS, vocabulary

BARE_RANKED = (f"SELECT rowid, {sql.BM25} AS score FROM memory_fts WHERE memory_fts MATCH ? "
               "ORDER BY score LIMIT ?")


def bare_search(rm, text, limit=20):
    """The floor a first search is judged against: the ranked top `limit` with snippets as bare
    FTS5 queries (BM25 order, highlight and snippet of those rows; no title pass, count,
    fallback, facets, Django or JSON)."""
    parsed = parse_query(text)
    if parsed is None:
        return []
    rids = [r[0] for r in rm.conn.execute(BARE_RANKED, (parsed.match, limit))]
    if not rids:
        return []
    in_rids = marks(len(rids))
    if '"*' in parsed.match:  # a prefix term: one pass over the rowid range, as memories.search does
        return rm.conn.execute(SNIPPETS_PREFIX.format(marks=in_rids),
                               [parsed.match, min(rids), max(rids), *rids]).fetchall()
    return rm.conn.execute(sql.SNIPPETS.format(marks=in_rids), [parsed.match, *rids]).fetchall()


def search_mix(rng, count, *, rm, ids):
    """count (kind, query) pairs cycling through the kinds of search people type."""
    vocab = vocabulary()
    common = [w for w in DOMAIN_WORDS[:40] if len(w) > 3]
    middle = list(dict.fromkeys(DOMAIN_WORDS[40:]))
    rare = vocab[5000:]
    known = set(vocab)

    def phrase():
        content = selectors.memory_detail(rm=rm, memory_id=rng.choice(ids))["content"]
        words = [w for w in (w.strip(".,") for w in content.split()) if w.isalpha()]
        start = rng.randrange(max(1, len(words) - 3))
        text = " ".join(w.strip(".,`$") for w in words[start:start + rng.choice((2, 3))])
        return f'"{text}"'

    def typo():
        while True:
            word = rng.choice([w for w in middle if len(w) >= 6])
            at = rng.randrange(1, len(word) - 2)
            wrong = word[:at] + word[at + 1] + word[at] + word[at + 2:]
            if wrong not in known:
                return wrong

    kinds = {
        "common word": lambda: rng.choice(common),
        "rare word": lambda: rng.choice(rare),
        "two words": lambda: f"{rng.choice(common)} {rng.choice(middle)}",
        "phrase": phrase,
        "prefix": lambda: rng.choice(("auth*", "deplo*", "migra*", "conn*")),
        "OR": lambda: f"{rng.choice(middle)} OR {rng.choice(middle)}",
        "acronym": lambda: rng.choice(ACRONYMS),
        "typo": typo,
    }
    names = list(kinds)
    return [(names[i % len(names)], kinds[names[i % len(names)]]()) for i in range(count)]


def list_mix(rm, count):
    """count (kind, url params, Filters, sort, cursor) tuples cycling through list pages."""
    tags = [t["tag"] for t in selectors.tag_index(rm=rm, order="count", limit=2000)["tags"]]
    common_tag, middle_tag, rare_tag = tags[0], tags[min(50, len(tags) - 1)], tags[(len(tags) * 2) // 3]
    first = selectors.memory_list(rm=rm, filters=Filters(), sort="newest", limit=settings.KB_PAGE_SIZE)
    page2 = [("after", first.next_cursor)] if first.next_cursor else []
    cursor = selectors.decode_cursor(first.next_cursor) if first.next_cursor else None
    variants = [
        ("newest", [], Filters(), "newest", None),
        ("type", [("type", "error")], Filters(types=("error",)), "newest", None),
        ("common tag", [("tag", common_tag)], Filters(tags=(common_tag,)), "newest", None),
        ("rare tag", [("tag", rare_tag)], Filters(tags=(rare_tag,)), "newest", None),
        ("type + tag", [("type", "problem"), ("tag", middle_tag)],
         Filters(types=("problem",), tags=(middle_tag,)), "newest", None),
        ("project", [("project", PROJECTS[1])], Filters(project=PROJECTS[1]), "newest", None),
        ("band", [("band", "high")], Filters(band="high"), "newest", None),
        ("unresolved", [("unresolved", "1")], Filters(unresolved=True), "newest", None),
        ("by importance", [("sort", "importance")], Filters(), "importance", None),
        ("page 2 (keyset)", page2, Filters(), "newest", cursor),
    ]
    return [variants[i % len(variants)] for i in range(count)]
