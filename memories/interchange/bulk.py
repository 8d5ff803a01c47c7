"""Big copies into a local client database: a writer process writes the file, this one indexes.

From ``sides.BULK_ROWS`` rows on, ``ClientSide.apply`` hands the rows to a child process
(``writer.py``: spawned, stdlib sqlite3, no libsql) that writes the canonical file in
transactions of ``KB_IMPORT_BULK_CHUNK`` rows and acknowledges each commit with the versions it
read back. Meanwhile this process builds the read model from the rows in hand, chunk by
acknowledged chunk (its full-text rows too), in one read-model transaction with its triggers
and secondary indexes off, then merges the FTS index and makes the indexes and counts.
Before, the rows went through libsql (which holds the GIL, so nothing overlapped) and the
read model was then rebuilt by reading the whole file back.

Failures: a chunk refused by the file (a relationship whose memory another writer deleted
meanwhile) is rolled back whole in the child, which stops; so does a child killed. Either
way the read-model transaction rolls back and StoreError says why: the file holds the
chunks committed before (whole rows, upserts: running the import again completes it), and
the next freshness probe diffs them into the read model, which records no stamp here for
that reason (and for other writers' commits during the copy).
"""
import collections
import json
import os
import queue
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from memories.interchange import sql
from memories.store import schema
from memories.store import sql as store_sql
from memories.store.canonical import CanonicalStore, StoreBusy, StoreError, translate_error
from memories.store.readmodel import STAMP, ReadModel
from memories.store.rebuild import load_batch, triggers
from memories.store.records import edge_record, memory_record

ROOT = Path(__file__).resolve().parents[2]  # where `python -m memories.interchange.writer` is found
STOP_WAIT_S = 10.0  # for the child to finish its chunk and exit, before it is killed
FINISH_SHARE = 10  # progress: the indexes after the last chunk count as a tenth of the rows


class WriterStopped(StoreError):
    pass


