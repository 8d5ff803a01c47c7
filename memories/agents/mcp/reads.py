"""Reads for the MCP tools: the read model's rows as memorygraph's own models.

memorygraph's tool handlers format ``Memory`` and ``Relationship`` objects; these functions
answer them from the read model, ranked by our search (BM25, title matches first) instead
of memorygraph's ``LIKE``. The SQL is parameterised; filters reuse ``sql.filter_clause``.
"""
import json
from datetime import UTC, datetime, timedelta

from . import upstream  # noqa: F401  (first: memorygraph's import-time logging)

# isort: split
from memorygraph.models import Relationship, RelationshipProperties, RelationshipType
from memorygraph.utils.memory_parser import parse_memory_from_properties

from ... import sql
from ...search.engine import ranked_rids
from ...search.query import any_words_query, meaningful_words, parse_query
from ...selectors import Filters
from ...store.rows import marks
from ..sql import BY_RIDS, NEIGHBOURS, RECENT, RECENT_COUNTS, RECENT_UNRESOLVED, STATISTICS, TYPE_COUNTS

# memorygraph's own answers are capped so: related memories at 20 per hop, recent activity
# at 20 memories and 10 unresolved problems (sqlite_database.py in 0.12.4).
RELATED_LIMIT = 20
# Our own bound on a walk several hops deep (memorygraph's SQLite backend walks one hop only):
# at most this many memories, so depth 5 in a dense graph stays a few hundred indexed lookups.
RELATED_MAX = 200
RECENT_LIMIT = 20
UNRESOLVED_LIMIT = 10



def as_memory(props_text):
    """memorygraph's Memory for a stored properties text (None for a row it would not parse)."""
    return parse_memory_from_properties(json.loads(props_text), source="memory-kb")


def memory_get(rm, memory_id):
    row = rm.conn.execute(sql.MEMORY_BY_ID, (memory_id,)).fetchone()
    return as_memory(row["props"]) if row else None


def _filters(search_query):
    return Filters(types=tuple(t.value for t in search_query.memory_types),
                   tags=tuple(t.strip().lower() for t in search_query.tags if t.strip()),
                   project=search_query.project_path or None)


def _text(search_query):
    if search_query.terms:
        joiner = " OR " if search_query.match_mode != "all" else " "
        words = [t for t in search_query.terms if t.strip()]
        if search_query.query:
            words.insert(0, search_query.query)
        return joiner.join(words) if words else None
    return search_query.query


def memory_search(rm, search_query):
    """Memories matching a memorygraph SearchQuery, best first: our BM25 ranking for text (a
    question in plain words falls back to any of its words), newest first without text."""
    filters = _filters(search_query)
    want = search_query.offset + search_query.limit
    minimum = search_query.min_importance
    text = (_text(search_query) or "").strip()
    if not text:
        where, params = sql.filter_clause(filters)
        if minimum is not None:
            where.append("m.importance >= ?")
            params.append(minimum)
        query = RECENT.format(where=" AND ".join(where) or "1")
        rows = rm.conn.execute(query, [*params, want]).fetchall()
        found = [as_memory(r["props"]) for r in rows]
    else:
        found = _ranked(rm, text, filters, want if minimum is None else max(want * 4, 200))
        if minimum is not None:
            found = [m for m in found if m and m.importance >= minimum]
    return [m for m in found if m is not None][search_query.offset:want]


def _ranked(rm, text, filters, want):
    parsed = parse_query(text)
    rids = ranked_rids(rm.conn, parsed, filters, want) if parsed else []
    if not rids and (words := meaningful_words(text)) and len(words) > 1:
        fallback = any_words_query(words)
        rids = ranked_rids(rm.conn, fallback, filters, want) if fallback else []
    if not rids:
        return []
    rows = rm.conn.execute(BY_RIDS.format(marks=marks(len(rids))), rids).fetchall()
    by_rid = {r["rid"]: r["props"] for r in rows}
    return [as_memory(by_rid[rid]) for rid in rids if rid in by_rid]


