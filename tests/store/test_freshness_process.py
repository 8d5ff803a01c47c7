"""Other writers' commits are the freshness process's to apply; our own writes never cost a diff.

Real processes on real files: ``kb_worker`` (which starts ``kb_freshness`` as its child),
writer processes going through the services, and the memorygraph package itself
(memorygraphMCP 0.12.4's SQLiteMemoryDatabase, tests/interchange/test_interop.py) as the other writer.
They share this test's data dir (``settings.DATA_DIR``, so the same read model and beacon) and
a Django database of their own, migrated here; this process plays a web worker.
"""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from memorygraph.models import MemoryType

from memories.store import freshness, sql
from memories.store.registry import ClientHandle, get_client
from tests.support.instances import wait_until
from tests.support.memorygraph import Server
from tests.support.paths import ROOT
from tests.support.reads import diffs, title

pytestmark = [pytest.mark.interop, pytest.mark.django_db]


@pytest.fixture
def site(settings, tmp_path):
    """The `default` client database on a file memorygraph writes, its read model built, and
    the environment of this site's other processes (their own migrated Django database)."""
    mg = Server(tmp_path / "memory.db")
    mg.store(type=MemoryType.PROBLEM, title="Pool exhausted under load", content="Too few connections.")
    settings.KB_MEMORY_DB = str(tmp_path / "memory.db")
    env = {**os.environ, "KB_DATA_DIR": str(settings.DATA_DIR), "KB_MEMORY_DB": settings.KB_MEMORY_DB,
           "KB_SECRET_KEY": "test-freshness", "DJANGO_SETTINGS_MODULE": "kbsite.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env,
                   check=True, timeout=120)
    subprocess.run([sys.executable, "manage.py", "rebuild_index", "--client", "default"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=120)
    web = ClientHandle(get_client("default"))
    web.ensure_fresh()
    yield mg, web, env
    web.close()
    mg.close()


def meta(handle, key):
    return int(handle.readmodel.meta(key) or 0)


def children(pid):
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in found.split()]


