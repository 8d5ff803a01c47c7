"""The canonical store connector: bad files get clear errors (503 on the web, never a 500),
a held write lock gives StoreBusy without half-writes, and a concurrent writer is safe."""
import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from memories import services, tagging
from memories.models import AuditEntry
from memories.store import canonical, registry, sql
from memories.store.canonical import CanonicalStore, StoreBusy, StoreError, StoreMissing, StoreSchemaError
from tests.support.clients import register_client
from tests.support.memorygraph import SERVER_WRITER

pytestmark = pytest.mark.django_db


def register(path, slug="bad"):
    return register_client(slug, path)


def make_tables(path, *statements):
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


# Each builder makes one kind of unusable file; ``expect`` is text the message must contain.
def _random_bytes(path):
    path.write_bytes(os.urandom(8192))


def _text_file(path):
    path.write_text("# not a database\nKB_MEMORY_DB=~/.memorygraph/memory.db\n" * 20)


def _zero_bytes(path):
    path.write_bytes(b"")


def _memorygraph_013(path):
    make_tables(path, "CREATE TABLE memories (id TEXT PRIMARY KEY, type TEXT, title TEXT, content TEXT, "
                      "summary TEXT, tags TEXT, importance REAL, created_at TEXT, updated_at TEXT)")


def _typed_turso(path):
    make_tables(
        path,
        "CREATE TABLE memories (id TEXT PRIMARY KEY, type TEXT NOT NULL, title TEXT NOT NULL, content TEXT, "
        "tags TEXT, importance REAL, confidence REAL, created_at TEXT, updated_at TEXT)",
        "CREATE TABLE relationships (id TEXT PRIMARY KEY, from_memory_id TEXT, to_memory_id TEXT, "
        "relationship_type TEXT, strength REAL, confidence REAL, context TEXT, created_at TEXT)",
    )


def _wrong_nodes(path):
    make_tables(
        path, "CREATE TABLE nodes (id INTEGER PRIMARY KEY, name TEXT, data BLOB)",
        "CREATE TABLE relationships (id TEXT PRIMARY KEY, from_id TEXT, to_id TEXT, rel_type TEXT, "
        "properties TEXT)",
    )


