"""The canonical store: a memorygraph-format database file, opened with libsql-experimental.

This is the one place that talks to the canonical file. It speaks the server's two tables
(``nodes`` and ``relationships``) and nothing else: it never alters them, never adds
triggers, and keeps write transactions short so the memorygraph server, writing the same
file through its own connection, only ever waits milliseconds (busy timeout on both sides).

libsql-experimental raises bare ``ValueError`` for every SQL error; ``translate_error`` turns
them into the ``StoreError`` family so callers can tell "locked" from "not a database".
What tells the file changed is in store/changes.py, whole-row copies in store/copies.py.
"""
import json
import os
from contextlib import contextmanager

import libsql_experimental as libsql

from ..errors import KBError
from . import schema, sql
from .base import Store
from .changes import ChangeReads
from .copies import WholeRows
from .rows import chunks, marks
from .writers import WriterLock, writer_turn

BUSY_TIMEOUT_MS = 5000


class StoreError(KBError):
    """The canonical file cannot be used; the message says why, for a person."""

    status = 503


class StoreMissing(StoreError):
    pass


class StoreSchemaError(StoreError):
    pass


class StoreBusy(StoreError):
    pass


def is_lock_timeout(exc):
    """SQLite's (stdlib, libsql or Django's wrapper of them) "database is locked" / "busy": a
    write lock held past the busy timeout. The one error worth trying again later."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def translate_error(exc, path):
    """The driver's error ``exc`` on the file at ``path`` as the StoreError it means."""
    text = str(exc)
    if is_lock_timeout(exc):
        return StoreBusy(f"The memory file {path} is busy (another process holds a write lock); try again.")
    if "not a database" in text or "file is encrypted" in text:
        return StoreError(f"{path} is not a SQLite database file (it may be corrupt or of another kind).")
    if "no such table" in text or "no such column" in text:
        return StoreSchemaError(f"{path} does not have the memorygraph tables this site expects: {text}.")
    return StoreError(f"Error reading {path}: {text}")