class WriterProcess:
    """The child and its two pipes; ``feed`` sends chunks from a thread, ``acks`` yields commits."""

    def __init__(self, path, chunk):
        self.path, self.chunk = path, chunk
        # A fresh interpreter running writer.py alone (not multiprocessing's spawn, which
        # imports the parent's main module again, and libsql with it when that imports it).
        jobs_in, jobs_out = os.pipe()
        acks_in, acks_out = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "memories.interchange.writer", str(jobs_in), str(acks_out), path],
                cwd=ROOT, pass_fds=(jobs_in, acks_out), stdin=subprocess.DEVNULL)
        except BaseException:
            for fd in (jobs_out, acks_in):
                os.close(fd)
            raise
        finally:
            os.close(jobs_in)  # the child holds these ends: its exit shows here as EOF
            os.close(acks_out)
        self._jobs = Connection(jobs_out, readable=False)
        self._acks = Connection(acks_in, writable=False)
        self.sent = collections.deque()  # (step, rows) sent and not yet acknowledged, in order
        self._stopping = threading.Event()
        self._feeder = self._reader = None
        self._received = queue.SimpleQueue()  # the child's messages, read by _reader
        try:
            self.info = self._expect("ready")[1]
        except BaseException:
            self.close()
            raise
        self._reader = threading.Thread(target=self._read, name="kb-import-acks", daemon=True)
        self._reader.start()

    def feed(self, steps):
        """Send every chunk of [(step, rows)] from a thread: a chunk of memories is ~1.5 MB,
        more than a pipe holds, so sending and reading acknowledgements cannot take turns."""
        def run():
            try:
                for step, rows in steps:
                    for start in range(0, len(rows), self.chunk):
                        if self._stopping.is_set():
                            return
                        part = rows[start:start + self.chunk]
                        self.sent.append((step, part))
                        # Plain tuples: unpickling a NodeRow would import connector, and libsql with it.
                        self._jobs.send((step, [tuple(r) if isinstance(r, tuple) else r for r in part]))
                self._jobs.send(("end", None))
            except (OSError, ValueError):
                pass  # the child stopped or was stopped: its acknowledgements say why

        self._feeder = threading.Thread(target=run, name="kb-import-feed", daemon=True)
        self._feeder.start()

    def acks(self):
        """(step, rows, readback) per committed chunk, in order, until the child has finished."""
        while True:
            message = self._expect("done", "finished")
            if message[0] == "finished":
                self.info.update(message[1])
                return
            step, rows = self.sent.popleft()
            yield step, rows, message[3]

    def _read(self):
        """Read the child's messages as they come, into ``_received``: an acknowledgement left
        unread blocked the child before its next chunk (a chunk's is 70-100 KB, more than a pipe
        holds), so the writer waited whenever this process was indexing an earlier chunk. When
        stopping, the pipe is closed after the next message: the child stops at its next one."""
        try:
            while True:
                message = self._acks.recv()
                self._received.put(message)
                if message[0] in ("finished", "error") or self._stopping.is_set():
                    return
        except (EOFError, OSError):
            pass
        finally:
            self._received.put(None)  # nothing more comes: read as the child having stopped
            self._acks.close()

    def _recv(self):
        if self._reader is None:  # before the reader starts: the "ready" message
            try:
                return self._acks.recv()
            except (EOFError, OSError):
                return None
        return self._received.get()

    def _expect(self, *kinds):
        message = self._recv()
        if message is None:
            code = self._wait()
            raise WriterStopped(f"The import's writer process stopped (exit code {code}) "
                                "before it finished; the chunks it committed are whole. Run the import "
                                "again to complete it.") from None
        if message[0] == "error":
            error = translate_error(ValueError(message[1]), self.path)
            if isinstance(error, StoreBusy):
                raise error
            raise StoreError(f"The memory file refused a chunk of the import ({message[1]}); that chunk was "
                             "rolled back whole and the chunks before it are written. Running the import "
                             "again completes it.")
        if message[0] not in kinds:
            raise StoreError(f"The import's writer process answered {message[0]!r}.")
        return message

    def _wait(self):
        try:
            return self.process.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def close(self):
        """Stop the child after the chunk it is writing: with its acknowledgements unread (their
        pipe closed) it stops at its next one, and with its input closed when it waits for a chunk;
        a feeder blocked sending to it is released when it exits."""
        self._stopping.set()
        if self._reader is None:
            self._acks.close()
        if self._feeder is not None:
            self._feeder.join(STOP_WAIT_S)
        self._jobs.close()
        self._wait()
        if self._reader is not None:
            self._reader.join()  # the child has exited: its end of the pipe is closed


def steps_of(writes):
    """Relationships are deleted first and put last, so none ever points at a missing memory."""
    return [("delete_edges", writes.edge_deletes), ("delete_nodes", writes.node_deletes),
            ("put_nodes", writes.nodes), ("put_edges", writes.edges)]