def start_worker(env, tmp_path):
    log = open(tmp_path / "worker.log", "ab")
    proc = subprocess.Popen([sys.executable, "manage.py", "kb_worker", "--no-jobs"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return proc


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_while_the_beacon_is_fresh_web_workers_only_probe(site):
    """A fresh beacon: another writer's commit is the freshness process's to apply; a web
    worker serves the read model as it is (no diff) and, once it was applied, finds the stamp
    equal. A stale beacon (no freshness process): the web worker applies commits itself."""
    mg, web, _ = site
    other = ClientHandle(web.client)  # the freshness process's handle, in this process
    try:
        freshness.beacon_touch()
        assert os.stat(freshness.beacon_path()).st_mode & 0o777 == 0o600  # KB_DATA_DIR's rule
        before = diffs()
        memory_id = mg.store(type=MemoryType.SOLUTION, title="Raise the pool size", content="max 40")
        web.ensure_fresh()
        web.ensure_fresh()
        assert diffs() == before and title(web, memory_id) is None
        other.ensure_fresh(apply=True)
        assert diffs() == before + 1
        web.ensure_fresh()
        assert diffs() == before + 1 and title(web, memory_id) == "Raise the pool size"
        stale = time.time() - freshness.BEACON_S - 1
        os.utime(freshness.beacon_path(), (stale, stale))
        later = mg.store(type=MemoryType.GENERAL, title="No freshness process now", content="x")
        web.ensure_fresh()
        assert diffs() == before + 2 and title(web, later) == "No freshness process now"
    finally:
        other.close()


def test_the_freshness_process_applies_memorygraphs_writes_and_is_restarted_when_killed(site, tmp_path):
    mg, web, env = site
    worker = start_worker(env, tmp_path)
    try:
        wait_until(lambda: children(worker.pid), 30, what="the freshness process")
        wait_until(freshness.beacon_fresh, 60, what="a fresh beacon")
        first = children(worker.pid)[0]
        web_diffs, theirs = diffs(), meta(web, "diffs freshness")
        memory_id = mg.store(type=MemoryType.SOLUTION, title="Applied by the freshness process", content="y")
        # Within about a tick; the web worker meanwhile only probes.
        wait_until(lambda: web.ensure_fresh() and title(web, memory_id), 10,
                   what="the freshness process's diff")
        assert diffs() == web_diffs and meta(web, "diffs freshness") == theirs + 1
        assert meta(web, "diffs web") == 0

        os.kill(first, signal.SIGKILL)
        lost = mg.store(type=MemoryType.ERROR, title="Written while it was dead", content="z")
        wait_until(lambda: [pid for pid in children(worker.pid) if pid != first], 15, what="a restart")
        assert wait_until(lambda: web.ensure_fresh() and title(web, lost), 60,
                          what="the new freshness process's diff") == "Written while it was dead"
        assert diffs() == web_diffs  # the web worker never diffed: the restart came first
        assert "exited (-9); restarting" in (tmp_path / "worker.log").read_text()
    finally:
        stop(worker)
    assert not [pid for pid in children(worker.pid)]


def test_without_the_worker_web_workers_take_over_and_nothing_is_lost(site, tmp_path, monkeypatch):
    """kb_worker killed outright: its freshness process stops (it never outlives the worker),
    the beacon goes stale and the web worker applies the commits made meanwhile itself."""
    mg, web, env = site
    monkeypatch.setattr(freshness, "BEACON_S", 2.0)  # the web worker's patience, to keep this short
    worker = start_worker(env, tmp_path)
    try:
        wait_until(lambda: children(worker.pid), 30, what="the freshness process")
        child = children(worker.pid)[0]
        wait_until(freshness.beacon_fresh, 60, what="a fresh beacon")
        worker.kill()
        worker.wait(timeout=10)
        wait_until(lambda: subprocess.run(["ps", "-p", str(child)], capture_output=True).returncode != 0, 10,
                   what="the orphaned freshness process to stop")
        before = diffs()
        memory_id = mg.store(type=MemoryType.SOLUTION, title="Nobody applies this but the web", content="w")
        wait_until(lambda: not freshness.beacon_fresh(), 10, what="a stale beacon")
        web.ensure_fresh()
        assert diffs() == before + 1 and title(web, memory_id) == "Nobody applies this but the web"
    finally:
        stop(worker)


WRITER = textwrap.dedent("""
    import os, sys, threading
    import django
    django.setup()
    from memories import services
    from memories import tagging
    from memories.store.registry import get_client, handle_for

    rounds, threads = int(sys.argv[1]), int(sys.argv[2])
    handle = handle_for(get_client("default"))
    handle.ensure_fresh()
    sys.stdin.readline()  # start together

    def write(n):
        for i in range(rounds):
            memory_id = services.memory_create(handle=handle, actor=None, fields={
                "type": "general", "title": f"{os.getpid()} {n} {i}", "content": "x"})
            tagging.tag_add(handle=handle, actor=None, memory_id=memory_id, tag=f"t{i % 3}")

    pool = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    print("done", flush=True)
""")


def test_our_concurrent_writers_in_several_processes_cause_no_diff(site):
    """Three processes with two writing threads each, through the services, all at once: every
    commit is claimed (in whatever order their read-model updates come), so no process ever
    diffs, and the read model holds exactly the file's rows with the file's stamp."""
    _, web, env = site
    rounds, before = 15, meta(web, "diffs")
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(rounds), "2"], cwd=ROOT, env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    time.sleep(3)  # Django set up in all three
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [proc.communicate(timeout=180) for proc in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0 and out.strip() == "done", err
    rm = web.readmodel
    assert meta(web, "diffs") == before  # not one diff, in any process
    assert rm.stamp() == web.store.change_stamp()
    assert dict(rm.conn.execute(sql.MEMORY_VERSIONS).fetchall()) == web.store.node_versions()
    assert rm.conn.execute("SELECT count(*) FROM memory").fetchone()[0] == 1 + 3 * 2 * rounds
    assert not rm.conn.execute("SELECT key FROM meta WHERE key LIKE 'claim %'").fetchall()


def test_claims_chain_when_their_read_model_updates_come_out_of_order(site):
    """Two commits of ours, the later one's read-model update first: it waits in meta, and the
    earlier one's moves the stamp over both."""
    _, web, _ = site
    rm, recorded = web.readmodel, web.readmodel.stamp()
    inode, counter = recorded.split(":")
    one, two = f"{inode}:{int(counter) + 1}", f"{inode}:{int(counter) + 2}"
    with rm.write() as conn:
        freshness.claim(conn, (one, two))
    assert rm.stamp() == recorded and rm.meta(freshness.CLAIM + one) == two
    with rm.write() as conn:
        freshness.claim(conn, (recorded, one))
    assert rm.stamp() == two and rm.meta(freshness.CLAIM + one) is None
    with rm.write() as conn:  # behind the recorded stamp: dropped, never kept
        freshness.claim(conn, (recorded, one))
    assert rm.stamp() == two and rm.meta(freshness.CLAIM + recorded) is None


def test_a_graph_view_in_a_web_process_starts_no_thread_while_commits_wait(site, client, django_user_model):
    """The web worker leaves the memorygraph commit to the (fresh-beaconed) freshness process and
    starts nothing of its own to apply it."""
    mg, web, _ = site
    from memories.models import Membership

    user = django_user_model.objects.create_user("alice", password="pw")
    Membership.objects.create(user=user, client=web.client, role=Membership.VIEWER)
    client.force_login(user)
    freshness.beacon_touch()
    memory_id = mg.store(type=MemoryType.SOLUTION, title="Waiting for the freshness process", content="v")
    before_threads, before = set(threading.enumerate()), diffs()
    for url in (f"/c/default/graph/?memory={memory_id}&depth=2", "/c/default/graph/?format=json"):
        assert client.get(url).status_code in (200, 202, 404), url
        assert set(threading.enumerate()) == before_threads, url
    assert diffs() == before


def test_the_diff_reads_in_pages_that_writers_commit_between(site):
    """The diff holds no snapshot of the file: between two pages of its reads another writer's
    commit goes through at once (a 0.1 s busy timeout), and the next diff applies it."""
    mg, web, _ = site
    for n in range(5):
        mg.store(type=MemoryType.GENERAL, title=f"one of several {n}", content="p")
    store = web.store
    pages = store.iter_versions(paged=True, batch=2)
    seen = [next(pages) for _ in range(3)]  # into the second page
    writer = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import json, sqlite3, sys
        conn = sqlite3.connect(sys.argv[1], timeout=0.1)
        props = {"id": "between-pages", "type": "general", "title": "Between two pages", "content": "b",
                 "tags": [], "importance": 0.5, "confidence": 0.8, "created_at": "2026-12-01T00:00:00+00:00",
                 "updated_at": "2026-12-01T00:00:00+00:00"}
        conn.execute("INSERT INTO nodes (id, label, properties, created_at, updated_at) VALUES "
                     "(?, 'Memory', ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                     ("between-pages", json.dumps(props)))
        conn.commit()
        """), web.client.path], capture_output=True, text=True, timeout=30)
    assert writer.returncode == 0, writer.stderr
    seen += list(pages)
    assert "between-pages" in {memory_id for memory_id, _ in seen}  # a new row's rowid is ahead
    assert len(seen) == 1 + 5 + 1
    web.ensure_fresh()
    assert title(web, "between-pages") == "Between two pages"
    assert web.readmodel.stamp() == store.change_stamp()
