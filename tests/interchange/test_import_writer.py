"""Issue 11: a big import's rows are written by a writer process of its own (stdlib sqlite3, no
libsql: memories/interchange/writer.py) while the importing process builds the read model from
the rows in hand (memories/interchange/bulk.py). Real files, the real child process, the real
memorygraph 0.12.4 reading the result back; the child killed with SIGKILL for real."""
import json
import os
import signal
import threading
import time

import pytest

from memories.devdata.loader import load_graph
from memories.devdata.synthetic import synthetic_graph
from memories.interchange import sides
from memories.interchange.imports import plans, readers, runs
from memories.models import ImportJob
from memories.worker.jobs import job_retry
from memories.worker.models import Job
from tests.support.jobs import run_jobs
from tests.support.memorygraph import Server, assert_memorygraph_reads_everything

pytestmark = pytest.mark.django_db

CHUNK = 100
WRITER_MODULE = b"memories.interchange.writer"


@pytest.fixture
def bulk(monkeypatch):
    """Every import of this module's size takes the writer process (from 100 rows on)."""
    monkeypatch.setattr(sides, "BULK_ROWS", 100)
    monkeypatch.setattr(sides, "CHUNK", CHUNK)
    monkeypatch.setattr(sides, "BULK_CHUNK", CHUNK)
    monkeypatch.setattr(runs, "IMPORT_INLINE_ROWS", 10**6)  # run in the test, as the job would


@pytest.fixture
def source(tmp_path, handle):
    """300 synthetic memories (~900 relationships), and one demo memory of the client changed later."""
    path = tmp_path / "laptop.db"
    memories, relationships = synthetic_graph(300, seed=5)
    load_graph(str(path), memories, relationships)
    from memories.store.canonical import CanonicalStore
    from memories.store.copies import NodeRow

    changed_id, = [r[0] for r in handle.readmodel.conn.execute("SELECT id FROM memory ORDER BY id LIMIT 1")]
    row = handle.store.node_rows([changed_id])[changed_id]
    props = json.loads(row.properties)
    props.update(content=props["content"] + " Changed on the laptop.", updated_at="2030-01-01T00:00:00+00:00")
    store = CanonicalStore(str(path))
    with store.transaction():
        store.put_node_rows([NodeRow(changed_id, json.dumps(props), row.created_at, "2030-01-01 00:00:00")])
    store.close()
    return path


def _snapshot(rm):
    """The read model's contents, rowids aside (FTS answers included)."""
    conn = rm.conn
    tables = {
        "memory": conn.execute("SELECT id, type, title, summary, content, tags, keywords, importance, "
                               "band, confidence, project, month, created_at, updated_at, props, version "
                               "FROM memory ORDER BY id").fetchall(),
        "memory_tag": conn.execute("SELECT * FROM memory_tag ORDER BY 1, 2, 3").fetchall(),
        "edge": conn.execute("SELECT * FROM edge ORDER BY id").fetchall(),
        "facet_count": conn.execute("SELECT * FROM facet_count ORDER BY 1, 2").fetchall(),
        "fts": [conn.execute("SELECT m.id FROM memory_fts JOIN memory m ON m.rid = memory_fts.rowid "
                             "WHERE memory_fts MATCH ? ORDER BY m.id", (word,)).fetchall()
                for word in ("redis", "error", "laptop", "cache*")],
        "indexes": conn.execute("SELECT type, name, sql FROM sqlite_master "
                                "WHERE type IN ('index', 'trigger') ORDER BY name").fetchall(),
    }
    return {name: [tuple(r) for r in rows] if name != "fts" else [[tuple(r) for r in q] for q in rows]
            for name, rows in tables.items()}


def _file_versions(store):
    return store.node_versions(), store.edge_versions()


def _rm_versions(rm):
    return (dict(rm.conn.execute("SELECT id, version FROM memory")),
            dict(rm.conn.execute("SELECT id, version FROM edge")))


def _schema(store):
    return store._fetch("SELECT type, name, sql FROM sqlite_master ORDER BY name"), store._fetch(
        "PRAGMA journal_mode")


def _import(handle, path, progress=None):
    side = sides.ClientSide(handle)
    plan = plans.plan(readers.read_path(path, max_bytes=10**9), side)
    plans.apply(plan, side, progress)
    return plan, side


