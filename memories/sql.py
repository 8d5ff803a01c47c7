"""The SQL of the app's pages over the read model: listing, facets, tags, a memory's page,
and the Django-table reads every request under /c/<client>/ makes.

Run by memories/selectors.py, memories/access.py and editor/selectors.py. The search backend and
the agents' APIs filter and sample the same way, so they use filter_clause and the sample
statements from here. Every statement is parameterised.
"""

# sort key -> (ORDER BY column, direction); ties broken by id in the same direction.
SORTS = {
    "newest": ("created_at", "DESC"),
    "oldest": ("created_at", "ASC"),
    "updated": ("updated_at", "DESC"),
    "importance": ("importance", "DESC"),
    "title": ("title COLLATE NOCASE", "ASC"),
}
_SORT_VALUE = {"created_at": "created_at", "updated_at": "updated_at", "importance": "importance",
               "title COLLATE NOCASE": "title"}

UNRESOLVED = (
    "m.type IN ('problem', 'error') AND NOT EXISTS (SELECT 1 FROM edge e WHERE e.to_id = m.id "
    "AND e.rel_type IN ('SOLVES', 'ADDRESSES') AND e.current = 1)"
)


def filter_clause(filters, alias="m", *, skip_tag=None):
    """WHERE conditions and parameters for a Filters object (see selectors.Filters)."""
    where, params = [], []
    if filters.types:
        where.append(f"{alias}.type IN ({','.join('?' * len(filters.types))})")
        params += filters.types
    for column, value in (("project", filters.project), ("band", filters.band), ("month", filters.month)):
        if value is not None:
            where.append(f"{alias}.{column} = ?")
            params.append(value)
    for tag in filters.tags:
        if tag != skip_tag:
            where.append(f"EXISTS (SELECT 1 FROM memory_tag x WHERE x.tag = ? AND x.memory_id = {alias}.id)")
            params.append(tag)
    if filters.unresolved:
        where.append(UNRESOLVED.replace("m.", f"{alias}."))
    return where, params


def list_query(filters, sort, cursor, limit):
    """A keyset-paginated page of memories. cursor is (sort value, id) of the last row shown.

    With a tag filter and a date sort, the walk is driven by the tag link table's primary
    key (tag, created_at, memory_id): a page costs a few index steps however common the tag.
    """
    column, direction = SORTS[sort]
    op = "<" if direction == "DESC" else ">"
    if filters.tags and column == "created_at":
        tag = filters.tags[0]
        where, params = filter_clause(filters, skip_tag=tag)
        where.insert(0, "t.tag = ?")
        params.insert(0, tag)
        if cursor is not None:
            where.append(f"(t.created_at, t.memory_id) {op} (?, ?)")
            params += list(cursor)
        return (
            f"SELECT m.* FROM memory_tag t JOIN memory m ON m.id = t.memory_id WHERE {' AND '.join(where)} "
            f"ORDER BY t.created_at {direction}, t.memory_id {direction} LIMIT ?",
            params + [limit],
        )
    where, params = filter_clause(filters)
    if cursor is not None:
        where.append(f"(m.{column}, m.id) {op} (?, ?)")
        params += list(cursor)
    clause = " AND ".join(where) or "1"
    order = f"m.{column} {direction}, m.id {direction}"
    return f"SELECT m.* FROM memory m WHERE {clause} ORDER BY {order} LIMIT ?", params + [limit]


def sort_value(sort, row):
    return row[_SORT_VALUE[SORTS[sort][0]]]


FACET_COLUMNS = ("type", "project", "band", "month")

# Facet counts over a filtered selection are taken from its first FACET_SAMPLE rows (exact
# whenever the selection is smaller): counting tags over 40,000 matches costs 250 ms.
SAMPLE_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS sample (rid INTEGER PRIMARY KEY, id TEXT, type TEXT, project TEXT, "
    "band TEXT, month TEXT)"
)
SAMPLE_CLEAR = "DELETE FROM temp.sample"


def sample_fill(filters, sort, limit):
    query, params = list_query(filters, sort, None, limit)
    select = query.replace("SELECT m.*", "SELECT m.rid, m.id, m.type, m.project, m.band, m.month", 1)
    return f"INSERT OR IGNORE INTO temp.sample {select}", params


