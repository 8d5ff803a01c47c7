"""Reads: every page's data comes from the read model through these functions.

Named ``<entity>_<action>`` with keyword-only arguments; each returns plain dicts and
lists that serve both the HTML page and its JSON twin.
"""
import base64
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from . import sql
from .format import IMPORTANCE_BANDS, REL_CATEGORY, UNRESOLVABLE_TYPES
from .properties import decode_value
from .search import sql as search_sql
from .store.cache import cached
from .store.rows import marks

FACET_TAG_LIMIT = 25
FACET_SAMPLE = 2000


@dataclass(frozen=True)
class Filters:
    types: tuple = ()
    tags: tuple = ()
    project: str | None = None
    band: str | None = None
    month: str | None = None
    unresolved: bool = False

    def active(self):
        return bool(self.types or self.tags or self.project is not None or self.band or self.month
                    or self.unresolved)

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


_SURROGATE = re.compile("[\ud800-\udfff]")


def encode_cursor(value, memory_id):
    raw = json.dumps([value, memory_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text):
    """The (sort value, id) pair of a cursor, or None for a cursor that is not ours."""
    try:
        value, memory_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError):
        return None
    if _bindable(memory_id, str) and _bindable(value, (str, int, float)):
        return value, memory_id
    return None


def _bindable(value, kinds):
    """SQLite can take it as a parameter: integers fit 64 bits, numbers are finite, text is
    valid UTF-8 (JSON can spell a lone surrogate, which sqlite3 cannot encode)."""
    if isinstance(value, bool) or not isinstance(value, kinds):
        return False
    if isinstance(value, int):
        return -2**63 <= value < 2**63
    if isinstance(value, float):
        return math.isfinite(value)
    return not _SURROGATE.search(value)


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
    facets, total = cached(rm, ("facets", filters, sort),
                           lambda: facet_counts(rm=rm, filters=filters, sort=sort))
    return Page(items=items, total=total, facets=facets, next_cursor=next_cursor)


def facet_counts(*, rm, filters, sort="newest"):
    """({facet: {value: count}}, total) over the memories matching filters.

    Unfiltered counts come from the summary table. Filtered ones are counted over the
    first FACET_SAMPLE matches in the page's order (all of them when fewer); the total
    is always exact.
    """
    conn = rm.conn
    if not filters.active():
        facets = {c: dict(conn.execute(sql.FACET_TOTALS, (c,)).fetchall()) for c in sql.FACET_COLUMNS}
        facets["tag"] = dict(conn.execute(sql.TAG_TOTALS, (FACET_TAG_LIMIT,)).fetchall())
        return order_facets(facets), sum(facets["type"].values())
    conn.execute(sql.SAMPLE_TABLE)
    conn.execute(sql.SAMPLE_CLEAR)
    conn.execute(*sql.sample_fill(filters, sort, FACET_SAMPLE + 1))
    facets = {c: dict(conn.execute(sql.SAMPLE_FACET.format(column=c)).fetchall()) for c in sql.FACET_COLUMNS}
    facets["tag"] = dict(conn.execute(sql.SAMPLE_TAGS, (FACET_TAG_LIMIT,)).fetchall())
    sampled = sum(facets["type"].values())
    total = sampled if sampled <= FACET_SAMPLE else _exact_total(rm, filters)
    facets = order_facets(facets)
    facets["sampled"] = sampled if sampled > FACET_SAMPLE else None
    return facets, total


def _exact_total(rm, filters):
    """A count from the summary table (or the cached counts) when one value is the whole filter."""
    conn = rm.conn
    if filters == Filters(unresolved=True):
        return graph_counts(rm=rm)["unresolved"]
    single = [(k, v) for k, v in (("type", filters.types), ("tag", filters.tags)) if v]
    others = filters.project is not None or filters.band or filters.month or filters.unresolved
    if len(single) == 1 and len(single[0][1]) == 1 and not others:
        row = conn.execute(sql.FACET_ONE, (single[0][0], single[0][1][0])).fetchone()
        return row[0] if row else 0
    return conn.execute(*sql.count_query(filters)).fetchone()[0]


