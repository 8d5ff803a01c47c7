"""Reads: every page's data comes from the read model through these functions.

Named ``<entity>_<action>`` with keyword-only arguments; each returns plain dicts and
lists that serve both the HTML page and its JSON twin.
"""
import base64
import json
from dataclasses import dataclass, field, replace

from . import sql
from .format import IMPORTANCE_BANDS, REL_CATEGORY, decode_value

FACET_TAG_LIMIT = 25


@dataclass(frozen=True)
class Filters:
    types: tuple = ()
    tags: tuple = ()
    project: str | None = None
    band: str | None = None
    month: str | None = None
    unresolved: bool = False

    def active(self):
        return bool(self.types or self.tags or self.project is not None or self.band or self.month or self.unresolved)

    def as_params(self):
        """The query-string pairs that reproduce these filters."""
        pairs = [("type", t) for t in self.types] + [("tag", t) for t in self.tags]
        for key in ("project", "band", "month"):
            if getattr(self, key) is not None:
                pairs.append((key, getattr(self, key)))
        if self.unresolved:
            pairs.append(("unresolved", "1"))
        return pairs


@dataclass
class Page:
    items: list
    total: int
    facets: dict = field(default_factory=dict)
    next_cursor: str | None = None


def encode_cursor(value, memory_id):
    raw = json.dumps([value, memory_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text):
    """The (sort value, id) pair of a cursor, or None for a cursor that is not ours."""
    try:
        value, memory_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError):
        return None
    if isinstance(memory_id, str) and isinstance(value, (str, int, float)):
        return value, memory_id
    return None


def memory_summary(row):
    """The fields a list item shows."""
    return {
        "id": row["id"],
        "type": row["type"],
        "title": row["title"],
        "summary": row["summary"],
        "tags": json.loads(row["tags"]),
        "importance": row["importance"],
        "confidence": row["confidence"],
        "project": row["project"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def memory_list(*, rm, filters, sort="newest", cursor=None, limit=25):
    query, params = sql.list_query(filters, sort, cursor, limit + 1)
    rows = rm.conn.execute(query, params).fetchall()
    items = [memory_summary(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(sql.sort_value(sort, last), last["id"])
    facets = facet_counts(rm=rm, filters=filters)
    return Page(items=items, total=sum(facets["type"].values()), facets=facets, next_cursor=next_cursor)


def facet_counts(*, rm, filters):
    """{facet: {value: count}} over the memories matching filters (summary table when unfiltered)."""
    conn = rm.conn
    if not filters.active():
        facets = {c: dict(conn.execute(sql.FACET_TOTALS, (c,)).fetchall()) for c in sql.FACET_COLUMNS}
        facets["tag"] = dict(conn.execute(sql.TAG_TOTALS, (FACET_TAG_LIMIT,)).fetchall())
    else:
        facets = {c: dict(conn.execute(*sql.facet_query(c, filters)).fetchall()) for c in sql.FACET_COLUMNS}
        facets["tag"] = dict(conn.execute(*sql.tag_facet_query(filters, FACET_TAG_LIMIT)).fetchall())
    return order_facets(facets)


def order_facets(facets):
    ordered = {
        "type": dict(sorted(facets["type"].items(), key=lambda kv: (-kv[1], kv[0]))),
        "tag": facets["tag"],
        "project": dict(sorted(facets["project"].items(), key=lambda kv: (-kv[1], kv[0]))),
        "band": {b: facets["band"][b] for b in IMPORTANCE_BANDS if b in facets["band"]},
        "month": dict(sorted(facets["month"].items(), reverse=True)),
    }
    return ordered


def memory_detail(*, rm, memory_id):
    """Everything the memory page shows, or None."""
    row = rm.conn.execute(sql.MEMORY_BY_ID, (memory_id,)).fetchone()
    if row is None:
        return None
    props = json.loads(row["props"])
    memory = memory_summary(row)
    memory["content"] = row["content"]
    memory["version"] = row["version"]
    memory["context"] = {
        key[len("context_"):]: _context_text(decode_value(value))
        for key, value in sorted(props.items())
        if key.startswith("context_") and decode_value(value) not in (None, "", [], {})
    }
    memory["extra"] = {k: props[k] for k in ("usage_count", "effectiveness", "last_accessed") if props.get(k) is not None}
    memory["outgoing"] = _group_edges(rm.conn.execute(sql.EDGES_OUT, (memory_id,)).fetchall(), "to_id")
    memory["incoming"] = _group_edges(rm.conn.execute(sql.EDGES_IN, (memory_id,)).fetchall(), "from_id")
    return memory


def _context_text(value):
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _group_edges(rows, other_key):
    groups = {}
    for row in rows:
        groups.setdefault(row["rel_type"], []).append({
            "id": row["id"],
            "type": row["rel_type"],
            "category": REL_CATEGORY.get(row["rel_type"], "other"),
            "other_id": row[other_key],
            "other_title": row["other_title"] or "(missing memory)",
            "other_type": row["other_type"],
            "strength": row["strength"],
            "context": row["context"],
            "current": bool(row["current"]),
        })
    return groups


def memory_titles(*, rm, ids):
    ids = list(ids)
    if not ids:
        return {}
    rows = rm.conn.execute(sql.MEMORIES_BY_IDS.format(marks=",".join("?" * len(ids))), ids).fetchall()
    return {r["id"]: {"title": r["title"], "type": r["type"]} for r in rows}


TAG_ORDERS = {"count": "n DESC, value", "name": "value"}


def tag_index(*, rm, order="count", limit=200, offset=0):
    rows = rm.conn.execute(sql.TAG_INDEX.format(order=TAG_ORDERS[order]), (limit, offset)).fetchall()
    total = rm.conn.execute(sql.TAG_INDEX_COUNT).fetchone()[0]
    return {"tags": [{"tag": r["tag"], "count": r["n"]} for r in rows], "total": total}


def tag_memory_ids(*, rm, tag):
    return [r[0] for r in rm.conn.execute(sql.TAG_MEMORY_IDS, (tag,)).fetchall()]


def graph_counts(*, rm):
    row = rm.conn.execute(sql.COUNTS).fetchone()
    return {"memories": row["memories"], "relationships": row["edges"],
            "unresolved": rm.conn.execute(sql.UNRESOLVED_COUNT).fetchone()[0]}


def selection_ids(*, rm, filters, parsed=None):
    """Ids of every memory matched by a search and/or filters (for bulk tagging)."""
    if parsed is not None:
        from .search import fill_hits

        fill_hits(rm.conn, parsed)
        query, params = sql.hits_query(filters, -1, 0)
    else:
        query, params = sql.list_query(filters, "newest", None, -1)
    return [r["id"] for r in rm.conn.execute(query, params).fetchall()]


def without_filter(filters, **changes):
    return replace(filters, **changes)


def memory_updated_stamp(*, rm, memory_id):
    """The properties' updated_at, used as the edit form's concurrency token."""
    row = rm.conn.execute(sql.MEMORY_UPDATED_STAMP, (memory_id,)).fetchone()
    return row[0] if row else None
