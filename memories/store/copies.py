"""Whole rows, copied verbatim between memorygraph files and client databases (imports, the
bridge, export files): ``NodeRow`` / ``EdgeRow``, the columns as stored, and the canonical
store's reads and writes of them.

``WholeRows`` is part of ``CanonicalStore`` (store/canonical.py), which provides ``_fetch``,
``_write``, ``_write_many``, ``_translated``, ``temporal`` and ``has_valid_until``.
"""
from typing import NamedTuple

from . import sql
from .rows import chunks, marks


class NodeRow(NamedTuple):
    id: str
    properties: str
    created_at: str
    updated_at: str


class EdgeRow(NamedTuple):
    id: str
    from_id: str
    to_id: str
    rel_type: str
    properties: str
    created_at: str
    valid_from: str = None
    valid_until: str = None
    recorded_at: str = None
    invalidated_by: str = None


class WholeRows:
    """The canonical store's whole-row reads and writes (a mixin of CanonicalStore)."""

    # Export files: a new file with the full temporal schema, filled with rows as stored --

    def copy_nodes(self, rows):
        """Insert (id, properties text, created_at, updated_at) rows, the text kept byte for byte."""
        self._write_many(sql.NODE_INSERT_AT, list(rows))

    def copy_edges(self, rows):
        """Insert (id, from_id, to_id, rel_type, properties text, created_at, valid_from,
        valid_until, recorded_at, invalidated_by) rows into a temporal table."""
        self._write_many(sql.EDGE_INSERT_ROW_TEMPORAL, list(rows))

    def drop_dangling_invalidations(self):
        """Clear ``invalidated_by`` columns that name an edge the file does not hold."""
        self._write(sql.EXPORT_DANGLING_INVALIDATIONS, ())

    # Whole rows (imports, the bridge): copied verbatim, upserted by id ------------------

    def node_rows(self, ids):
        """{id: NodeRow} for the given ids, columns as stored."""
        found = {}
        for chunk in chunks(ids, 500):
            for row in self._fetch(sql.NODE_ROWS_BY_IDS.format(marks=marks(len(chunk))), chunk):
                found[row[0]] = NodeRow(*row)
        return found

    def edge_rows(self, ids):
        """{id: EdgeRow} for the given ids; columns this file's shape lacks are None."""
        found = {}
        for chunk in chunks(ids, 500):
            with self._translated():
                cursor = self.conn.execute(sql.EDGE_ROWS_BY_IDS.format(marks=marks(len(chunk))), tuple(chunk))
            names = [d[0] for d in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(names, values))
                found[row["id"]] = EdgeRow(**{f: row.get(f) for f in EdgeRow._fields})
        return found

    def put_node_rows(self, rows):
        """Insert or replace memory rows as given (inside a transaction)."""
        self._write_many(sql.NODE_UPSERT_ROW,
                         [(r.id, r.properties, r.created_at, r.updated_at) for r in rows])

    def put_edge_rows(self, rows):
        """Insert or replace relationship rows, in this file's shape (inside a transaction)."""
        if self.temporal:
            self._write_many(sql.EDGE_UPSERT_ROW_TEMPORAL, [(
                r.id, r.from_id, r.to_id, r.rel_type, r.properties, r.created_at,
                r.valid_from or r.created_at, r.valid_until, r.recorded_at or r.created_at,
                r.invalidated_by) for r in rows])
        elif self.has_valid_until:
            self._write_many(sql.EDGE_UPSERT_ROW_HALF, [(
                r.id, r.from_id, r.to_id, r.rel_type, r.properties, r.created_at,
                r.valid_until, r.invalidated_by) for r in rows])
        else:
            self._write_many(sql.EDGE_UPSERT_ROW, [
                (r.id, r.from_id, r.to_id, r.rel_type, r.properties, r.created_at) for r in rows])
