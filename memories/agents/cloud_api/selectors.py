"""Reads for the cloud API, from the read model: memories, neighbourhoods, search, activity, counts.

Search and recall rank with our search (search.engine.ranked_rids: BM25 with title matches first), not
with memorygraph's LIKE, so an acronym in a title comes first through this API as on the site.
"""
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from ... import sql
from ...search import sql as search_sql
from ...search.engine import ranked_rids
from ...search.query import any_words_query, meaningful_words, parse_query
from ...selectors import Filters
from ...store.rows import marks
from .. import sql as agents_sql
from .serializers import memory_json

MAX_RELATED = 200
_WORD = re.compile(r"\w+")


def memory_row(rm, memory_id):
    return rm.conn.execute(sql.MEMORY_BY_ID, (memory_id,)).fetchone()


def memory_get(*, rm, memory_id):
    row = memory_row(rm, memory_id)
    return memory_json(row) if row is not None else None


def _rows_by_ids(rm, ids):
    if not ids:
        return {}
    rows = rm.conn.execute(agents_sql.MEMORIES_BY_IDS.format(marks=marks(len(ids))), ids).fetchall()
    return {r["id"]: r for r in rows}


def related(*, rm, memory_id, max_depth, rel_types=()):
    """Memories within max_depth links of memory_id (either direction), nearest first, each with
    the link that reached it: [{"memory": ..., "relationship": ...}]."""
    type_clause = f" AND rel_type IN ({marks(len(rel_types))})" if rel_types else ""
    query = agents_sql.LINKS.format(types=type_clause)
    seen, found, frontier = {memory_id}, [], [memory_id]
    for depth in range(1, max_depth + 1):
        nxt = []
        for node in frontier:
            for edge in rm.conn.execute(query, (node, node, *rel_types)).fetchall():
                other = edge["to_id"] if edge["from_id"] == node else edge["from_id"]
                if other in seen:
                    continue
                seen.add(other)
                nxt.append(other)
                found.append((other, depth, edge))
                if len(found) >= MAX_RELATED:
                    break
        frontier = nxt
        if not frontier or len(found) >= MAX_RELATED:
            break
    rows = _rows_by_ids(rm, [f[0] for f in found])
    return [{"memory": memory_json(rows[other]), "depth": depth,
             "relationship": {"type": e["rel_type"], "from_memory_id": e["from_id"],
                              "to_memory_id": e["to_id"],
                              "strength": e["strength"] if e["strength"] is not None else 0.5,
                              "confidence": e["confidence"] if e["confidence"] is not None else 0.8,
                              "context": e["context"] or None}}
            for other, depth, e in found if other in rows]


def _filters(args):
    return Filters(types=args["types"], tags=args["tags"], project=args["project"])


def _ranked(rm, parsed, filters, want, minimum):
    """Rank, then drop memories under min_importance, ranking more until enough are left."""
    ask = want
    while True:
        rids = ranked_rids(rm.conn, parsed, filters, ask)
        rows = _by_rids(rm, rids)
        kept = [r for r in rows if minimum is None or r["importance"] >= minimum]
        if len(kept) >= want or len(rids) < ask or ask >= 20_000:
            return kept[:want]
        ask *= 4


def _by_rids(rm, rids):
    if not rids:
        return []
    rows = {r["rid"]: r for r in rm.conn.execute(
        search_sql.MEMORIES_BY_RIDS.format(marks=marks(len(rids))), rids).fetchall()}
    return [rows[r] for r in rids if r in rows]


def search(*, rm, args):
    """POST /search/advanced: ranked hits when there is a query, else most important first."""
    filters, want = _filters(args), args["offset"] + args["limit"]
    parsed = parse_query(args["text"]) if args["text"].strip() else None
    if parsed is not None:
        rows = _ranked(rm, parsed, filters, want, args["min_importance"])
    elif args["text"].strip():
        rows = []  # nothing searchable in the text (only punctuation)
    else:
        where, params = sql.filter_clause(filters)
        if args["min_importance"] is not None:
            where.append("m.importance >= ?")
            params.append(args["min_importance"])
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = rm.conn.execute(agents_sql.BY_IMPORTANCE.format(where=clause), [*params, want]).fetchall()
    return [memory_json(r) for r in rows[args["offset"]:]]


def recall(*, rm, args):
    """POST /search/recall: a question in plain words, as the site's search reads one
    (query.meaningful_words: "how did we fix the pool" asks for fix and pool). Memories holding
    all its words come first (titles first), then those holding some of them, each group by
    BM25. Stop words would make every memory that says "we" a candidate of the any-word pass:
    ranking those cost 10-20 ms of CPU at 100,000 memories, against 1-3 ms without them. A
    question with search syntax (phrases, prefixes, operators) keeps its exact meaning."""
    filters, want = _filters(args), args["limit"]
    rows, seen = [], set()
    words = meaningful_words(args["text"])
    if words is None:
        queries = (parse_query(args["text"]), any_words_query(_WORD.findall(args["text"])))
    else:
        queries = (parse_query(" ".join(words)), any_words_query(words) if len(words) > 1 else None)
    for parsed in queries:
        if parsed is None:
            continue
        for row in _ranked(rm, parsed, filters, want, None):
            if row["id"] not in seen and len(rows) < want:
                seen.add(row["id"])
                rows.append(row)
        if len(rows) >= want:
            break
    return [memory_json(r) for r in rows]


def recent_activity(*, rm, days, project, limit=20):
    since = (datetime.now(UTC) - timedelta(days=days)).isoformat()
    where, params = ["m.updated_at >= ?"], [since]
    if project:
        where.append("m.project = ?")
        params.append(project)
    clause = " AND ".join(where)
    by_type = Counter(dict(rm.conn.execute(
        agents_sql.RECENT_COUNTS.format(where=clause), params).fetchall()))
    recent = rm.conn.execute(agents_sql.RECENTLY_UPDATED.format(where=clause), [*params, limit]).fetchall()
    open_where = [sql.UNRESOLVED] + (["m.project = ?"] if project else [])
    unresolved = rm.conn.execute(
        agents_sql.RECENTLY_UPDATED.format(where=" AND ".join(open_where)),
        [*([project] if project else []), limit]).fetchall()
    return {"total_count": sum(by_type.values()), "memories_by_type": dict(by_type),
            "recent_memories": [memory_json(r) for r in recent],
            "unresolved_problems": [memory_json(r) for r in unresolved], "days": days, "project": project}


def statistics(*, rm):
    """The keys memorygraph's get_memory_statistics tool prints."""
    row = rm.conn.execute(agents_sql.MEMORY_STATISTICS).fetchone()
    edges = rm.conn.execute(agents_sql.EDGE_COUNT).fetchone()[0]
    by_type = dict(rm.conn.execute(agents_sql.BY_TYPE))
    return {"total_memories": {"count": row["n"]}, "memories_by_type": by_type,
            "total_relationships": {"count": edges},
            "avg_importance": {"avg_importance": row["imp"] or 0.0},
            "avg_confidence": {"avg_confidence": row["conf"] or 0.0}}
