"""Reads of the editor's helpers, over the read model (parameterised SQL, user text bound)."""
from .. import selectors, sql


def tag_suggestions(*, rm, prefix, limit=20):
    """Tags starting with `prefix` (lowercase, as tags are stored), most used first."""
    prefix = prefix.strip().lower()
    if not prefix:
        rows = rm.conn.execute(sql.TAG_TOTALS, (limit,)).fetchall()
    else:
        rows = rm.conn.execute(sql.TAG_PREFIX, (prefix, prefix + "\U0010ffff", limit)).fetchall()
    return [{"tag": r["value"], "count": r["n"]} for r in rows]


def relationship_summary(*, rm, rel_id):
    """A relationship with the titles of its ends, for the page that confirms its removal; or None."""
    row = rm.conn.execute(sql.EDGE_SUMMARY, (rel_id,)).fetchone()
    if row is None:
        return None
    titles = selectors.memory_titles(rm=rm, ids=[row["from_id"], row["to_id"]])
    missing = {"title": "(a memory not in this database)", "type": "general"}
    return {"id": row["id"], "rel_type": row["rel_type"], "context": row["context"],
            "current": bool(row["current"]),
            "from_id": row["from_id"], "to_id": row["to_id"],
            "from": titles.get(row["from_id"], missing), "to": titles.get(row["to_id"], missing)}
