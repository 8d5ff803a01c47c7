"""Reads of the editor's helpers, over the read model (parameterised SQL, user text bound)."""
from .. import selectors

# facet_count's primary key starts (facet, value): a prefix is a range over it, no scan.
TAG_PREFIX = ("SELECT value, n FROM facet_count WHERE facet = 'tag' AND value >= ? AND value < ? "
              "ORDER BY n DESC, value LIMIT ?")
TAG_TOP = "SELECT value, n FROM facet_count WHERE facet = 'tag' ORDER BY n DESC, value LIMIT ?"
EDGE = "SELECT id, from_id, to_id, rel_type, context, current FROM edge WHERE id = ?"


def tag_suggestions(*, rm, prefix, limit=20):
    """Tags starting with `prefix` (lowercase, as tags are stored), most used first."""
    prefix = prefix.strip().lower()
    if not prefix:
        rows = rm.conn.execute(TAG_TOP, (limit,)).fetchall()
    else:
        rows = rm.conn.execute(TAG_PREFIX, (prefix, prefix + "\U0010ffff", limit)).fetchall()
    return [{"tag": r["value"], "count": r["n"]} for r in rows]


def relationship_summary(*, rm, rel_id):
    """A relationship with the titles of its ends, for the page that confirms its removal; or None."""
    row = rm.conn.execute(EDGE, (rel_id,)).fetchone()
    if row is None:
        return None
    titles = selectors.memory_titles(rm=rm, ids=[row["from_id"], row["to_id"]])
    missing = {"title": "(a memory not in this database)", "type": "general"}
    return {"id": row["id"], "rel_type": row["rel_type"], "context": row["context"],
            "current": bool(row["current"]),
            "from_id": row["from_id"], "to_id": row["to_id"],
            "from": titles.get(row["from_id"], missing), "to": titles.get(row["to_id"], missing)}