def _relationship(row):
    props = json.loads(row["rel_props"] or "{}")
    try:
        rel_type = RelationshipType(row["rel_type"])
    except ValueError:
        rel_type = RelationshipType.RELATED_TO
    context, evidence = props.get("context"), props.get("evidence_count")
    return Relationship(
        id=row["id"], from_memory_id=row["from_id"], to_memory_id=row["to_id"], type=rel_type,
        properties=RelationshipProperties(
            strength=_fraction(props.get("strength"), 0.5),
            confidence=_fraction(props.get("confidence"), 0.8),
            context=context if isinstance(context, str) else None,
            evidence_count=evidence if isinstance(evidence, int) and evidence >= 0 else 1))


def _fraction(value, default):
    return float(value) if isinstance(value, (int, float)) and 0 <= value <= 1 else default


def related_memories(rm, memory_id, relationship_types, max_depth):
    """(Memory, Relationship) pairs up to max_depth hops away in either direction, each memory
    once, with the relationship that reached it: nearer first, stronger first within a hop; at
    most RELATED_LIMIT per memory walked from and RELATED_MAX in all."""
    types = [t.value for t in relationship_types or ()]
    clause = f"AND e.rel_type IN ({marks(len(types))})" if types else ""
    query = NEIGHBOURS.format(types=clause)
    seen, frontier, found = {memory_id}, [memory_id], []
    for _ in range(max(1, min(int(max_depth), 5))):
        following = []
        for current in frontier:
            if len(found) >= RELATED_MAX:
                return found
            params = [current, current, current, current, *types, RELATED_LIMIT]
            for row in rm.conn.execute(query, params).fetchall():
                other = row["to_id"] if row["from_id"] == current else row["from_id"]
                if other in seen:
                    continue
                seen.add(other)
                memory = as_memory(row["props"])
                if memory is not None and len(found) < RELATED_MAX:
                    found.append((memory, _relationship(row)))
                    following.append(other)
        frontier = following
    return found


def recent_activity(rm, days, project):
    """memorygraph's activity summary: memories created in the last ``days``, by type, the
    newest 20, and the unresolved problems and errors among them (no current SOLVES or
    ADDRESSES coming in), most important first."""
    cutoff = (datetime.now(UTC) - timedelta(days=days)).isoformat()
    where, params = sql.filter_clause(Filters(project=project or None))
    where.append("m.created_at >= ?")
    params.append(cutoff)
    clause = " AND ".join(where)
    counts = dict(rm.conn.execute(RECENT_COUNTS.format(where=clause), params).fetchall())
    recent = rm.conn.execute(RECENT.format(where=clause), [*params, RECENT_LIMIT]).fetchall()
    open_clause = clause + " AND " + sql.UNRESOLVED
    unresolved = rm.conn.execute(RECENT_UNRESOLVED.format(where=open_clause), [*params, UNRESOLVED_LIMIT])
    return {
        "total_count": sum(counts.values()),
        "memories_by_type": counts,
        "recent_memories": [m for r in recent if (m := as_memory(r["props"])) is not None],
        "unresolved_problems": [m for r in unresolved.fetchall() if (m := as_memory(r["props"])) is not None],
        "days": days,
        "project": project,
    }


def statistics(rm):
    """The dict memorygraph's get_memory_statistics formats (keys as its SQLite backend gives)."""
    row = rm.conn.execute(STATISTICS).fetchone()
    return {
        "total_memories": {"count": row["memories"]},
        "memories_by_type": {r["type"]: r["n"] for r in rm.conn.execute(TYPE_COUNTS).fetchall()},
        "total_relationships": {"count": row["edges"]},
        "avg_importance": {"avg_importance": row["importance"] or 0},
        "avg_confidence": {"avg_confidence": row["confidence"] or 0},
    }
