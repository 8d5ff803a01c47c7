"""Reads for downloads: which memories an export holds, then their rows a chunk at a time.

An export may hold 100,000 memories and is streamed after the view has returned, so its
rows are read through a connection of its own inside one read transaction (``snapshot``):
the counts at the top of a file agree with the rows below them even when the read model
changes meanwhile, and the thread's shared connection is never left mid-statement.
"""
import json
from contextlib import contextmanager

from ...search.query import parse_query
from ...selectors import selection_ids
from ...store.readmodel import connect
from ...store.rows import chunks
from .. import sql

CHUNK = 500


@contextmanager
def snapshot(*, rm):
    """A private connection to rm's file that sees one state of it until closed."""
    conn = connect(rm.path)
    try:
        conn.execute("BEGIN")
        conn.execute(sql.SNAPSHOT_START).fetchone()
        yield conn
    finally:
        conn.close()


def export_ids_all(*, rm):
    """Every memory of the client database, in file order."""
    return [row[0] for row in rm.conn.execute(sql.EXPORT_ALL_IDS)]


def export_ids_search(*, rm, filters, q):
    """Every memory a search matches (all of them, not one page); without text, the filtered list.

    Text with nothing searchable in it matches nothing, as on the search page.
    """
    text = q.strip()
    parsed = parse_query(text) if text else None
    if text and parsed is None:
        return []
    return list(dict.fromkeys(selection_ids(rm=rm, filters=filters, parsed=parsed)))


def row_props(row):
    """A memory's or edge's ``props`` as a dict; {} when they are not a JSON object."""
    try:
        value = json.loads(row["props"] or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def export_memory_batches(*, conn, ids):
    """Read-model memory rows of ids, one list per chunk."""
    for chunk in chunks(ids, CHUNK):
        yield conn.execute(sql.EXPORT_MEMORIES, (json.dumps(chunk),)).fetchall()


def export_titles(*, conn, ids):
    """{id: title} for the ids that exist in this snapshot, in the order of ids (a memory
    deleted since the selection was made drops out)."""
    titles = {}
    for chunk in chunks(ids, CHUNK):
        titles.update(conn.execute(sql.EXPORT_TITLES, (json.dumps(chunk),)).fetchall())
    return {memory_id: titles[memory_id] for memory_id in ids if memory_id in titles}


def export_edge_batches(*, conn, ids):
    """Edges with both ends among ids, each once (read from its `from` end), one list per chunk.

    All edges leaving one memory land in the same list, so duplicates can be told apart per list.
    """
    members = set(ids)
    for chunk in chunks(ids, CHUNK):
        rows = conn.execute(sql.EXPORT_EDGES_FROM, (json.dumps(chunk),)).fetchall()
        yield [row for row in rows if row["to_id"] in members]


def export_edges_touching(*, conn, ids, members):
    """{memory id: [(direction "out"|"in", edge row)]} for ids, keeping edges whose other end
    is in members."""
    found = {}
    chunk = json.dumps(list(ids))
    for direction, query, own, other in (("out", sql.EXPORT_EDGES_FROM, "from_id", "to_id"),
                                         ("in", sql.EXPORT_EDGES_TO, "to_id", "from_id")):
        for row in conn.execute(query, (chunk,)):
            if row[other] in members:
                found.setdefault(row[own], []).append((direction, row))
    return found