class CanonicalStore(ChangeReads, WholeRows, Store):
    """One connection to one memorygraph file (the Store protocol, store/base.py). Not
    thread-safe: use one per thread."""

    def __init__(self, path, *, create=False, connection=None, errors=ValueError, writers=None):
        """Open path with libsql-experimental, or wrap an open ``connection`` (a synced
        replica's pyturso connection, whose driver raises ``errors``). ``writers``: the lock
        file by which our processes' write transactions on it take turns (store/writers.py)."""
        self.path = str(path)
        self._errors = errors
        # Change stamps are read for local files only (a synced replica's read model is the
        # sync worker's alone); last_commit is (stamp before, stamp after) of the last
        # transaction this connection committed, when it was the file's only commit between
        # the two, for the read model to claim (take_commit).
        self._stamps = connection is None
        self.last_commit = None
        self._writers = WriterLock(writers) if writers else None
        if connection is not None:
            self.conn = connection
        else:
            if not create and not os.path.exists(self.path):
                raise StoreMissing(f"The memory file {self.path} does not exist. "
                                   "Check KB_MEMORY_DB or the client's path.")
            try:
                self.conn = libsql.connect(self.path)
            except ValueError as exc:
                raise translate_error(exc, self.path) from exc
        try:
            if connection is None:
                # Without a busy timeout set first, opening beside a writer fails with "database is locked".
                self.conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            tables = {row[0] for row in self._fetch(sql.CANONICAL_TABLES)}
            if not tables and create:
                self._create_schema()
                tables = {"nodes", "relationships"}
            self._check_schema(tables)
            self.rel_columns = {row[1] for row in self._fetch("PRAGMA table_info(relationships)")}
        except StoreError:
            self.conn.close()
            raise
        # Three shapes exist in the wild: none, half-migrated (valid_until, invalidated_by), full.
        self.temporal = {"valid_from", "recorded_at"} <= self.rel_columns
        self.has_valid_until = "valid_until" in self.rel_columns

    def _create_schema(self):
        try:
            self.conn.executescript(schema.CANONICAL_SCHEMA)
            self.conn.commit()
        except self._errors as exc:
            raise translate_error(exc, self.path) from exc

    def _check_schema(self, tables):
        if {"nodes", "relationships"} <= tables:
            columns = {row[1] for row in self._fetch("PRAGMA table_info(nodes)")}
            if {"id", "label", "properties", "created_at", "updated_at"} <= columns:
                return
            raise StoreSchemaError(
                f"{self.path} has a `nodes` table with columns {', '.join(sorted(columns))}, "
                "not memorygraph's (id, label, properties, created_at, updated_at)."
            )
        found = ", ".join(sorted(tables)) or "no tables at all"
        hint = ""
        if "memories" in tables:
            hint = " A `memories` table is the schema of memorygraph 0.13+ or of the old typed Turso backend."
        raise StoreSchemaError(
            f"{self.path} is not a memorygraph (0.5-0.12) memory file: found {found}; "
            f"expected the tables `nodes` and `relationships`.{hint}"
        )

    def close(self):
        self.conn.close()
        if self._writers is not None:
            self._writers.close()

    @contextmanager
    def _translated(self):
        """The driver's errors raised inside, as the StoreError family."""
        try:
            yield
        except self._errors as exc:
            raise translate_error(exc, self.path) from exc

    def _fetch(self, query, params=()):
        with self._translated():
            return self.conn.execute(query, tuple(params)).fetchall()

    # Reads ---------------------------------------------------------------------------

    def count_nodes(self):
        return self._fetch(sql.NODE_COUNT)[0][0]

    def count_edges(self):
        return self._fetch(sql.EDGE_COUNT)[0][0]

    def iter_nodes(self, ids=None):
        """Yield (id, properties dict, version) for all memories, or the given ids."""
        yield from self._iter(sql.NODES_ALL, sql.NODES_BY_IDS, ids, self._node_row)

    def iter_edges(self, ids=None):
        """Yield edge dicts (id, from_id, to_id, rel_type, properties, created_at, valid_until, version)."""
        all_q, by_ids = (sql.EDGES_ALL_TEMPORAL, sql.EDGES_BY_IDS_TEMPORAL) if self.has_valid_until else (
            sql.EDGES_ALL, sql.EDGES_BY_IDS)
        yield from self._iter(all_q, by_ids, ids, self._edge_row)

    def _iter(self, all_query, ids_query, ids, make, batch=2000):
        """Rows of all_query paged by rowid, ``batch`` a page, or of ids_query for the ids."""
        if ids is None:
            last = 0
            while True:
                rows = self._fetch(all_query, (last, batch))
                for row in rows:
                    yield make(row[:-1])  # the last column is the rowid we page by
                if len(rows) < batch:
                    return
                last = rows[-1][-1]
        for chunk in chunks(ids, 500):
            for row in self._fetch(ids_query.format(marks=marks(len(chunk))), chunk):
                yield make(row)

    @staticmethod
    def _node_row(row):
        node_id, properties, version = row
        try:
            props = json.loads(properties)
        except (ValueError, RecursionError):  # another writer's file may hold anything
            props = None
        if not isinstance(props, dict):
            props = {"id": node_id, "_invalid": "properties are not a JSON object"}
        return node_id, props, version

    @staticmethod
    def _edge_row(row):
        edge_id, from_id, to_id, rel_type, properties, created_at, valid_until, version = row
        try:
            props = json.loads(properties or "{}")
        except (ValueError, RecursionError):
            props = {}
        return {
            "id": edge_id, "from_id": from_id, "to_id": to_id, "rel_type": rel_type, "raw": properties,
            "props": props if isinstance(props, dict) else {}, "created_at": created_at,
            "valid_until": valid_until, "version": version,
        }

    def node(self, memory_id):
        rows = self._fetch(sql.NODE_GET, (memory_id,))
        return json.loads(rows[0][0]) if rows else None

    def edge_exists(self, from_id, to_id, rel_type):
        return bool(self._fetch(sql.EDGE_EXISTS, (from_id, to_id, rel_type)))

    def closes_cycle(self, from_id, to_id, rel_type):
        """Would from_id -> to_id close a directed cycle among edges of rel_type?"""
        return bool(self._fetch(sql.EDGE_REACHES, (to_id, rel_type, from_id)))

    # Writes: call inside ``with store.transaction():`` --------------------------------

    @contextmanager
    def transaction(self):
        """A short IMMEDIATE transaction: takes the write lock up front or waits busy_timeout.

        With ``writers``, our processes' transactions on this file also take turns from before
        BEGIN to after the stamp read that follows COMMIT, so none of ours can commit between
        our commit and that read: then only another program's commit can spoil a claim. The
        turn leaves the claim in the lock file, for probes to wait for our read-model update."""
        self.last_commit = None
        with writer_turn(self._writers, self.path) as turn:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except self._errors as exc:
                raise translate_error(exc, self.path) from exc
            try:
                # Under the write lock no one else commits until ours: the state our write starts from.
                began = (self.change_stamp(), self.data_version()) if self._stamps else None
                yield self
            except BaseException:
                self.conn.rollback()
                raise
            try:
                self.conn.commit()
            except self._errors as exc:
                self.conn.rollback()
                raise translate_error(exc, self.path) from exc
            if began and began[0]:
                self.last_commit = turn["commit"] = self._after(*began)

    def _write(self, query, params):
        with self._translated():
            return self.conn.execute(query, params)

    def insert_node(self, props):
        self._write(sql.NODE_INSERT, (props["id"], json.dumps(props)))

    def insert_nodes_at(self, rows):
        """Bulk insert of (props, 'YYYY-MM-DD HH:MM:SS' creation time) pairs."""
        self._write_many(sql.NODE_INSERT_AT, [(p["id"], json.dumps(p), at, at) for p, at in rows])

    def update_node(self, props):
        self._write(sql.NODE_UPDATE, (json.dumps(props), props["id"]))

    def delete_node(self, memory_id):
        self._write(sql.NODE_EDGES_DELETE, (memory_id, memory_id))
        self._write(sql.NODE_DELETE, (memory_id,))

    def insert_edge(self, *, rel_id, from_id, to_id, rel_type, props):
        if self.temporal:
            self._write(sql.EDGE_INSERT_TEMPORAL, (
                rel_id, from_id, to_id, rel_type, json.dumps(props),
                props["valid_from"], props["recorded_at"]))
        else:
            self._write(sql.EDGE_INSERT, (rel_id, from_id, to_id, rel_type, json.dumps(props)))

    def delete_edge(self, rel_id):
        self._write(sql.EDGE_DELETE, (rel_id,))

    def _write_many(self, query, params):
        with self._translated():
            self.conn.executemany(query, params)

