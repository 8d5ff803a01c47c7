"""Other writers' commits reach the read model once, whichever process sees them first.

Two ``ClientHandle``s on one canonical file are two web workers: each has its own libsql
connection (its own ``PRAGMA data_version``) and its own connection to the shared read model.
The other writer is the real memorygraph package (memorygraphMCP 0.12.4), driven as its
server drives it (tests/interchange/test_interop.py). Diffs are counted by ``readmodel.diff_runs``.
memorygraph runs in this process, so its calls and ours are made one after the other.
"""
import sqlite3

import pytest
from memorygraph.models import MemoryType

from memories import services
from memories.format import new_id
from memories.properties import memory_properties
from memories.store import freshness
from memories.store.registry import ClientHandle
from tests.support.clients import register_client
from tests.support.memorygraph import Server
from tests.support.reads import diffs, title

pytestmark = [pytest.mark.interop, pytest.mark.django_db]


@pytest.fixture
def server(tmp_path):
    mg = Server(tmp_path / "memory.db")
    mg.store(type=MemoryType.PROBLEM, title="Pool exhausted under load", content="Too few connections.")
    yield mg
    mg.close()


@pytest.fixture
def workers(server):
    """Two web workers' handles on the file memorygraph writes, both with a fresh read model."""
    client = register_client("mg", server.backend.db_path)
    handles = [ClientHandle(client), ClientHandle(client)]
    for handle in handles:
        handle.ensure_fresh()
    yield handles
    for handle in handles:
        handle.close()


def test_memorygraph_leaves_its_file_in_rollback_journal_mode(server, workers):
    """What the stamp relies on, measured: the header says rollback journal (write version 1)
    and every commit, memorygraph's and libsql's, moves the change counter."""
    store = workers[0].store
    assert store._fetch("PRAGMA journal_mode")[0][0] == "delete"
    first = store.change_stamp()
    server.store(type=MemoryType.GENERAL, title="one more", content="x")
    second = store.change_stamp()
    services.memory_create(handle=workers[0], actor=None, fields={"type": "general", "title": "ours",
                                                                   "content": "y"})
    third = store.change_stamp()
    counters = [int(stamp.split(":")[1]) for stamp in (first, second, third)]
    assert counters[0] < counters[1] < counters[2]


def test_a_memorygraph_write_is_applied_by_exactly_one_diff_and_both_see_it(server, workers):
    one, two = workers
    before = diffs()
    memory_id = server.store(type=MemoryType.SOLUTION, title="Raise the pool size", content="max 40")
    one.ensure_fresh()
    assert diffs() == before + 1
    two.ensure_fresh()  # its data_version moved too: a probe finds the stamp equal
    assert diffs() == before + 1
    assert title(one, memory_id) == title(two, memory_id) == "Raise the pool size"
    one.ensure_fresh(), two.ensure_fresh()
    assert diffs() == before + 1
    assert one.readmodel.meta("diffs") == two.readmodel.meta("diffs")


def test_our_own_write_costs_the_other_worker_no_diff(server, workers):
    one, two = workers
    before = diffs()
    memory_id = services.memory_create(handle=one, actor=None, fields={
        "type": "solution", "title": "Written through the site", "content": "by worker one"})
    two.ensure_fresh()
    one.ensure_fresh()
    assert diffs() == before
    assert title(two, memory_id) == "Written through the site"
    assert two.readmodel.stamp() == two.store.change_stamp()


def _commit_unsynced(handle, title_text):
    """Our write committed to the canonical file, its read-model update not yet made."""
    props = memory_properties({"type": "general", "title": title_text, "content": "ours", "id": new_id()})
    with handle.store.transaction() as store:
        store.insert_node(props)
    return props["id"]


def test_a_write_between_our_commit_and_our_stamp_is_never_lost(server, workers):
    """memorygraph commits after our commit and before our read-model update: our update must
    not record the file's newer stamp, so the next probe diffs once and applies their write."""
    one, two = workers
    with one.lock:
        ours = _commit_unsynced(one, "ours first")
        theirs = server.store(type=MemoryType.ERROR, title="Theirs in between", content="race")
        services.update_readmodel(one, memory_ids=[ours])
    assert one.readmodel.stamp() != one.store.change_stamp()
    before = diffs()
    two.ensure_fresh()
    assert diffs() == before + 1
    one.ensure_fresh()
    assert diffs() == before + 1
    for handle in workers:
        assert title(handle, ours) == "ours first"
        assert title(handle, theirs) == "Theirs in between"


def test_a_write_before_ours_not_yet_applied_is_never_lost(server, workers):
    """memorygraph committed before our transaction began and nobody applied it yet: our
    update starts from a state the read model does not hold, so it claims nothing."""
    one, two = workers
    theirs = server.store(type=MemoryType.ERROR, title="Theirs before", content="race")
    ours = services.memory_create(handle=one, actor=None, fields={"type": "general", "title": "ours after",
                                                                   "content": "x"})
    before = diffs()
    two.ensure_fresh()
    assert diffs() == before + 1
    assert title(two, theirs) == "Theirs before" and title(two, ours) == "ours after"