SAMPLE_FACET = "SELECT {column} AS value, count(*) AS n FROM temp.sample GROUP BY 1"
SAMPLE_TAGS = (
    # CROSS JOIN keeps the sample as the outer loop; otherwise SQLite scans the whole tag table.
    "SELECT t.tag AS value, count(*) AS n FROM temp.sample s CROSS JOIN memory_tag t ON t.memory_id = s.id "
    "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?"
)


def count_query(filters):
    where, params = filter_clause(filters)
    return f"SELECT count(*) FROM memory m WHERE {' AND '.join(where) or '1'}", params


FACET_ONE = "SELECT n FROM facet_count WHERE facet = ? AND value = ?"
FACET_TOTALS = "SELECT value, n FROM facet_count WHERE facet = ?"
TAG_TOTALS = "SELECT value, n FROM facet_count WHERE facet = 'tag' ORDER BY n DESC, value LIMIT ?"
# facet_count's primary key starts (facet, value): a prefix is a range over it, no scan (the
# editor's tag suggestions).
TAG_PREFIX = ("SELECT value, n FROM facet_count WHERE facet = 'tag' AND value >= ? AND value < ? "
              "ORDER BY n DESC, value LIMIT ?")
TAG_INDEX = "SELECT value AS tag, n FROM facet_count WHERE facet = 'tag' ORDER BY {order} LIMIT ? OFFSET ?"
TAG_INDEX_COUNT = "SELECT count(*) FROM facet_count WHERE facet = 'tag'"
TAG_MEMORY_IDS = "SELECT memory_id FROM memory_tag WHERE tag = ?"

MEMORY_BY_ID = "SELECT * FROM memory WHERE id = ?"
MEMORIES_BY_IDS = "SELECT id, title, type FROM memory WHERE id IN ({marks})"
EDGES_OUT = (
    "SELECT e.*, m.title AS other_title, m.type AS other_type FROM edge e "
    "LEFT JOIN memory m ON m.id = e.to_id WHERE e.from_id = ? ORDER BY e.rel_type, m.title"
)
EDGES_IN = (
    "SELECT e.*, m.title AS other_title, m.type AS other_type FROM edge e "
    "LEFT JOIN memory m ON m.id = e.from_id WHERE e.to_id = ? ORDER BY e.rel_type, m.title"
)
EDGE_BY_ID = "SELECT * FROM edge WHERE id = ?"
# The relationship the editor's removal page confirms.
EDGE_SUMMARY = "SELECT id, from_id, to_id, rel_type, context, current FROM edge WHERE id = ?"
COUNTS = (
    "SELECT (SELECT coalesce(sum(n), 0) FROM facet_count WHERE facet = 'type') AS memories, "
    "(SELECT coalesce(sum(n), 0) FROM facet_count WHERE facet = 'edge') AS edges, "
    "(SELECT coalesce(sum(n), 0) FROM facet_count WHERE facet = 'resolved') AS resolved"
)
# resolved: problems and errors with a current SOLVES or ADDRESSES edge, kept by triggers
# (store/schema.py); counted anew it took 90-180 ms at 100,000 memories, on the first page after
# every write.


# Django's tables ----------------------------------------------------------------------

# A member's client database (not archived) with the member's role, for every request under
# /c/<client>/ (memories/access.py). The ORM's select_related form of it cost 0.6 ms a request
# to compile and run, this 0.1 ms (issue 13: a first search's way through Django). Bind the slug
# and the user's id.
MEMBER_CLIENT = ("SELECT c.*, m.role AS member_role FROM memories_clientdatabase c "
                 "JOIN memories_membership m ON m.client_id = c.id "
                 "WHERE c.slug = %s AND NOT c.archived AND m.user_id = %s")
# The header's switcher: the client databases a user may open (not archived), by name, at most
# a bound number; (slug, name) only. The ORM's queryset of it (visible_clients) cost 0.8 ms a
# page to build and run, this 0.04 ms (issue 11: graph pages at 100,000 memories). Bind the
# user's id (members) and the bound.
SWITCHER_MEMBER = ("SELECT c.slug, c.name FROM memories_clientdatabase c "
                   "JOIN memories_membership m ON m.client_id = c.id "
                   "WHERE NOT c.archived AND m.user_id = %s ORDER BY c.name LIMIT %s")
SWITCHER_ALL = "SELECT slug, name FROM memories_clientdatabase WHERE NOT archived ORDER BY name LIMIT %s"