def test_the_writer_process_writes_what_memorygraph_reads_and_the_read_model_equals_a_rebuild(
        bulk, handle, source):
    store, rm = handle.store, handle.readmodel
    schema, before = _schema(store), store.count_nodes()
    seen = []
    plan, side = _import(handle, source, lambda done, total: seen.append((done, total)))
    assert plan.counts["new"] == 300 and plan.counts["changed"] == 1 and len(plan.writes) > 1000
    info = side.writer_info
    assert info["pid"] != os.getpid() and info["libsql"] is False  # stdlib sqlite3 alone in the child
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1][0] == seen[-1][1]
    assert len(seen) >= len(plan.writes) // CHUNK  # live: one report per committed chunk at least
    assert _schema(store) == schema  # the file's tables, indexes and journal mode untouched
    assert store.count_nodes() == before + 300
    assert _rm_versions(rm) == _file_versions(store)  # the read model holds the file's own versions
    assert not any(rm.diff_versions(store).values())
    built = _snapshot(rm)
    handle.rebuild()
    assert _snapshot(rm) == built  # the same read model as a rebuild from the file
    server = Server(handle.store.path, initialise=False)
    try:
        assert_memorygraph_reads_everything(server, handle.store.path)
        changed, = rm.conn.execute("SELECT id FROM memory WHERE content LIKE '%on the laptop.'").fetchone()
        assert server.get(changed).content.endswith("Changed on the laptop.")
        some = plan.writes.edges[len(plan.writes.edges) // 2]
        assert some.id in {rel.id for _, rel in server.related(some.from_id)}
    finally:
        server.close()


def _record(handle, path):
    return ImportJob.objects.create(client=handle.client, filename="laptop.db", path=str(path),
                                    status=ImportJob.RUNNING, size=path.stat().st_size)


def _ids(store):
    return set(store.node_versions()), set(store.edge_versions())


def _whole_chunks(plan, store, before, chunk, gone=()):
    """How many of the plan's rows the file holds, checking they are exactly its first chunks in
    the order they are written (memories, then relationships), each whole; ids in ``gone`` were
    deleted by another writer meanwhile, those in ``before`` were in the file already."""
    nodes, edges = [r.id for r in plan.writes.nodes], [r.id for r in plan.writes.edges]
    order = nodes + edges
    ends = {min(k, len(nodes)) for k in range(0, len(nodes) + chunk, chunk)} | {
        len(nodes) + min(k, len(edges)) for k in range(0, len(edges) + chunk, chunk)}
    held = _ids(store)
    written = (held[0] - before[0]) | (held[1] - before[1])
    old = before[0] | before[1] | set(gone)
    for end in sorted(ends, reverse=True):  # the furthest: chunks may end in rows that were there already
        if written == set(order[:end]) - old:
            return end
    raise AssertionError(f"the file holds {len(written)} of the import's rows: not whole chunks")


def test_a_chunk_the_file_refuses_mid_way_fails_the_import_with_the_reason_and_nothing_half_written(
        bulk, handle, source, monkeypatch):
    """Another writer deletes a memory this import wrote, after its chunk: a later chunk of
    relationships pointing at it is refused (foreign keys, as libsql checks them), rolled back
    whole, and the import stops there with the reason; running it again completes it."""
    import threading

    from memories.interchange import bulk as bulk_copy

    store, rm = handle.store, handle.readmodel
    before, shown = _ids(store), _snapshot(rm)
    plan = plans.plan(readers.read_path(source, max_bytes=10**9), sides.ClientSide(handle))
    record = _record(handle, source)
    first, deleted = {}, threading.Event()
    steps_of = bulk_copy.steps_of

    def relationships_after_the_delete(writes):
        """The writer process runs ahead of the acknowledgements this process reads: its input
        holds the relationships back until the other writer's delete is made, as a slower
        writer would have been."""
        for step in steps_of(writes):
            if step[0] == "put_edges":
                deleted.wait(60)
            yield step

    monkeypatch.setattr(bulk_copy, "steps_of", relationships_after_the_delete)

    def meanwhile(done, total):
        if not first:  # the first chunk of memories is committed: another writer deletes one of them
            first["id"] = victim = _first_written(handle, source)
            with store.transaction():
                store.delete_node(victim)
            deleted.set()

    runs.import_execute(handle=handle, actor=None, job=record, on_progress=meanwhile)
    record.refresh_from_db()
    assert record.status == ImportJob.FAILED
    assert "FOREIGN KEY constraint failed" in record.message and "rolled back whole" in record.message
    assert str(handle.store.path) not in record.message
    victim = first["id"]
    gone = {victim} | {e.id for e in plan.writes.edges if victim in (e.from_id, e.to_id)}
    held = _whole_chunks(plan, store, before, CHUNK, gone)
    assert len(plan.writes.nodes) <= held < len(plan.writes)  # every memory, then stopped mid-way
    refused = plan.writes.edges[held - len(plan.writes.nodes):][:CHUNK]
    assert any(victim in (e.from_id, e.to_id) for e in refused)  # the chunk that was refused
    assert _snapshot(rm) == shown  # the read-model transaction rolled back: as before the import
    handle.ensure_fresh()  # the next probe diffs what the file holds now
    assert _rm_versions(rm) == _file_versions(store)
    record.status = ImportJob.RUNNING
    record.save()
    runs.import_execute(handle=handle, actor=None, job=record)
    record.refresh_from_db()
    assert record.status == ImportJob.DONE, record.message
    assert store.count_nodes() == len(before[0]) + 300 and _rm_versions(rm) == _file_versions(store)


def _first_written(handle, path):
    """The first memory of the file that has relationships, once the import wrote it."""
    incoming = readers.read_path(path, max_bytes=10**9)
    related = {e.from_id for e in incoming.edges.values()} | {e.to_id for e in incoming.edges.values()}
    in_file = handle.store.node_versions()
    return next(key for key in incoming.nodes if key in in_file and key in related)


def _writer_children():
    """Pids of this process's writer processes (from /proc: no library needed)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and WRITER_MODULE in command:
            found.append(int(pid))
    return found


def test_the_writer_process_killed_fails_the_job_with_the_reason_and_retry_completes_it(
        bulk, web, handle, source, monkeypatch):
    """SIGKILL of the child mid-way, through the real job: the job fails saying so, the file holds
    whole chunks only, the read model is put in step by the next probe, Retry imports the rest."""
    monkeypatch.setattr(runs, "IMPORT_INLINE_ROWS", 10)  # a worker job
    # ~400 chunks (about 1.5 ms each when idle): the kill lands mid-way
    monkeypatch.setattr(sides, "BULK_CHUNK", 3)
    store, rm = handle.store, handle.readmodel
    before = _ids(store)
    plan = plans.plan(readers.read_path(source, max_bytes=10**9), sides.ClientSide(handle))
    with source.open("rb") as f:
        assert web.post("/c/acme/import/", {"file": f}).status_code == 302
    record = ImportJob.objects.get()
    assert web.post(f"/c/acme/import/{record.pk}/run/").status_code == 302
    killed = []

    def killer():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for pid in _writer_children():
                time.sleep(0.05)  # a few chunks in (the whole copy takes 0.3 s at 10 rows a chunk, idle)
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.01)

    thread = threading.Thread(target=killer)
    thread.start()
    run_jobs()
    thread.join()
    job = Job.objects.get(kind="import")
    record.refresh_from_db()
    assert killed and job.status == Job.FAILED and record.status == ImportJob.FAILED
    assert "writer process stopped (exit code -9)" in job.message and record.message == job.message
    assert _whole_chunks(plan, store, before, 3) < len(plan.writes)  # whole chunks, stopped mid-way
    assert not _writer_children()  # reaped, none left behind
    handle.ensure_fresh()
    assert _rm_versions(rm) == _file_versions(store)
    job_retry(job=job)
    run_jobs()
    job.refresh_from_db()
    record.refresh_from_db()
    assert job.status == Job.DONE and record.status == ImportJob.DONE, job.message
    assert store.count_nodes() == len(before[0]) + 300 and _rm_versions(rm) == _file_versions(store)
    server = Server(store.path, initialise=False)
    try:
        assert_memorygraph_reads_everything(server, store.path)
    finally:
        server.close()


def _writers_on(path):
    """Pids of writer processes writing ``path``, whoever their parent."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().split(b"\0")
        except OSError:
            continue
        if WRITER_MODULE in command and str(path).encode() in command:
            found.append(int(pid))
    return found


@pytest.mark.e2e
def test_a_worker_killed_while_its_writer_process_writes_leaves_no_writer_and_the_import_completes(tmp_path):
    """SIGKILL of the real `kb_worker` mid-import: its writer process stops by itself (its input
    closed), the file holds whole chunks, the next worker queues the job again and completes it."""
    from tests.support.sites import Site, canonical_rows

    site = Site(tmp_path)
    site.env["KB_IMPORT_BULK_ROWS"] = "1000"
    site.env["KB_IMPORT_BULK_CHUNK"] = "1000"
    try:
        empty, source = tmp_path / "team.db", tmp_path / "big.db"
        load_graph(str(empty), [], [])
        memories, relationships = synthetic_graph(4000, seed=5, edges_per_memory=2, tags_per_memory=2)
        load_graph(str(source), memories, relationships)
        setup, preview = site.upload(empty, source)
        site.start_worker()
        site.wait_job(preview, lambda j: j["status"] == "done", "previewed")
        site.kill_worker()
        job_id = site.shell(
            setup
            + """
runs.import_run(handle=handle, actor=None, job=ImportJob.objects.get())
out = Job.objects.get(kind="import").pk
"""
        )
        site.start_worker()
        site.wait_job(
            job_id, lambda j: j["progress_done"] > 0 and j["status"] == "running", "written a chunk"
        )
        assert _writers_on(empty)  # the import writes through its writer process
        site.kill_worker()
        deadline = time.monotonic() + 15
        while _writers_on(empty) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _writers_on(empty)  # it saw its input close and stopped, no orphan writing on
        written = canonical_rows(empty, "SELECT COUNT(*) FROM nodes")[0][0]
        assert 0 < written and (written % 1000 == 0 or written == 4000), written  # whole chunks
        site.start_worker()
        job = site.wait_job(job_id, lambda j: j["status"] in ("done", "failed"), "import finished")
        assert job["status"] == "done" and job["attempts"] == 2, job
        rows = canonical_rows(empty, "SELECT id FROM nodes")
        assert len(rows) == 4000 and {r[0] for r in rows} == {m["id"] for m in memories}
        consistent = site.shell(
            setup
            + """
rm, store = handle.readmodel, handle.store
rm.refresh(store)
out = [dict(rm.conn.execute("SELECT id, version FROM memory")) == store.node_versions(),
       dict(rm.conn.execute("SELECT id, version FROM edge")) == store.edge_versions(),
       ImportJob.objects.get().status]
"""
        )
        assert consistent == [True, True, "done"]
    finally:
        site.stop()