def test_a_probe_that_sees_our_update_land_meanwhile_diffs_nothing(server, workers, monkeypatch):
    """A probe reads the file's stamp ahead of the read model's, and our other worker's update
    lands before it looks at the chain of our commits: nothing is left to diff. (It diffed the
    whole file for nothing: kb_bench_agents at 100,000 memories, stores stalled 5-7 s.)"""
    one, two = workers
    with one.lock:
        ours = _commit_unsynced(one, "ours, update landing during the probe")
    rm, real_stamp = two.readmodel, two.readmodel.stamp
    calls = []

    def stamp_then_our_update_lands():
        calls.append(1)
        seen = real_stamp()
        if len(calls) == 1:
            services.update_readmodel(one, memory_ids=[ours])
        return seen

    def no_diff(store, **kwargs):
        raise AssertionError("diffed the whole file though the read model had caught up")

    monkeypatch.setattr(rm, "stamp", stamp_then_our_update_lands)
    monkeypatch.setattr(rm, "diff_versions", no_diff)
    before = diffs()
    assert freshness.refresh_once(rm, two.store) is freshness.WAITING
    monkeypatch.undo()
    two.ensure_fresh()
    assert diffs() == before
    assert title(two, ours) == "ours, update landing during the probe"
    assert two.readmodel.stamp() == two.store.change_stamp()


def test_a_claim_from_another_state_moves_nothing(workers):
    rm = workers[0].readmodel
    recorded = rm.stamp()
    with rm.write() as conn:
        freshness.claim(conn, ("0:0", "0:1"))
    assert rm.stamp() == recorded


def test_a_wal_file_has_no_stamp_and_every_worker_diffs(server, workers, tmp_path):
    """In WAL mode the header's counter stays put, so there is no stamp to trust: each worker
    falls back to its own diff, and both still see every write."""
    server.close()
    conn = sqlite3.connect(workers[0].client.path)
    assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    conn.close()
    for handle in workers:
        handle.close()
    wal = Server(workers[0].client.path)
    try:
        for handle in workers:
            handle.ensure_fresh()
            assert handle.store.change_stamp() is None
        before = diffs()
        memory_id = wal.store(type=MemoryType.GENERAL, title="Written in WAL mode", content="z")
        for handle in workers:
            handle.ensure_fresh()
            assert title(handle, memory_id) == "Written in WAL mode"
        assert diffs() == before + 2
    finally:
        for handle in workers:
            handle.close()
        wal.close()


def test_a_rebuild_records_the_stamp(server, workers):
    one, two = workers
    one.rebuild()
    assert one.readmodel.stamp() == one.store.change_stamp()
    before = diffs()
    two.ensure_fresh()
    assert diffs() == before


def test_two_workers_and_a_concurrent_writer_lose_nothing(server, workers):
    """A server process writing all the while our two workers write and refresh: at the end both
    read models hold exactly the canonical file's rows."""
    import subprocess
    import sys

    from memories.store import sql
    from tests.support.memorygraph import SERVER_WRITER

    server.close()  # the writer below is the server now, in its own process
    rounds = 40
    proc = subprocess.Popen([sys.executable, "-c", SERVER_WRITER, workers[0].client.path, str(rounds)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdin.write("go\n")
        proc.stdin.flush()
        for n in range(rounds):
            handle = workers[n % 2]
            handle.ensure_fresh()
            services.memory_create(handle=handle, actor=None, fields={
                "type": "general", "title": f"site {n}", "content": "x"})
    finally:
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out.strip() == "done", err
    for handle in workers:
        rm = handle.ensure_fresh()
        assert dict(rm.conn.execute(sql.MEMORY_VERSIONS).fetchall()) == handle.store.node_versions()


def test_writes_during_the_diff_wait_for_no_lock_and_are_never_lost(server, workers, monkeypatch):
    """The full (id, version) diff runs outside the read model's write lock (seconds at 100,000
    memories): a site write and another memorygraph write made while it runs go through at once,
    the stamp recorded follows our claim but never past theirs, and the next probe applies it."""
    one, two = workers
    theirs_first = server.store(type=MemoryType.ERROR, title="Theirs before the diff", content="a")
    made, real_diff = {}, two.readmodel.diff_versions

    def diff_with_writes_meanwhile(store, **kwargs):
        probe = sqlite3.connect(two.readmodel.path, timeout=0)
        probe.execute("BEGIN IMMEDIATE")  # raises "database is locked" if the diff held the lock
        probe.execute("ROLLBACK")
        probe.close()
        made["ours"] = services.memory_create(handle=one, actor=None, fields={
            "type": "general", "title": "Ours during the diff", "content": "b"})
        made["stamp after ours"] = one.store.change_stamp()
        made["theirs"] = server.store(type=MemoryType.FIX, title="Theirs during the diff", content="c")
        return real_diff(store, **kwargs)

    monkeypatch.setattr(two.readmodel, "diff_versions", diff_with_writes_meanwhile)
    two.ensure_fresh()
    monkeypatch.undo()
    assert title(two, theirs_first) == "Theirs before the diff"
    assert title(two, made["ours"]) == "Ours during the diff"
    assert two.readmodel.stamp() == made["stamp after ours"] != two.store.change_stamp()
    for handle in workers:
        rm = handle.ensure_fresh()
        assert title(handle, made["theirs"]) == "Theirs during the diff"
        assert rm.stamp() == handle.store.change_stamp()
        from memories.store import sql
        assert dict(rm.conn.execute(sql.MEMORY_VERSIONS).fetchall()) == handle.store.node_versions()