BAD_FILES = {
    "random-bytes": (_random_bytes, StoreError, "is not a SQLite database file"),
    "text-file": (_text_file, StoreError, "is not a SQLite database file"),
    "zero-bytes": (_zero_bytes, StoreSchemaError, "found no tables at all"),
    "memorygraph-0.13": (_memorygraph_013, StoreSchemaError, "found memories"),
    "typed-turso": (_typed_turso, StoreSchemaError, "found memories, relationships"),
    "wrong-nodes": (_wrong_nodes, StoreSchemaError, "columns data, id, name"),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_file_gives_a_clear_store_error(tmp_path, kind):
    build, error, expect = BAD_FILES[kind]
    path = tmp_path / f"{kind}.db"
    build(path)
    with pytest.raises(error) as caught:
        CanonicalStore(path)
    assert expect in str(caught.value) and str(path) in str(caught.value)


def test_schema_messages_name_what_was_found(tmp_path):
    """A `memories` table is a different memorygraph generation; say so, not just "wrong"."""
    for build in (_memorygraph_013, _typed_turso):
        path = tmp_path / f"{build.__name__}.db"
        build(path)
        with pytest.raises(StoreSchemaError, match="`memories` table is the schema of memorygraph 0.13"):
            CanonicalStore(path)
    path = tmp_path / "nodes.db"
    _wrong_nodes(path)
    with pytest.raises(StoreSchemaError, match=r"has a `nodes` table with columns .*not memorygraph's"):
        CanonicalStore(path)


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_file_gives_503_with_the_message(web, tmp_path, kind):
    build, _, expect = BAD_FILES[kind]
    path = tmp_path / f"{kind}.db"
    build(path)
    register(path)
    response = web.get("/c/bad/memories/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "The memory file cannot be used" in body and expect in body
    as_json = web.get("/c/bad/search/?q=x&format=json")
    assert as_json.status_code == 503 and expect in as_json.json()["error"]


def test_missing_file(web, tmp_path):
    path = tmp_path / "nowhere" / "memory.db"
    with pytest.raises(StoreMissing, match="does not exist"):
        CanonicalStore(path)
    register(path)
    response = web.get("/c/bad/memories/")
    assert response.status_code == 503 and b"does not exist" in response.content
    # Opening must never create the file: a typo in a path would otherwise look like an empty graph.
    assert not path.exists() and not path.parent.exists()


def test_directory_instead_of_file(web, tmp_path):
    with pytest.raises(StoreError):
        CanonicalStore(tmp_path)
    register(tmp_path)
    assert web.get("/c/bad/memories/").status_code == 503


def test_zero_byte_file_gets_the_schema_with_create(tmp_path):
    path = tmp_path / "new.db"
    _zero_bytes(path)
    store = CanonicalStore(path, create=True)
    try:
        assert store.temporal and store.has_valid_until and store.count_nodes() == 0
    finally:
        store.close()
    # The same file now opens as a plain, valid (empty) memorygraph file.
    CanonicalStore(path).close()


def test_create_does_not_touch_a_foreign_schema(tmp_path):
    """create=True initialises only an empty file; it must not add tables beside another schema."""
    path = tmp_path / "mg013.db"
    _memorygraph_013(path)
    with pytest.raises(StoreSchemaError, match="memories"):
        CanonicalStore(path, create=True)
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["memories"]
    conn.close()


# Busy: another process holds the write lock --------------------------------------------
#
# The lock holder and the concurrent writer must run in another process, as the memorygraph
# server does. In this process they would not contend at all: libsql links its own SQLite,
# and POSIX record locks never conflict within one process, so stdlib sqlite3 and libsql
# here ignore each other's locks (measured: writes "succeed" under BEGIN EXCLUSIVE, and a
# concurrent stdlib writer makes libsql fail with "disk I/O error" on its journal).

LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.rollback()
"""


@contextmanager
def lock_held_elsewhere(path):
    """Another process holds BEGIN EXCLUSIVE on path until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield
    finally:
        proc.stdin.write("\n")
        proc.stdin.close()
        assert proc.wait(10) == 0


def snapshot(handle):
    """Everything a failed write could have half-changed."""
    rm = handle.readmodel.conn
    return {
        "memories": rm.execute("SELECT id, version, tags FROM memory ORDER BY id").fetchall(),
        "edges": rm.execute("SELECT id, version FROM edge ORDER BY id").fetchall(),
        "facets": rm.execute("SELECT * FROM facet_count ORDER BY facet, value").fetchall(),
        "audit": AuditEntry.objects.count(),
    }


def canonical_rows(path):
    conn = sqlite3.connect(path)
    rows = (
        conn.execute("SELECT id, properties FROM nodes ORDER BY id").fetchall(),
        conn.execute("SELECT id, properties FROM relationships ORDER BY id").fetchall(),
    )
    conn.close()
    return rows


def test_held_lock_gives_store_busy_and_no_half_write(monkeypatch, client_db, user):
    # The timeout is read when the connection opens (CanonicalStore.__init__), and the
    # handle opens it lazily: patch before the first ensure_fresh, or it has no effect.
    monkeypatch.setattr(canonical, "BUSY_TIMEOUT_MS", 300)
    handle = registry.handle_for(client_db)
    handle.ensure_fresh()
    memory_id, other_id = [r[0] for r in handle.readmodel.conn.execute("SELECT id FROM memory LIMIT 2")]
    before, canonical_before = snapshot(handle), canonical_rows(client_db.path)

    attempts = {
        "create": lambda: services.memory_create(
            handle=handle, actor=user,
            fields={"type": "general", "title": "Written while locked", "content": "x"},
        ),
        "tag": lambda: tagging.tag_add(handle=handle, actor=user, memory_id=memory_id, tag="locked"),
        "relate": lambda: services.relationship_create(
            handle=handle, actor=user, from_id=memory_id, to_id=other_id, rel_type="PARALLEL_TO"
        ),
        "delete": lambda: services.memory_delete(handle=handle, actor=user, memory_id=memory_id),
    }
    with lock_held_elsewhere(client_db.path):
        for name, attempt in attempts.items():
            started = time.monotonic()
            with pytest.raises(StoreBusy, match="busy"):
                attempt()
            elapsed = time.monotonic() - started
            # It waited for the lock (the busy timeout is in effect), but not much longer.
            assert 0.2 <= elapsed < 3, (name, elapsed)
        assert snapshot(handle) == before

    assert canonical_rows(client_db.path) == canonical_before
    # The connection is not left inside a failed transaction: the same write now succeeds.
    tagging.tag_add(handle=handle, actor=user, memory_id=memory_id, tag="unlocked")
    assert "unlocked" in handle.store.node(memory_id)["tags"]
    assert (
        handle.ensure_fresh()
        .conn.execute("SELECT 1 FROM memory_tag WHERE tag = 'unlocked' AND memory_id = ?", (memory_id,))
        .fetchone()
    )


def test_held_lock_gives_503_on_the_web(monkeypatch, web, client_db):
    monkeypatch.setattr(canonical, "BUSY_TIMEOUT_MS", 200)
    assert web.get("/c/acme/memories/").status_code == 200  # opens the store with the short timeout
    with lock_held_elsewhere(client_db.path):
        response = web.post(
            "/c/acme/memories/new/",
            {
                "type": "general", "title": "Quuxly locked out", "content": "x", "importance": 0.5,
                "confidence": 0.8,
            },
        )
    assert response.status_code == 503 and b"is busy" in response.content
    assert web.get("/c/acme/search/?q=quuxly&format=json").json()["total"] == 0


# A concurrent writer: the memorygraph server's own connection, in its own process --------


def test_concurrent_writer_and_services(empty_file, user):
    handle = registry.handle_for(register(empty_file, slug="shared"))
    handle.ensure_fresh()
    rounds = 50
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER_WRITER, str(empty_file), str(rounds)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    ours = []
    try:
        server.stdin.write("go\n")
        server.stdin.flush()
        for n in range(rounds):
            if n % 2 == 0:
                ours.append(
                    services.memory_create(
                        handle=handle, actor=user,
                        fields={"type": "general", "title": f"site {n}", "content": "x"},
                    )
                )
            else:
                tagging.tag_add(handle=handle, actor=user, memory_id=ours[-1], tag="site")
    finally:
        out, err = server.communicate(timeout=60)
    assert server.returncode == 0 and out.strip() == "done", err

    rm = handle.ensure_fresh()
    titles = dict(rm.conn.execute("SELECT title, tags FROM memory").fetchall())
    assert len(titles) == rounds  # 25 of ours, 25 of the server's
    assert all(json.loads(titles[f"site {n}"]) == ["site"] for n in range(0, rounds, 2))
    assert all(json.loads(titles[f"server {n} updated"]) == ["server"] for n in range(0, rounds, 2))
    # The read model agrees with the canonical file row for row.
    assert dict(rm.conn.execute(sql.MEMORY_VERSIONS).fetchall()) == handle.store.node_versions()


def test_pages_survive_json_nested_deeper_than_python_parses(web, client_db, memory_file):
    """Another writer may leave anything in the file: properties, or a context value readers
    decode again, nested 100,000 deep must not take the list, search or memory page down."""
    deep = "[" * 100_000 + "]" * 100_000
    good = {
        "id": "deep-value", "type": "general", "title": "Deep value", "content": "Deep.", "tags": [],
        "importance": 0.5, "confidence": 0.8, "usage_count": 0, "created_at": "2026-11-01T00:00:00+00:00",
        "updated_at": "2026-11-01T00:00:00+00:00", "context_additional_metadata": deep,
    }
    conn = sqlite3.connect(memory_file)
    conn.execute(
        "INSERT INTO nodes (id, label, properties, created_at, updated_at) "
        "VALUES ('deep-value', 'Memory', ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", (json.dumps(good),),
    )
    conn.execute(
        "INSERT INTO nodes (id, label, properties, created_at, updated_at) "
        "VALUES ('deep-props', 'Memory', ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", (deep,),
    )
    conn.commit()
    conn.close()
    for url in (
        "/c/acme/memories/", "/c/acme/search/?q=deep", "/c/acme/memories/deep-value/",
        "/c/acme/memories/deep-props/",
    ):
        assert web.get(url).status_code == 200, url


def test_change_stamp_moves_per_commit_and_keeps_the_write_lock(empty_file):
    """The stamp is read through SQLite, not by opening the file: closing a second descriptor
    would drop this process's locks, and another process could then write inside our transaction."""
    store = CanonicalStore(empty_file)
    try:
        first = store.change_stamp()
        with store.transaction():
            store.insert_node({"id": "m1", "type": "general", "title": "t", "content": "c"})
            assert store.change_stamp() == first
            writer = subprocess.run(
                [
                    sys.executable, "-c",
                    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=0.2); "
                    "c.execute(\"DELETE FROM nodes WHERE id = 'none'\"); "
                    "c.execute('CREATE TABLE t (x)'); c.commit()", str(empty_file),
                ],
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert "database is locked" in writer.stderr
        second = store.change_stamp()
        assert int(second.split(":")[1]) == int(first.split(":")[1]) + 1
        assert store.take_commit() == (first, second) and store.take_commit() is None  # the only commit
    finally:
        store.close()
