"""Group commit (memories/store/groupcommit.py): concurrent writes of one process share a commit,
each validated and answered on its own, one bad write failing alone."""
import sqlite3
import threading
import time

import pytest

from memories import services
from memories.format import FormatError
from memories.models import AuditEntry
from memories.store.groupcommit import MAX_WRITES, group_for

pytestmark = pytest.mark.django_db(transaction=True)


def counter(handle):
    """The file's change counter: one step per commit (read through the store's own connection:
    opening the file here would drop this process's SQLite locks on it)."""
    return int(handle.store.change_stamp().split(":")[1])


def held(handle, writes):
    """Run each write in a thread of its own while the handle's lock is held, release it once all
    are queued (so they commit as one group), and return each one's result or exception."""
    results = [None] * len(writes)

    def run(i):
        try:
            results[i] = writes[i]()
        except Exception as exc:  # noqa: BLE001 - the test looks at each answer
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(writes))]
    group = group_for(handle)
    with handle.lock:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len(group._queue) < len(writes) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(group._queue) == len(writes)
    for thread in threads:
        thread.join(10)
    return results


def new(handle, user, title, **kwargs):
    return lambda: services.memory_create(handle=handle, actor=user, fields={
        "type": "general", "title": title, "content": "grouped"}, **kwargs)


def test_concurrent_stores_share_one_commit_and_each_gets_its_own_answer(handle, user):
    taken = new(handle, user, "first")()
    before, audits = counter(handle), AuditEntry.objects.count()
    writes = [new(handle, user, f"agent note {i}") for i in range(6)]
    writes.insert(2, new(handle, user, "same id again", memory_id=taken))
    writes.insert(4, lambda: services.memory_update(handle=handle, actor=user, memory_id="no-such-memory",
                                                    fields={"title": "x"}))
    results = held(handle, writes)
    assert isinstance(results[2], services.Conflict) and isinstance(results[4], services.NotFound)
    stored = [r for i, r in enumerate(results) if i not in (2, 4)]
    assert all(isinstance(r, str) for r in stored) and len(set(stored)) == 6
    assert counter(handle) == before + 1, "one commit for the group"
    rm = handle.readmodel.conn
    marks = ",".join("?" * 6)
    assert rm.execute(f"SELECT count(*) FROM memory WHERE id IN ({marks})", stored).fetchone()[0] == 6
    conn = sqlite3.connect(handle.client.path)
    assert conn.execute("SELECT count(*) FROM nodes WHERE id = ?", (taken,)).fetchone()[0] == 1
    conn.close()
    entries = AuditEntry.objects.filter(action="memory.create").exclude(object_id=taken)
    assert AuditEntry.objects.count() == audits + 6 and set(
        entries.values_list("object_id", flat=True)
    ) == set(stored)


def test_a_write_that_fails_after_writing_is_rolled_back_alone(handle, user):
    def half_then_fail(store):
        store.insert_node({"id": "half-written", "type": "general", "title": "half"})
        raise FormatError({"title": "refused after the insert"})

    def bad():
        return group_for(handle).submit(
            handle, half_then_fail, apply=services._apply, record=services._record
        )

    before = counter(handle)
    results = held(handle, [new(handle, user, "kept one"), bad, new(handle, user, "kept two")])
    assert isinstance(results[1], FormatError)
    assert isinstance(results[0], str) and isinstance(results[2], str)
    assert counter(handle) == before + 1
    conn = sqlite3.connect(handle.client.path)
    ids = {row[0] for row in conn.execute("SELECT id FROM nodes")}
    conn.close()
    assert "half-written" not in ids and {results[0], results[2]} <= ids