def apply(handle, writes, chunk, progress=None):
    """Write ``writes`` into a local client's file through a writer process and bring its
    read model in step; returns the writer's figures (its pid and CPU seconds)."""
    store, rm = handle.store, handle.readmodel
    total = len(writes)
    finish = max(1, total // FINISH_SHARE)
    child = WriterProcess(store.path, chunk)
    try:
        child.feed(steps_of(writes))
        if not rm.is_built(store.path):  # nothing to add the rows to: write, then the full rebuild
            done = 0
            for _, rows, _ in child.acks():
                done += len(rows)
                if progress:
                    progress(done, total + finish)
            handle.rebuild()
        else:
            _index(rm, writes, child, total + finish, progress, store.has_valid_until)
        if progress:
            progress(total + finish, total + finish)
    finally:
        child.close()
    return child.info


def _index(rm, writes, child, total, progress, temporal):
    """The read model in one transaction: readers see the old contents until it commits."""
    rm.conn.execute("PRAGMA cache_size = -262144")  # as the rebuild: a big cache for the index builds
    begun = time.perf_counter()
    try:
        with rm.write() as conn:
            _take_apart(conn, writes)
            done, memories_together = 0, False
            for step, rows, readback in child.acks():
                if step == "put_nodes":
                    versions = dict(readback)
                    last = conn.execute(sql.MEMORY_LAST_RID).fetchone()[0]
                    load_batch(conn, [memory_record(r.id, json.loads(r.properties), versions[r.id])
                                      for r in rows if r.id in versions])
                    # Indexed for search now, while the writer writes the next chunk (one FTS rebuild
                    # after the last chunk cost the same CPU, all of it on the critical path).
                    conn.execute(sql.FTS_FROM_RID, (last,))
                elif step == "put_edges":
                    if not memories_together:
                        # Every memory is in: their FTS merge and indexes are made now, while the
                        # writer writes the relationships (about 10 s of CPU at 100,000 memories
                        # that came after the last chunk), which their rows do not touch.
                        _put_memories_together(conn)
                        memories_together = True
                    conn.executemany(store_sql.EDGE_INSERT_RM, _edge_records(rows, readback, temporal))
                done += len(rows)
                if progress:
                    progress(done, total)
            marks = [time.perf_counter()]  # the figures kb_bench_bridge prints
            if not memories_together:
                _put_memories_together(conn)
            _put_together(conn)
            rm.set_meta(conn, **{STAMP: "", "refreshed_at": time.time()})
            marks.append(time.perf_counter())
        marks.append(time.perf_counter())
        rm.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rm.conn.execute("PRAGMA optimize")
        marks.append(time.perf_counter())
        child.info.update({name: round(b - a, 2) for name, a, b in zip(
            ("written_s", "indexes_s", "commit_s", "checkpoint_s"), [begun, *marks], marks)})
    finally:
        rm.conn.execute("PRAGMA cache_size = -2000")


def _edge_records(rows, readback, temporal):
    """Read-model edges from the rows sent and what the file holds of them (what
    CanonicalStore.iter_edges would read back): the version, the kept created_at column, and
    valid_until only where the file has the column."""
    stored = {edge_id: (version, created) for edge_id, version, created in readback}
    for r in rows:
        if r.id in stored:
            version, created = stored[r.id]
            stored_row = (r.id, r.from_id, r.to_id, r.rel_type, r.properties, created,
                          r.valid_until if temporal else None, version)
            yield edge_record(CanonicalStore._edge_row(stored_row))


def _take_apart(conn, writes):
    """The rows being replaced or deleted out (their triggers take them out of the FTS index,
    the indexes find them), then triggers and secondary indexes off: the load keeps FTS
    itself and the counts and indexes are made after it."""
    ReadModel.remove_edges(conn, writes.edge_deletes)
    ReadModel.remove_memories(conn, writes.node_deletes)
    if conn.execute(sql.MEMORY_ANY).fetchone():
        conn.executemany(store_sql.MEMORY_DELETE, ((r.id,) for r in writes.nodes))
        conn.executemany(store_sql.MEMORY_TAG_DELETE, ((r.id,) for r in writes.nodes))
    if conn.execute(sql.EDGE_ANY).fetchone():
        conn.executemany(store_sql.EDGE_RM, ((r.id,) for r in writes.edges))
    for statement in triggers(schema.READ_MODEL_TRIGGERS):
        conn.execute(f"DROP TRIGGER IF EXISTS {statement.split()[2]}")
    for statement in schema.statements(schema.READ_MODEL_INDEXES):
        conn.execute(f"DROP INDEX IF EXISTS {statement.split()[2]}")


def _indexes(*, memories):
    """READ_MODEL_INDEXES of the memory and memory_tag tables (``memories``), or of the others."""
    return [s for s in schema.statements(schema.READ_MODEL_INDEXES)
            if (s.split(" ON ")[1].split("(")[0].strip() in ("memory", "memory_tag")) == memories]


def _put_memories_together(conn):
    # One b-tree per term, as a rebuild leaves it: the chunks' inserts left many small segments.
    conn.execute(sql.FTS_OPTIMIZE)
    for statement in _indexes(memories=True):
        conn.execute(statement)


def _put_together(conn):
    """The rest, after the last chunk: the other indexes, the counts and the triggers."""
    for statement in _indexes(memories=False) + schema.statements(schema.FACETS_FROM_SCRATCH):
        conn.execute(statement)
    for statement in triggers(schema.READ_MODEL_TRIGGERS):
        conn.execute(statement)