def popular_tags(*, rm, limit=8):
    """The most used tags, offered on a search page that found nothing."""
    return [tag for tag, _ in rm.conn.execute(sql.TAG_TOTALS, (limit,)).fetchall()]


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
    memory["edit_version"] = memory_version(props)
    memory["context"] = {
        key[len("context_"):]: _context_text(decode_value(value))
        for key, value in sorted(props.items())
        if key.startswith("context_") and decode_value(value) not in (None, "", [], {})
    }
    memory["extra"] = {k: props[k] for k in ("usage_count", "effectiveness", "last_accessed")
                       if props.get(k) is not None}
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


def relationship_ends(*, rm, rel_id):
    """(from_id, to_id) of a relationship, or None."""
    row = rm.conn.execute(sql.EDGE_BY_ID, (rel_id,)).fetchone()
    return (row["from_id"], row["to_id"]) if row else None


def memory_titles(*, rm, ids):
    ids = list(ids)
    if not ids:
        return {}
    rows = rm.conn.execute(sql.MEMORIES_BY_IDS.format(marks=marks(len(ids))), ids).fetchall()
    return {r["id"]: {"title": r["title"], "type": r["type"]} for r in rows}


TAG_ORDERS = {"count": "n DESC, value", "name": "value"}


def tag_index(*, rm, order="count", limit=200, offset=0):
    rows = rm.conn.execute(sql.TAG_INDEX.format(order=TAG_ORDERS[order]), (limit, offset)).fetchall()
    total = rm.conn.execute(sql.TAG_INDEX_COUNT).fetchone()[0]
    return {"tags": [{"tag": r["tag"], "count": r["n"]} for r in rows], "total": total}


def tag_memory_ids(*, rm, tag):
    return [r[0] for r in rm.conn.execute(sql.TAG_MEMORY_IDS, (tag,)).fetchall()]


def graph_counts(*, rm):
    """Memory, relationship and unresolved counts (cached until the read model changes)."""
    return cached(rm, "counts", lambda: _graph_counts(rm))


def _graph_counts(rm):
    row = rm.conn.execute(sql.COUNTS).fetchone()
    problems = sum(n for v, n in rm.conn.execute(sql.FACET_TOTALS, ("type",)).fetchall()
                   if v in UNRESOLVABLE_TYPES)
    return {"memories": row["memories"], "relationships": row["edges"],
            "unresolved": problems - row["resolved"]}


def selection_ids(*, rm, filters, parsed=None):
    """Ids of every memory matched by a search and/or filters (for bulk tagging)."""
    if parsed is not None:
        query, params = search_sql.match_query(search_sql.MATCH_IDS, filters=filters)
        return [r[0] for r in rm.conn.execute(query, [parsed.match, *params]).fetchall()]
    query, params = sql.list_query(filters, "newest", None, -1)
    return [r["id"] for r in rm.conn.execute(query, params).fetchall()]


VERSION_DIGEST = "sha256:"


def memory_version(props):
    """The version an edit is made on: it changes with every write, so an edit made on an
    older one is refused (HTTP 409). It is the properties' updated_at, which every writer of
    the format sets; for a row another writer left without a valid one, a digest of its
    properties."""
    stamp = props.get("updated_at")
    if isinstance(stamp, str) and is_timestamp(stamp):
        return stamp
    digest = hashlib.sha256(json.dumps(props, sort_keys=True).encode()).hexdigest()
    return VERSION_DIGEST + digest


def is_timestamp(text):
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


# Durations, for the sync status page and the graph analytics' freshness ---------------------

def age_text(seconds):
    """A duration as people say it: "40 s", "12 min", "5 h", "3 days"."""
    seconds = max(round(seconds), 0)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"
