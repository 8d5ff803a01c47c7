"""The import's writer process: writes planned rows into a memorygraph file with stdlib sqlite3.

Runs in a fresh interpreter of its own (``python -m memories.interchange.writer``, started by
``bulk.py``), so libsql is never imported in it: POSIX locks are per process, and stdlib
sqlite3 writing a file that libsql has open in the same process would not see libsql's
locks (drivers.md). This module
imports nothing but the standard library and the SQL modules (``memories.interchange.sql``,
``memories.store.sql``); keep it that way.

The rules for writing the file are the canonical store's (connector.py): the file's own
schema and journal mode untouched, its busy timeout, foreign keys on (libsql's default, so
a relationship whose memory another writer deleted meanwhile is refused), upserts by id, and
one short IMMEDIATE transaction per chunk of rows received, so the memorygraph server waits
at most one chunk. Each chunk is acknowledged after its commit with what the read model
needs from the file besides the rows it sent (versions are SQL expressions over the stored
row, and an upsert keeps a relationship's created_at), read back inside the chunk's
transaction: (id, version) of memories, (id, version, created_at) of relationships.

Messages in: ``(step, rows)`` with step one of STEPS, then ``("end", None)``. Out:
``("ready", info)``, ``("done", step, count, readback)`` per chunk, then ``("finished", info)``,
or ``("error", text)`` after a failed chunk (rolled back whole; nothing more is written).
"""
import os
import resource
import sqlite3
import sys
import time

from memories.interchange import sql
from memories.store import sql as store_sql
from memories.store.rows import chunks, marks

BUSY_TIMEOUT_S = 5.0  # connector.BUSY_TIMEOUT_MS
READBACK_IDS = 500  # ids per SELECT ... IN (...) when reading a chunk back
MMAP_BYTES = 1 << 30  # address space, not memory: the OS's page cache holds the pages either way
STEPS = ("delete_edges", "delete_nodes", "put_nodes", "put_edges")


class Writer:
    """One stdlib connection to the file, in autocommit mode with explicit transactions."""

    def __init__(self, path):
        self.conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        self.conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        # Pages read through a memory map, not a read() each into SQLite's 2 MB cache: the
        # relationships' indexes are read at random (uuids). Writes still go through the journal.
        # 300,000 relationships into a file of 100,000 memories: 33.3 -> 29.1 s of CPU.
        self.conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        columns = {row[1] for row in self.conn.execute("PRAGMA table_info(relationships)")}
        self.temporal = {"valid_from", "recorded_at"} <= columns
        self.has_valid_until = "valid_until" in columns

    def chunk(self, step, rows):
        """Write one chunk in its own transaction; returns what is read back for the read model."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            readback = getattr(self, step)(rows)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return readback

    def delete_edges(self, ids):
        self.conn.executemany(store_sql.EDGE_DELETE, [(i,) for i in ids])
        return None

    def delete_nodes(self, ids):
        for memory_id in ids:  # as CanonicalStore.delete_node: its relationships first
            self.conn.execute(store_sql.NODE_EDGES_DELETE, (memory_id, memory_id))
            self.conn.execute(store_sql.NODE_DELETE, (memory_id,))
        return None

    def put_nodes(self, rows):
        self.conn.executemany(store_sql.NODE_UPSERT_ROW, [(r[0], r[1], r[2], r[3]) for r in rows])
        return self._read_back(sql.NODE_VERSIONS_BY_IDS, [r[0] for r in rows])

    def put_edges(self, rows):
        """As CanonicalStore.put_edge_rows, in this file's shape of the relationships table.
        Rows are EdgeRow tuples: id, from_id, to_id, rel_type, properties, created_at,
        valid_from, valid_until, recorded_at, invalidated_by."""
        if self.temporal:
            query, params = store_sql.EDGE_UPSERT_ROW_TEMPORAL, [
                (r[0], r[1], r[2], r[3], r[4], r[5], r[6] or r[5], r[7], r[8] or r[5], r[9]) for r in rows]
        elif self.has_valid_until:
            query, params = store_sql.EDGE_UPSERT_ROW_HALF, [
                (r[0], r[1], r[2], r[3], r[4], r[5], r[7], r[9]) for r in rows]
        else:
            query, params = store_sql.EDGE_UPSERT_ROW, [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]
        self.conn.executemany(query, params)
        by_ids = sql.EDGE_READBACK_BY_IDS_TEMPORAL if self.has_valid_until else sql.EDGE_READBACK_BY_IDS
        return self._read_back(by_ids, [r[0] for r in rows])

    def _read_back(self, query, ids):
        found = []
        for chunk in chunks(ids, READBACK_IDS):
            found.extend(self.conn.execute(query.format(marks=marks(len(chunk))), chunk))
        return found


def serve(path, jobs, acks):
    """The child's main: chunks from ``jobs`` until "end" (or the parent's end of the pipe
    closing: the parent died, and the chunk not received is not written)."""
    try:
        writer = Writer(path)
    except sqlite3.Error as exc:
        acks.send(("error", str(exc)))
        return
    acks.send(("ready", {"pid": os.getpid(), "libsql": "libsql_experimental" in sys.modules}))
    waited = writing = 0.0  # seconds waiting for chunks, and writing them (the benchmark prints both)
    try:
        while True:
            started = time.perf_counter()
            try:
                step, rows = jobs.recv()
            except EOFError:
                return
            waited += time.perf_counter() - started
            if step == "end":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                acks.send(("finished", {"cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
                                        "wait_s": round(waited, 2), "write_s": round(writing, 2),
                                        "libsql": "libsql_experimental" in sys.modules}))
                return
            if step not in STEPS:
                acks.send(("error", f"unknown step {step!r}"))
                return
            started = time.perf_counter()
            try:
                readback = writer.chunk(step, rows)
            except sqlite3.Error as exc:
                acks.send(("error", str(exc)))
                return
            writing += time.perf_counter() - started
            acks.send(("done", step, len(rows), readback))
    except (BrokenPipeError, ConnectionResetError):
        return  # the parent is gone
    finally:
        writer.conn.close()


if __name__ == "__main__":  # python -m memories.interchange.writer JOBS_FD ACKS_FD PATH
    from multiprocessing.connection import Connection

    serve(sys.argv[3], Connection(int(sys.argv[1]), writable=False),
          Connection(int(sys.argv[2]), readable=False))