def test_relationships_and_deletes_group_with_stores(handle, user):
    a, b = new(handle, user, "cause")(), new(handle, user, "effect")()
    gone = new(handle, user, "to delete")()
    results = held(
        handle,
        [
            lambda: services.relationship_create(
                handle=handle, actor=user, from_id=a, to_id=b, rel_type="CAUSES"
            ),
            # Sees the first one's edge inside the shared transaction: it would close a cycle.
            lambda: services.relationship_create(
                handle=handle, actor=user, from_id=b, to_id=a, rel_type="CAUSES"
            ),
            lambda: services.memory_delete(handle=handle, actor=user, memory_id=gone),
            new(handle, user, "after the delete"),
        ],
    )
    # The threads queue in any order: whichever link comes second closes the cycle.
    linked, refused = sorted(results[:2], key=lambda r: isinstance(r, Exception))
    assert isinstance(linked, str) and isinstance(refused, FormatError) and results[2] is None
    rm = handle.readmodel.conn
    assert rm.execute("SELECT count(*) FROM edge WHERE id = ?", (linked,)).fetchone()[0] == 1
    assert rm.execute("SELECT count(*) FROM memory WHERE id = ?", (gone,)).fetchone()[0] == 0
    assert rm.execute("SELECT count(*) FROM memory WHERE id = ?", (results[3],)).fetchone()[0] == 1


def test_more_writes_than_a_group_holds_commit_in_several(handle, user):
    before = counter(handle)
    results = held(handle, [new(handle, user, f"many {i}") for i in range(MAX_WRITES + 3)])
    assert all(isinstance(r, str) for r in results)
    assert counter(handle) == before + 2


def test_a_writer_holding_the_handle_writes_at_once(handle, user):
    with handle.lock:  # as a bulk copy or a job does
        memory_id = new(handle, user, "inside the lock")()
    assert (
        handle.readmodel.conn.execute("SELECT title FROM memory WHERE id = ?", (memory_id,)).fetchone()[0]
        == "inside the lock"
    )


def test_cloud_api_stores_arriving_during_a_commit_share_the_next_one(handle, user):
    """A store through the cloud API does not wait for the handle's lock to probe freshness while
    this process writes (fresh_unless_writing): it queues for the next group at once."""
    import json

    from django.test import Client

    from memories.agents import keys

    _, raw = keys.api_key_create(client=handle.client, actor=user, name="grouped agent", role="write")

    def store(i):
        def post():
            response = Client().post(
                "/c/acme/api/memorygraph/memories", content_type="application/json",
                data=json.dumps({"type": "general", "title": f"api note {i}", "content": "grouped"}),
                HTTP_X_API_KEY=raw,
            )
            return response.status_code, response.json()

        return post

    Client().get("/c/acme/api/memorygraph/health", HTTP_X_API_KEY=raw)  # the worker's first request
    before = counter(handle)
    results = held(handle, [store(i) for i in range(4)])
    assert [status for status, _ in results] == [201] * 4
    assert {body["title"] for _, body in results} == {f"api note {i}" for i in range(4)}
    assert counter(handle) == before + 1


def test_stores_arriving_while_the_leader_waits_for_its_turn_join_its_group(handle, user):
    """The leader takes its group once the file is its own, not before waiting for it: stores that
    came while our other web worker's group held the writers' turn (store/writers.py; here a
    process holding the turn's flock) commit with it, not in a second commit after it."""
    import subprocess
    import sys

    new(handle, user, "opens the store")()
    before = counter(handle)
    holder = subprocess.Popen(
        [
            sys.executable, "-c", "import fcntl, os, sys\n"
            f"fd = os.open({str(handle.client.readmodel_path) + '-writers.lock'!r}, os.O_RDWR)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    results, threads = [None] * 4, []
    try:
        assert holder.stdout.readline().strip() == "held"

        def run(i):
            results[i] = new(handle, user, f"waited {i}")()

        group = group_for(handle)
        deadline = time.monotonic() + 10
        for i in range(4):
            threads.append(threading.Thread(target=run, args=(i,)))
            threads[-1].start()
            while not group._leading and time.monotonic() < deadline:
                time.sleep(0.005)  # the first is the leader, waiting for the turn
        while len(group._queue) < 4 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(group._queue) == 4, "the leader's own write waits in the queue with the others"
    finally:
        holder.communicate("\n", timeout=10)
    for thread in threads:
        thread.join(10)
    assert all(isinstance(r, str) for r in results) and len(set(results)) == 4
    assert counter(handle) == before + 1, "one commit for the four"
