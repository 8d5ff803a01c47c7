"""The canonical store: a memorygraph-format database file, opened with libsql-experimental.

This is the one place that talks to the canonical file. It speaks the server's two tables
(``nodes`` and ``relationships``) and nothing else: it never alters them, never adds
triggers, and keeps write transactions short so the memorygraph server, writing the same
file through its own connection, only ever waits milliseconds (busy timeout on both sides).

libsql-experimental raises bare ``ValueError`` for every SQL error; ``_translate`` turns
them into the ``StoreError`` family so callers can tell "locked" from "not a database".
"""
import json
import os
from contextlib import contextmanager
from typing import NamedTuple

import libsql_experimental as libsql

from . import sql
from .writers import WriterLock, writer_turn

BUSY_TIMEOUT_MS = 5000


class StoreError(Exception):
    """The canonical file cannot be used; the message says why, for a person."""


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


def _translate(exc, path):
    text = str(exc)
    if is_lock_timeout(exc):
        return StoreBusy(f"The memory file {path} is busy (another process holds a write lock); try again.")
    if "not a database" in text or "file is encrypted" in text:
        return StoreError(f"{path} is not a SQLite database file (it may be corrupt or of another kind).")
    if "no such table" in text or "no such column" in text:
        return StoreSchemaError(f"{path} does not have the memorygraph tables this site expects: {text}.")
    return StoreError(f"Error reading {path}: {text}")


class RowDeletes:
    """Deletes by id in bulk, for stores that delete one row at a time."""

    def delete_nodes(self, ids):
        for memory_id in ids:
            self.delete_node(memory_id)

    def delete_edges(self, ids):
        for rel_id in ids:
            self.delete_edge(rel_id)


class CanonicalStore(RowDeletes):
    """One connection to one memorygraph file. Not thread-safe: use one per thread."""

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
                raise _translate(exc, self.path) from exc
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
            self.conn.executescript(sql.CANONICAL_SCHEMA)
            self.conn.commit()
        except self._errors as exc:
            raise _translate(exc, self.path) from exc

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

    def _fetch(self, query, params=()):
        try:
            return self.conn.execute(query, tuple(params)).fetchall()
        except self._errors as exc:
            raise _translate(exc, self.path) from exc

    # Reads ---------------------------------------------------------------------------

    def data_version(self):
        """Changes whenever another connection commits to the file (PRAGMA data_version)."""
        return self._fetch("PRAGMA data_version")[0][0]

    def change_stamp(self):
        """The file's state as its SQLite header records it, "<inode>:<change counter>": every
        commit that changes the file moves it in the rollback-journal mode memorygraph and
        libsql leave the file in. None for a WAL file (the counter stays put there) or a replica.

        Read through the pager (sqlite_dbpage), never by opening the file: closing another
        descriptor of it would drop this process's SQLite locks (POSIX locks are per process).
        As one statement it reads a committed state; in ``snapshot()`` the snapshot's."""
        if not self._stamps:
            return None
        try:
            write_version, counter = self.conn.execute(sql.FILE_HEADER).fetchall()[0]
            inode = os.stat(self.path).st_ino
        except (self._errors, OSError, IndexError):
            return None
        return None if write_version == "02" else f"{inode}:{int(counter, 16)}"

    @contextmanager
    def snapshot(self):
        """Reads as of one commit: a read transaction, whose shared lock makes writers wait
        (their busy timeout) to commit until it ends, so keep it short."""
        try:
            self.conn.execute("BEGIN")
        except self._errors as exc:
            raise _translate(exc, self.path) from exc
        try:
            yield self
        finally:
            self.conn.rollback()

    def pending_commits(self):
        """Our writers' commit in progress and recent commits (store/writers.py), or nothing."""
        return self._writers.pending() if self._writers is not None else (False, {})

    def forget_commit(self, commit):
        """Our commit ``(stamp before, stamp after)`` will get no read-model update (store/writers.py)."""
        if self._writers is not None and commit:
            self._writers.forget(commit)

    def take_commit(self):
        """``(stamp before, stamp after)`` of the last transaction committed through this
        connection if it was the only commit between them, once (None after that, or else)."""
        commit, self.last_commit = self.last_commit, None
        return commit

    def count_nodes(self):
        return self._fetch(sql.NODE_COUNT)[0][0]

    def node_versions(self):
        """{memory id: version} where version changes on every write the server makes."""
        return dict(self._fetch(sql.NODE_VERSIONS))

    def edge_versions(self):
        query = sql.EDGE_VERSIONS_TEMPORAL if self.has_valid_until else sql.EDGE_VERSIONS
        return dict(self._fetch(query))

    def iter_versions(self, *, edges=False, batch=5000, paged=False):
        """Stream (id, version) of every memory, or with ``edges`` of every relationship, as
        ``node_versions`` / ``edge_versions`` give them: 400,000 pairs of a 100,000-memory file
        took 120 MB more as dicts. One statement, so one committed state; ``paged``: one
        statement per ``batch`` rowids, each a short read that writers can commit between
        (a row's rowid never moves back, so every row that stays is seen)."""
        if paged:
            query = sql.NODE_VERSIONS_PAGE
            if edges:
                query = sql.EDGE_VERSIONS_PAGE_TEMPORAL if self.has_valid_until else sql.EDGE_VERSIONS_PAGE
            last = 0
            while rows := self._fetch(query, (last, batch)):
                yield from (row[:2] for row in rows)
                last = rows[-1][2]
            return
        query = sql.NODE_VERSIONS
        if edges:
            query = sql.EDGE_VERSIONS_TEMPORAL if self.has_valid_until else sql.EDGE_VERSIONS
        try:
            cursor = self.conn.execute(query)
            while rows := cursor.fetchmany(batch):
                yield from rows
        except self._errors as exc:
            raise _translate(exc, self.path) from exc

    def iter_nodes(self, ids=None, batch=2000):
        """Yield (id, properties dict, version) for all memories, or the given ids."""
        yield from self._iter(sql.NODES_ALL, sql.NODES_BY_IDS, ids, batch, self._node_row)

    def iter_edges(self, ids=None, batch=2000):
        """Yield edge dicts (id, from_id, to_id, rel_type, properties, created_at, valid_until, version)."""
        all_q, by_ids = (sql.EDGES_ALL_TEMPORAL, sql.EDGES_BY_IDS_TEMPORAL) if self.has_valid_until else (
            sql.EDGES_ALL, sql.EDGES_BY_IDS)
        yield from self._iter(all_q, by_ids, ids, batch, self._edge_row)

    def _iter(self, all_query, ids_query, ids, batch, make):
        if ids is None:
            last = 0
            while True:
                rows = self._fetch(all_query, (last, batch))
                for row in rows:
                    yield make(row[:-1])  # the last column is the rowid we page by
                if len(rows) < batch:
                    return
                last = rows[-1][-1]
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._fetch(ids_query.format(marks=marks), chunk):
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
                raise _translate(exc, self.path) from exc
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
                raise _translate(exc, self.path) from exc
            if began and began[0]:
                self.last_commit = turn["commit"] = self._after(*began)

    def _after(self, stamp, version):
        """(stamp before, stamp after) when data_version did not move since BEGIN (no other
        connection committed: the file is the state before plus our write), else None."""
        with self.snapshot():
            after, moved = self.change_stamp(), self.data_version() != version
        return None if moved or not after else (stamp, after)

    def _write(self, query, params):
        try:
            return self.conn.execute(query, params)
        except self._errors as exc:
            raise _translate(exc, self.path) from exc

    def insert_node(self, props):
        self._write(sql.NODE_INSERT, (props["id"], json.dumps(props)))

    def insert_nodes_at(self, rows):
        """Bulk insert of (props, 'YYYY-MM-DD HH:MM:SS' creation time) pairs."""
        try:
            self.conn.executemany(sql.NODE_INSERT_AT, [(p["id"], json.dumps(p), at, at) for p, at in rows])
        except self._errors as exc:
            raise _translate(exc, self.path) from exc

    def update_node(self, props):
        self._write(sql.NODE_UPDATE, (json.dumps(props), props["id"]))

    def delete_node(self, memory_id):
        self._write(sql.NODE_EDGES_DELETE, (memory_id, memory_id))
        self._write(sql.NODE_DELETE, (memory_id,))

    def insert_edge(self, *, rel_id, from_id, to_id, rel_type, props):
        if self.temporal:
            self._write(sql.EDGE_INSERT_TEMPORAL, (
                rel_id, from_id, to_id, rel_type, json.dumps(props), props["valid_from"], props["recorded_at"]))
        else:
            self._write(sql.EDGE_INSERT, (rel_id, from_id, to_id, rel_type, json.dumps(props)))

    def delete_edge(self, rel_id):
        self._write(sql.EDGE_DELETE, (rel_id,))

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
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            for row in self._fetch(sql.NODE_ROWS_BY_IDS.format(marks=marks), chunk):
                found[row[0]] = NodeRow(*row)
        return found

    def edge_rows(self, ids):
        """{id: EdgeRow} for the given ids; columns this file's shape lacks are None."""
        found = {}
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            try:
                cursor = self.conn.execute(sql.EDGE_ROWS_BY_IDS.format(marks=marks), tuple(chunk))
            except self._errors as exc:
                raise _translate(exc, self.path) from exc
            names = [d[0] for d in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(names, values))
                found[row["id"]] = EdgeRow(**{f: row.get(f) for f in EdgeRow._fields})
        return found

    def put_node_rows(self, rows):
        """Insert or replace memory rows as given (inside a transaction)."""
        self._write_many(sql.NODE_UPSERT_ROW, [(r.id, r.properties, r.created_at, r.updated_at) for r in rows])

    def put_edge_rows(self, rows):
        """Insert or replace relationship rows, in this file's shape (inside a transaction)."""
        if self.temporal:
            self._write_many(sql.EDGE_UPSERT_ROW_TEMPORAL, [(
                r.id, r.from_id, r.to_id, r.rel_type, r.properties, r.created_at, r.valid_from or r.created_at,
                r.valid_until, r.recorded_at or r.created_at, r.invalidated_by) for r in rows])
        elif self.has_valid_until:
            self._write_many(sql.EDGE_UPSERT_ROW_HALF, [(
                r.id, r.from_id, r.to_id, r.rel_type, r.properties, r.created_at, r.valid_until, r.invalidated_by)
                for r in rows])
        else:
            self._write_many(sql.EDGE_UPSERT_ROW, [
                (r.id, r.from_id, r.to_id, r.rel_type, r.properties, r.created_at) for r in rows])

    def _write_many(self, query, params):
        try:
            self.conn.executemany(query, params)
        except self._errors as exc:
            raise _translate(exc, self.path) from exc


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


def _chunks(ids, size=500):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
