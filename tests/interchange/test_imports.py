"""Imports from the web and the command line: memorygraph files (every shape) and JSON
exports written by the real memorygraph package, claude-flow and mcp-turso stores built
here, and bad input of every kind."""
import asyncio
import io
import json
import os
import sqlite3
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from memorygraph.models import MemoryType, RelationshipType
from memorygraph.utils.export_import import export_to_json

from memories.interchange.imports import plans, readers, refusals, runs
from memories.interchange.sides import ClientSide
from memories.models import AuditEntry, ImportJob
from memories.store import registry
from memories.store.canonical import CanonicalStore
from memories.worker.models import Job
from tests.support.clients import register_client
from tests.support.jobs import run_jobs
from tests.support.memorygraph import (
    REFUSED_EDGES,
    REFUSED_NODES,
    Server,
    add_refused_rows,
    assert_memorygraph_reads_neighbourhoods,
    build_old_file,
)

pytestmark = [pytest.mark.interop, pytest.mark.django_db]


@pytest.fixture
def laptop(tmp_path):
    path = tmp_path / "memory.db"
    server = Server(path)
    a = server.store(
        type=MemoryType.ERROR, title="OOMKilled in the indexer", content="RSS grows with batch size",
        tags=["k8s"],
    )
    b = server.store(
        type=MemoryType.FIX, title="Stream the batches", content="Use a generator", summary="Bounded"
    )
    server.relate(b, a, RelationshipType.SOLVES, strength=0.9)
    server.close()
    return path, a, b


def upload(web, slug, name, data):
    return web.post(f"/c/{slug}/import/", {"file": SimpleUploadedFile(name, data)})


def preview(web, response):
    assert response.status_code == 302, response.content[:800]
    return web.get(response["Location"] + "?format=json").json()


def run(web, job):
    response = web.post(f"/c/team/import/{job['id']}/run/")
    assert response.status_code == 302
    return web.get(response["Location"] + "?format=json").json()


def test_a_memorygraph_file_previews_then_imports_then_is_identical(team, web, laptop):
    path, a, b = laptop
    job = preview(web, upload(web, "team", "memory.db", path.read_bytes()))
    assert job["status"] == "preview" and job["source"].startswith("memorygraph SQLite file (0.10+")
    counts = job["preview"]["counts"]
    assert (counts["new"], counts["relationships_new"], counts["invalid"]) == (2, 1, 0)
    assert team.store.count_nodes() == 0  # the preview wrote nothing
    page = web.get(f"/c/team/import/{job['id']}/")
    assert b"New memories" in page.content and b"Import 3 rows" in page.content
    done = run(web, job)
    assert done["status"] == "done" and done["result"] == {"memories": 2, "relationships": 1}
    # Rows verbatim: what memorygraph wrote is what the client database now holds.
    theirs = CanonicalStore(str(path)).node_rows([a, b])
    assert team.store.node_rows([a, b]) == theirs
    assert web.get("/c/team/search/?q=indexer&format=json").json()["total"] == 1
    again = preview(web, upload(web, "team", "memory.db", path.read_bytes()))["preview"]["counts"]
    assert (again["new"], again["identical"], again["relationships_identical"]) == (0, 2, 1)
    assert AuditEntry.objects.filter(action="import").count() == 1


@pytest.mark.parametrize("shape", ["none", "half"])
def test_old_memorygraph_shapes_import(team, tmp_path, shape):
    path = tmp_path / f"old-{shape}.db"
    ids = build_old_file(path, shape)
    incoming = readers.read_path(path, max_bytes=10**8)
    assert ("0.9 or older" if shape == "none" else "half-migrated") in incoming.source
    plan = plans.plan(incoming, ClientSide(team))
    assert plan.counts["new"] == 3 and plan.counts["relationships_new"] == 1
    plans.apply(plan, ClientSide(team))
    edge = next(iter(team.store.edge_rows(["rel-old-1"]).values()))
    assert (edge.from_id, edge.to_id, edge.rel_type) == (ids[1], ids[0], "SOLVES")
    assert json.loads(edge.properties)["context"] == "pinning fixed it"
    server = Server(team.client.path)  # the real server reads the result
    try:
        assert server.get(ids[0]).title == "ImportError after upgrade"
    finally:
        server.close()


def test_memorygraph_json_exports_2_0_and_1_0(team, web, laptop, tmp_path):
    path, a, b = laptop
    server = Server(path)
    out = tmp_path / "export.json"
    try:
        asyncio.run(export_to_json(server.db, str(out)))
    finally:
        server.close()
    data = json.loads(out.read_text())
    assert data["format_version"] == "2.0"
    job = preview(web, upload(web, "team", "export.json", out.read_bytes()))
    assert job["source"] == "memorygraph JSON export (format 2.0)"
    assert (job["preview"]["counts"]["new"], job["preview"]["counts"]["relationships_new"]) == (2, 1)
    run(web, job)
    props = team.store.node(a)
    exported = next(m for m in data["memories"] if m["id"] == a)
    # Unlike memorygraph's own importer, the timestamps are kept.
    assert props["title"] == "OOMKilled in the indexer" and props["created_at"] == exported["created_at"]
    assert props["updated_at"] == exported["updated_at"]
    old = {"export_version": "1.0", "memories": data["memories"], "relationships": data["relationships"]}
    job = preview(web, upload(web, "team", "old.json", json.dumps(old).encode()))
    assert (
        job["source"] == "memorygraph JSON export (format 1.0)" and job["preview"]["counts"]["identical"] == 2
    )


def claude_flow_file(path, version):
    conn = sqlite3.connect(path)
    if version == 2:
        conn.execute(
            "CREATE TABLE memory_entries (id INTEGER PRIMARY KEY, key TEXT, value TEXT, namespace TEXT, "
            "metadata TEXT, created_at INTEGER, updated_at INTEGER, accessed_at INTEGER, "
            "access_count INTEGER, ttl INTEGER, expires_at INTEGER, UNIQUE(key, namespace))"
        )
        conn.executemany(
            "INSERT INTO memory_entries (key, value, namespace, metadata, created_at, updated_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    "auth/jwt-rotation", "Rotate signing keys weekly", "decisions",
                    json.dumps({"tags": ["Security"]}), 1_760_000_000, 1_760_000_100, None,
                ),
                ("cache/ttl", "Cache TTL is 5 minutes", "config", None, 1_760_000_000, None, None),
                ("tmp/scratch", "old", "scratch", None, 1_700_000_000, None, 1_700_000_500),
                ("empty/value", "", "config", None, 1_760_000_000, None, None),
            ],
        )
    else:
        conn.execute(
            "CREATE TABLE memory_entries (id TEXT PRIMARY KEY, key TEXT, content TEXT, type TEXT, "
            "namespace TEXT, metadata TEXT, status TEXT, created_at INTEGER, updated_at INTEGER, "
            "accessed_at INTEGER, access_count INTEGER, ttl INTEGER, expires_at INTEGER)"
        )
        conn.executemany(
            "INSERT INTO memory_entries (id, key, content, type, namespace, status, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    "e1", "retry-with-jitter", "Exponential backoff with full jitter", "pattern", "patterns",
                    "active", 1_760_000_000_000, 1_760_000_500_000,
                ),
                ("e2", "gone", "deleted one", "task", "tasks", "deleted", 1_760_000_000_000, None),
            ],
        )
    conn.commit()
    conn.close()


def test_claude_flow_v2_and_v3(team, tmp_path):
    v2, v3 = tmp_path / "v2.db", tmp_path / "v3.db"
    claude_flow_file(v2, 2)
    claude_flow_file(v3, 3)
    incoming = readers.read_path(v2, max_bytes=10**8)
    assert incoming.source == "claude-flow .swarm/memory.db (v2)"
    reasons = dict(incoming.invalid)
    assert "expired" in reasons["claude-flow entry scratch/tmp/scratch"]
    assert "Content is required" in reasons["claude-flow entry config/empty/value"]
    rows = {json.loads(r.properties)["title"]: json.loads(r.properties) for r in incoming.nodes.values()}
    jwt = rows["auth/jwt-rotation"]
    assert jwt["tags"] == ["claude-flow", "decisions", "security"] and jwt["type"] == "general"
    assert jwt["created_at"].startswith("2025-10-09") and jwt["updated_at"] > jwt["created_at"]
    assert json.loads(jwt["context_additional_metadata"])["namespace"] == "decisions"
    incoming3 = readers.read_path(v3, max_bytes=10**8)
    assert incoming3.source == "claude-flow .swarm/memory.db (v3)"
    (row,) = incoming3.nodes.values()
    props = json.loads(row.properties)
    assert props["type"] == "code_pattern" and props["tags"] == ["claude-flow", "patterns"]
    assert dict(incoming3.invalid) == {"claude-flow entry tasks/gone": "deleted in claude-flow"}
    # Importing twice updates, never duplicates: ids derive from namespace and key.
    for _ in range(2):
        plans.apply(plans.plan(readers.read_path(v2, max_bytes=10**8), ClientSide(team)), ClientSide(team))
    assert team.store.count_nodes() == 2


def test_mcp_turso_knowledge_base(team, tmp_path):
    path = tmp_path / "kb.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE knowledge_base (id INTEGER PRIMARY KEY, topic TEXT, content TEXT, source TEXT, "
        "category TEXT, tags TEXT, priority INTEGER, metadata TEXT, created_at TEXT, updated_at TEXT)"
    )
    conn.executemany(
        "INSERT INTO knowledge_base VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                1, "Postgres vacuum", "Autovacuum thresholds per table", "runbook", "Databases",
                "postgres, ops", 5, '{"owner": "dba"}', "2025-06-01 12:00:00", None,
            ),
            (
                2, "Deploy freeze", "No deploys on Fridays", None, None, '["Process"]', 2, None,
                "2025-06-02T09:00:00Z", "2025-06-03T09:00:00Z",
            ),
        ],
    )
    conn.commit()
    conn.close()
    incoming = readers.read_path(path, max_bytes=10**8)
    assert incoming.source == "mcp-turso knowledge_base"
    rows = {json.loads(r.properties)["title"]: json.loads(r.properties) for r in incoming.nodes.values()}
    vacuum, freeze = rows["Postgres vacuum"], rows["Deploy freeze"]
    assert vacuum["tags"] == ["mcp-turso", "databases", "postgres", "ops"] and vacuum["importance"] == 1.0
    assert json.loads(vacuum["context_additional_metadata"]) == {
        "source_store": "mcp-turso", "owner": "dba", "source": "runbook",
    }
    assert freeze["tags"] == ["mcp-turso", "process"] and freeze["importance"] == 0.25
    assert freeze["updated_at"].startswith("2025-06-03")


# Bad input -----------------------------------------------------------------------------------


def test_files_that_cannot_be_imported_get_a_clear_400(team, web, tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE memories (id TEXT)")
    conn.commit()
    conn.close()
    cases = {
        "other.db": (other.read_bytes(), b"found memories"),
        "corrupt.db": (b"SQLite format 3\x00" + b"\xff" * 5000, b"not a readable SQLite database"),
        "notes.txt": (b"just some text", b"neither a SQLite database"),
        "bad.json": (b'{"memories": [', b"The JSON is not valid"),
        "nolists.json": (b'{"format_version": "2.0"}', b"no memories or relationships list"),
        "noversion.json": (b'{"memories": [], "relationships": []}', b"no format_version"),
    }
    for name, (data, message) in cases.items():
        response = upload(web, "team", name, data)
        assert response.status_code == 400 and message in response.content, (name, response.content[-600:])
    assert ImportJob.objects.count() == 0 and team.store.count_nodes() == 0
    assert upload(web, "team", "x.db", b"").status_code == 400


def test_rows_that_break_the_format_are_listed_with_reasons(team, web):
    good = {"id": "a1", "type": "fix", "title": "Fine", "content": "ok"}
    document = {
        "format_version": "2.0",
        "memories": [
            good, {"id": "a2", "type": "fix", "title": "x" * 201, "content": "too long a title"},
            {"id": "a3", "type": "spell", "title": "Bad type", "content": "c"},
            {"id": "a4", "type": "fix", "content": "no title"},
            {"id": "dup", "type": "fix", "title": "One", "content": "first"},
            {"id": "dup", "type": "fix", "title": "Two", "content": "second"}, {**good, "importance": 7},
        ],
        "relationships": [
            {"from_memory_id": "a1", "to_memory_id": "missing", "type": "SOLVES"},
            {"from_memory_id": "a1", "to_memory_id": "a1", "type": "SOLVES"},
            {"from_memory_id": "a1", "type": "SOLVES"},
        ],
    }
    job = preview(web, upload(web, "team", "mixed.json", json.dumps(document).encode()))
    reasons = " | ".join(r["reason"] for r in job["preview"]["invalid"])
    assert "at most 200 characters" in reasons and "Unknown memory type 'spell'" in reasons
    assert "missing title" in reasons and "more than once with different contents" in reasons
    assert "between 0 and 1" in reasons and "related to itself" in reasons
    assert "neither in the file nor in the database" in reasons and "missing from_memory_id" in reasons
    assert job["preview"]["counts"]["new"] == 1  # only "Fine": the duplicate id is refused both times
    page = web.get(f"/c/team/import/{job['id']}/")
    assert b"Not imported" in page.content
    done = run(web, job)
    assert done["result"]["memories"] == 1 and team.store.count_nodes() == 1


def test_rows_memorygraph_would_refuse_are_listed_and_what_is_imported_reads_back(team, web, laptop):
    """Issue 10, defects 5 and 6: a memorygraph file holding rows its own models refuse (and ids no
    URL can hold) imports only the rest, and memorygraph then reads every neighbourhood."""
    path, a, b = laptop
    add_refused_rows(path, a, b)
    job = preview(web, upload(web, "team", "memory.db", path.read_bytes()))
    reasons = {item["what"]: item["reason"] for item in job["preview"]["invalid"]}
    for memory_id, (_, named) in REFUSED_NODES.items():
        [reason] = [r for what, r in reasons.items() if what.startswith(f"memory {memory_id} (")]
        assert named in reason, (memory_id, reason)
    for rel_id, (_, named) in REFUSED_EDGES.items():
        assert named in reasons[f"relationship {rel_id}"], (rel_id, reasons[f"relationship {rel_id}"])
    counts = job["preview"]["counts"]
    assert (counts["new"], counts["relationships_new"]) == (2, 1)
    assert counts["invalid"] == len(REFUSED_NODES) + len(REFUSED_EDGES)
    run(web, job)
    assert set(team.store.node_versions()) == {a, b}
    assert_memorygraph_reads_neighbourhoods(team.client.path)


def test_json_rows_memorygraph_would_refuse_are_listed_and_what_is_imported_reads_back(team, web):
    memories = [{"id": i, "type": "fix", "title": f"Memory {i}", "content": "body"} for i in ("m1", "m2")]
    memories += [
        {"id": "slash/id", "type": "fix", "title": "Slash", "content": "c"},
        {"id": "x" * 129, "type": "fix", "title": "Too long an id", "content": "c"},
        {"id": "ctx-number", "type": "fix", "title": "c", "content": "c", "context": {"project_path": 5}},
        {
            "id": "ctx-text-list", "type": "fix", "title": "c", "content": "c",
            "context": {"languages": "python"},
        },
        {"id": "ctx-list", "type": "fix", "title": "c", "content": "c", "context": ["not", "an", "object"]},
    ]
    good = {"from_memory_id": "m1", "to_memory_id": "m2", "type": "SOLVES", "properties": {"strength": 0.9}}
    relationships = [good] + [
        {"from_memory_id": "m2", "to_memory_id": "m1", "type": t, "properties": p}
        for t, p in (
            ("CAUSES", {"strength": 5}), ("BLOCKS", {"confidence": -3}), ("ENABLES", {"strength": "@inf@"}),
            ("FOLLOWS", {"strength": "@nan@"}), ("REQUIRES", {"evidence_count": {"n": 2}}),
            ("IMPROVES", {"context": {"text": "an object"}}), ("BREAKS", {"evidence_count": -1}),
            ("USED_IN", "not an object"),
        )
    ]
    relationships.append({"from_memory_id": "m1", "to_memory_id": "slash/id", "type": "RELATED_TO"})
    text = json.dumps({"format_version": "2.0", "memories": memories, "relationships": relationships})
    text = text.replace('"@inf@"', "Infinity").replace('"@nan@"', "NaN")  # Python's json reads both
    job = preview(web, upload(web, "team", "export.json", text.encode()))
    reasons = [f"{item['what']}: {item['reason']}" for item in job["preview"]["invalid"]]
    for needle in (
        "'slash/id' is not of memorygraph's form", "'xxxxx", "context_project_path must be text",
        "context_languages must be a list of text", "context must be an object",
        "strength must be a number between 0 and 1", "confidence must be a number between 0 and 1",
        "evidence_count must be a whole number", "context must be text", "properties must be an object",
    ):
        assert any(needle in reason for reason in reasons), (needle, reasons)
    counts = job["preview"]["counts"]
    assert (counts["new"], counts["relationships_new"], counts["invalid"]) == (2, 1, 5 + 9)
    run(web, job)
    assert set(team.store.node_versions()) == {"m1", "m2"}
    assert_memorygraph_reads_neighbourhoods(team.client.path)


def test_uploads_over_the_limit_get_413_and_nothing_is_kept(team, web, settings, tmp_path):
    settings.KB_UPLOAD_MAX_MB = 1
    settings.KB_UPLOAD_MAX_BYTES = 1024 * 1024
    response = upload(web, "team", "big.json", b" " * (3 * 1024 * 1024))
    assert response.status_code == 413 and b"upload limit of 1 MB" in response.content
    assert not (settings.DATA_DIR / "uploads").exists() or not any((settings.DATA_DIR / "uploads").iterdir())
    # A body that claims a small length is still cut off while it is read.
    from django.core.files.uploadhandler import StopUpload

    from memories.interchange.imports.views import LimitedUpload

    handler = LimitedUpload(None, 10)
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"x" * 11, 0)


def test_a_zip_bomb_is_refused_before_unpacking(team, web, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("memory.db", b"\0" * (60 * 1024 * 1024))
    assert len(buffer.getvalue()) < 1024 * 1024
    response = upload(web, "team", "bomb.zip", buffer.getvalue())
    assert response.status_code == 400 and b"looks like a zip bomb" in response.content
    assert not list(tmp_path.rglob("*.unzipped"))


def test_a_zipped_memorygraph_file_imports(team, web, laptop):
    path, _, _ = laptop
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, "memory.db")
    job = preview(web, upload(web, "team", "memory.zip", buffer.getvalue()))
    assert job["preview"]["counts"]["new"] == 2


def test_only_editors_import(client_db, client, laptop):
    from django.contrib.auth import get_user_model

    from memories.models import Membership

    viewer = get_user_model().objects.create_user("vic", password="x")
    Membership.objects.create(user=viewer, client=client_db, role=Membership.VIEWER)
    client.force_login(viewer)
    path, _, _ = laptop
    assert client.get("/c/acme/import/").status_code == 403
    assert (
        client.post("/c/acme/import/", {"file": SimpleUploadedFile("m.db", path.read_bytes())}).status_code
        == 403
    )
    assert ImportJob.objects.count() == 0


def test_discard_keeps_nothing(team, web, laptop):
    path, _, _ = laptop
    job = preview(web, upload(web, "team", "memory.db", path.read_bytes()))
    stored = ImportJob.objects.get(pk=job["id"]).path
    assert web.post(f"/c/team/import/{job['id']}/discard/").status_code == 302
    assert ImportJob.objects.get(pk=job["id"]).status == "discarded"
    import os

    assert not os.path.exists(stored) and team.store.count_nodes() == 0
    assert web.post(f"/c/team/import/{job['id']}/run/").status_code == 409


def test_the_command_line_import(team, laptop, capsys):
    path, _, _ = laptop
    call_command("kb_import", str(path), "--client", "team", "--dry-run", verbosity=0)
    assert "2 new" in capsys.readouterr().out and team.store.count_nodes() == 0
    call_command("kb_import", str(path), "--client", "team", verbosity=0)
    assert "Imported 2 memories and 1 relationships" in capsys.readouterr().out
    with pytest.raises(CommandError, match="not a file"):
        call_command("kb_import", str(path) + ".nope", "--client", "team")


@pytest.mark.django_db(transaction=True)
def test_a_big_import_is_a_worker_job_with_progress(tmp_path, user, client, empty_file):
    from memories.devdata.loader import load_graph
    from memories.devdata.synthetic import synthetic_graph

    source = tmp_path / "big.db"
    memories, relationships = synthetic_graph(1500, seed=3)
    load_graph(str(source), memories, relationships)
    handle = registry.handle_for(register_client("team", empty_file))
    handle.ensure_fresh()
    client.force_login(user)
    response = upload(client, "team", "big.db", source.read_bytes())
    assert source.stat().st_size > runs.PREVIEW_INLINE_BYTES  # so the worker reads it, not the request
    job = preview(client, response)
    assert job["analysing"] and job["status"] == "preview" and not job["total"]
    page = client.get(response["Location"])
    assert (
        b"Analysing" in page.content and b'hx-trigger="every 1s"' in page.content
        and b"Import 0" not in page.content
    )
    run_jobs()
    job = preview(client, response)
    assert not job["analysing"] and job["total"] > 2000 and job["work"]["status"] == "done"
    client.post(f"/c/team/import/{job['id']}/run/")
    # The request only queued it: the upload is running, its job waits for the worker.
    assert client.get(f"/c/team/import/{job['id']}/?format=json").json()["status"] == "running"
    assert handle.store.count_nodes() == 0
    work = Job.objects.get(kind="import", params__import=job["id"])
    assert work.status == "queued" and work.progress_total == job["total"]
    assert b"Queued" in client.get(f"/c/team/jobs/{work.pk}/").content
    run_jobs()
    state = client.get(f"/c/team/import/{job['id']}/?format=json").json()
    assert state["status"] == "done", state["message"]
    work.refresh_from_db()
    assert work.status == "done" and work.progress_done == work.progress_total and work.attempts == 1
    assert handle.store.count_nodes() == 1500
    fragment = client.get(f"/c/team/import/{job['id']}/", HTTP_HX_REQUEST="true")
    assert b"Imported 1500 memories" in fragment.content and b"<html" not in fragment.content


def _contents(handle):
    """Every memory's properties and every relationship's ends, type and properties."""
    conn = handle.readmodel.conn
    memories = {r[0]: json.loads(r[1]) for r in conn.execute("SELECT id, props FROM memory")}
    edges = {
        (r[0], r[1], r[2]): json.loads(r[3])
        for r in conn.execute("SELECT from_id, to_id, rel_type, props FROM edge")
    }
    return memories, edges


@pytest.mark.parametrize("fmt", ["sqlite", "json"])
def test_export_then_import_gives_identical_rows(client_db, handle, web, tmp_path, fmt):
    """The demo graph exported, then imported into an empty client database: the same rows."""
    data = b"".join(web.get(f"/c/acme/export/?format={fmt}").streaming_content)
    empty = tmp_path / "target.db"
    CanonicalStore(str(empty), create=True).close()
    target = registry.handle_for(register_client("target", empty))
    target.ensure_fresh()
    job = preview(web, upload(web, "target", "export.db" if fmt == "sqlite" else "export.json", data))
    assert job["preview"]["counts"]["invalid"] == 0, job["preview"]["invalid"][:3]
    done = web.post(f"/c/target/import/{job['id']}/run/")
    assert done.status_code == 302
    ours, theirs = _contents(handle), _contents(target)
    assert ours[0] == theirs[0]  # every memory's properties, timestamps included
    if fmt == "sqlite":
        assert ours[1] == theirs[1]  # relationships as stored
        assert handle.store.node_rows(list(ours[0])) == target.store.node_rows(list(ours[0]))
    else:
        # memorygraph's JSON keeps each current relationship's ends, type, strength and confidence only.
        assert set(theirs[1]) == {k for k, v in ours[1].items() if not v.get("valid_until")}
        assert all(theirs[1][k]["strength"] == ours[1][k]["strength"] for k in theirs[1])


@pytest.mark.parametrize("length, status", [("abc", 400), ("²", 400), ("1e9", 400), ("9" * 5000, 413)])
def test_an_upload_whose_length_is_not_a_number_gets_400(team, web, length, status):
    # The length is read before Django's own parser; int() refuses "²" and 4,301 digits.
    response = web.generic(
        "POST", "/c/team/import/", b"", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=length
    )
    assert response.status_code == status
    assert b"Content-Length" in response.content or b"upload limit" in response.content


# Hostile input (issue 10, defect 7): never a 500, nothing half-written, nothing left on disk -------


def _left_on_disk(settings):
    uploads = settings.DATA_DIR / "uploads"
    return [p for p in uploads.rglob("*") if p.is_file() and p.name != ".lock"] if uploads.exists() else []


def _export(memories, relationships=()):
    return json.dumps({"format_version": "2.0", "memories": memories, "relationships": list(relationships)})


GOOD = {"id": "good-1", "type": "fix", "title": "Fine", "content": "ok"}


def test_out_of_range_epochs_in_a_json_export_make_only_those_rows_invalid(team, web):
    text = _export(
        [
            GOOD, {**GOOD, "id": "e1", "created_at": 1e20}, {**GOOD, "id": "e2", "created_at": -1e20},
            {**GOOD, "id": "e3", "updated_at": "@BIG@"}, {**GOOD, "id": "e4", "created_at": "@NAN@"},
            {**GOOD, "id": "e5", "created_at": True},
        ]
    )
    data = text.replace('"@BIG@"', str(10**400)).replace('"@NAN@"', "NaN").encode()
    job = preview(web, upload(web, "team", "epochs.json", data))
    invalid = {row["what"]: row["reason"] for row in job["preview"]["invalid"]}
    assert job["preview"]["counts"]["new"] == 1 and len(invalid) == 5, invalid
    assert all("not a time" in reason for reason in invalid.values()), invalid
    assert "created_at" in invalid["memories[1] e1"] and "updated_at" in invalid["memories[3] e3"]
    done = run(web, job)
    assert done["result"]["memories"] == 1 and team.store.count_nodes() == 1
    # Nothing valid at all is still a preview with every row listed, not a 500.
    only_bad = preview(
        web, upload(web, "team", "bad.json", _export([{**GOOD, "created_at": -1e20}]).encode())
    )
    assert only_bad["preview"]["counts"]["invalid"] == 1 and only_bad["total"] == 0


def test_out_of_range_epochs_in_claude_flow_and_mcp_turso_stores(team, tmp_path):
    v2, v3, kb = tmp_path / "v2.db", tmp_path / "v3.db", tmp_path / "kb.db"
    claude_flow_file(v2, 2)
    claude_flow_file(v3, 3)
    conn = sqlite3.connect(v2)
    conn.executemany(
        "INSERT INTO memory_entries (key, value, namespace, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        [
            ("far", "x", "t", 9 * 10**18, None), ("real", "x", "t", 1e20, None),
            ("before", "x", "t", -1e20, None), ("ttl", "x", "t", 1_760_000_000, "soon"),
        ],
    )
    conn.commit()
    conn.close()
    conn = sqlite3.connect(v3)
    conn.execute(
        "INSERT INTO memory_entries (id, key, content, type, namespace, status, created_at, updated_at) "
        "VALUES ('e9', 'later', 'x', 'task', 'tasks', 'active', 1760000000000, 1e20)"
    )
    conn.commit()
    conn.close()
    conn = sqlite3.connect(kb)
    conn.execute(
        "CREATE TABLE knowledge_base (id INTEGER PRIMARY KEY, topic TEXT, content TEXT, created_at, "
        "updated_at)"
    )
    conn.executemany(
        "INSERT INTO knowledge_base VALUES (?, ?, ?, ?, ?)",
        [
            (1, "Fine", "ok", "2025-06-01 12:00:00", None), (2, "Big", "x", 1e20, None),
            (3, "Small", "x", None, -1e20),
        ],
    )
    conn.commit()
    conn.close()
    reasons = dict(readers.read_path(v2, max_bytes=10**8).invalid)
    for key in ("far", "real", "before"):
        assert "created_at" in reasons[f"claude-flow entry t/{key}"], reasons
    assert "expires_at" in reasons["claude-flow entry t/ttl"]
    incoming = readers.read_path(v3, max_bytes=10**8)
    assert (
        "updated_at" in dict(incoming.invalid)["claude-flow entry tasks/later"] and len(incoming.nodes) == 1
    )
    incoming = readers.read_path(kb, max_bytes=10**8)
    reasons = dict(incoming.invalid)
    assert len(incoming.nodes) == 1 and "created_at" in reasons["knowledge_base row 2"]
    assert "updated_at" in reasons["knowledge_base row 3"]
    plans.apply(plans.plan(incoming, ClientSide(team)), ClientSide(team))
    server = Server(team.client.path)  # the real memorygraph reads what was written
    try:
        (row_id,) = incoming.nodes
        assert server.get(row_id).title == "Fine"
    finally:
        server.close()


def test_json_nested_100000_deep_is_refused_with_a_400(team, web, settings):
    deep_list = b"[" * 100_000 + b"]" * 100_000
    deep_object = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    for name, data in (("list.json", deep_list), ("object.json", deep_object)):
        response = upload(web, "team", name, data)
        assert response.status_code == 400 and b"nested too deeply" in response.content, response.content[
            -400:
        ]
        answer = web.post(
            "/c/team/import/", {"file": SimpleUploadedFile(name, data)}, HTTP_ACCEPT="application/json"
        )
        assert answer.status_code == 400 and "nested too deeply" in answer.json()["error"]
    # Nesting a JSON parser survives but that would later be re-serialised is refused as well.
    metadata = json.loads('{"a":' * 900 + "1" + "}" * 900)
    response = upload(
        web, "team", "meta.json", _export([{**GOOD, "context": {"additional_metadata": metadata}}]).encode()
    )
    assert response.status_code == 400 and b"nested too deeply" in response.content
    assert ImportJob.objects.count() == 0 and team.store.count_nodes() == 0 and not _left_on_disk(settings)


def test_deep_nesting_inside_a_sqlite_row_makes_that_row_invalid(team, tmp_path, laptop):
    v2 = tmp_path / "v2.db"
    claude_flow_file(v2, 2)
    deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    conn = sqlite3.connect(v2)
    conn.execute(
        "INSERT INTO memory_entries (key, value, namespace, metadata, created_at) VALUES "
        "('deep', 'x', 't', ?, 1760000000)", (deep,),
    )
    conn.execute(
        "INSERT INTO memory_entries (key, value, namespace, metadata, created_at) VALUES "
        "('deep-but-parses', 'x', 't', ?, 1760000000)", ('{"a":' * 500 + "1" + "}" * 500,),
    )
    conn.commit()
    conn.close()
    reasons = dict(readers.read_path(v2, max_bytes=10**8).invalid)
    assert "nested too deeply" in reasons["claude-flow entry t/deep"]
    assert "nested too deeply" in reasons["claude-flow entry t/deep-but-parses"]
    path, a, _ = laptop
    conn = sqlite3.connect(path)
    conn.execute("UPDATE nodes SET properties = ? WHERE id = ?", ("[" * 100_000 + "]" * 100_000, a))
    conn.commit()
    conn.close()
    incoming = readers.read_path(path, max_bytes=10**8)
    assert "nested too deeply" in dict(incoming.invalid)[f"memory {a}"] and len(incoming.nodes) == 1


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_holding_a_zip_is_refused_and_nothing_is_truncated(team, web, laptop, settings, tmp_path):
    path, _, _ = laptop
    inner = _zip([("memory.db", path.read_bytes())])
    nested = _zip([("inner.zip", inner)])
    response = upload(web, "team", "nested.zip", nested)
    assert response.status_code == 400 and b"a zip inside a zip is not supported" in response.content
    assert ImportJob.objects.count() == 0 and not _left_on_disk(settings)
    # From the command line the zip lies beside the user's own files: none of them is touched.
    holder = tmp_path / "files"
    holder.mkdir()
    (holder / "nested.unzipped").write_bytes(b"mine")
    zipped = holder / "memory.zip"
    zipped.write_bytes(_zip([("memory.db", path.read_bytes())]))
    (holder / "memory.unzipped").write_bytes(b"also mine")
    assert len(readers.read_path(zipped, max_bytes=10**8).nodes) == 2
    self_named = holder / "self.unzipped"
    self_named.write_bytes(nested)
    with pytest.raises(refusals.ImportRefused, match="a zip inside a zip"):
        readers.read_path(self_named, max_bytes=10**8)
    assert self_named.read_bytes() == nested  # the zip was once unpacked onto itself
    assert (holder / "nested.unzipped").read_bytes() == b"mine"
    assert (holder / "memory.unzipped").read_bytes() == b"also mine"
    assert sorted(p.name for p in holder.iterdir()) == [
        "memory.unzipped", "memory.zip", "nested.unzipped", "self.unzipped",
    ]


@pytest.mark.parametrize(
    "member", ["../../escaped.db", "/tmp/absolute-kb-test.db", "upload", "upload.unzipped", "a/../../b.db"]
)
def test_zip_member_names_never_choose_where_it_is_unpacked(team, web, laptop, settings, tmp_path, member):
    path, _, _ = laptop
    job = preview(web, upload(web, "team", "memory.zip", _zip([(member, path.read_bytes())])))
    assert job["preview"]["counts"]["new"] == 2
    assert not (tmp_path / "escaped.db").exists() and not (settings.DATA_DIR / "escaped.db").exists()
    assert not (tmp_path.parent / "escaped.db").exists() and not (tmp_path / "b.db").exists()
    stored = ImportJob.objects.get(pk=job["id"]).path
    assert [p.name for p in _left_on_disk(settings)] == ["upload"] and open(stored, "rb").read(2) == b"PK"
    assert run(web, job)["status"] == "done" and not _left_on_disk(settings)


def test_damaged_and_encrypted_zips_get_a_400(team, web, laptop, settings):
    path, _, _ = laptop
    good = _zip([("memory.db", path.read_bytes())])
    # Flip bytes in the middle of the compressed data: the CRC check fails while unpacking.
    middle = len(good) // 2
    damaged = good[:middle] + bytes(b ^ 0xFF for b in good[middle : middle + 64]) + good[middle + 64 :]
    # Set the "encrypted" flag in the local and the central header.
    encrypted = bytearray(good)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = bytes(encrypted).index(signature) + offset
        encrypted[at] |= 1
    for name, data in (("damaged.zip", damaged), ("encrypted.zip", bytes(encrypted))):
        response = upload(web, "team", name, data)
        assert response.status_code == 400 and b"zip" in response.content, (name, response.content[-400:])
    assert ImportJob.objects.count() == 0 and not _left_on_disk(settings)


BIG_INT = "1" * 5000


@pytest.mark.parametrize(
    "data, message",
    [
        (
            _export([{**GOOD, "importance": "@INT@"}]).replace('"@INT@"', BIG_INT).encode(),
            b"more than 4,300 digits",
        ),
        (
            b'{"format_version": "2.0", "memories": [{"id": "a", "id": "b", "type": "fix", "title": "t", '
            b'"content": "c"}],' b' "relationships": []}', b"the key &#x27;id&#x27; twice",
        ),
        (
            b'{"format_version": "2.0", "format_version": "1.0", "memories": [], "relationships": []}',
            b"twice",
        ),
        (_export([{**GOOD, "title": "@"}]).replace("@", "caf\xe9").encode("latin-1"), b"not UTF-8"),
        ("\ufeff".encode("utf-16-le") + _export([GOOD]).encode("utf-16-le"), b"not UTF-8"),
        (
            _export(
                [{**GOOD, "title": "\ud800"}],
            ).encode(),
            b"not a character",
        ),
        (b"42", b"the JSON is a number"),
        (b'"memories"', b"the JSON is a string"),
        (b"null", b"the JSON is null"),
        (b"true", b"the JSON is true or false"),
        (b"[]", b"the JSON is a list"),
        (b"\xef\xbb\xbf[1, 2]", b"is a list"),
    ],
)
def test_malformed_json_gets_a_clear_400(team, web, settings, data, message):
    response = upload(web, "team", "odd.json", data)
    assert response.status_code == 400 and message in response.content, response.content[-500:]
    assert ImportJob.objects.count() == 0 and not _left_on_disk(settings)


def test_a_utf8_byte_order_mark_is_accepted(team, web):
    job = preview(web, upload(web, "team", "bom.json", b"\xef\xbb\xbf" + _export([GOOD]).encode()))
    assert job["preview"]["counts"]["new"] == 1


# Upload storage (issue 10, defect 11): previews expire, and each client database's are capped --------


def _stored(settings):
    """Every file kept under the uploads folder (the lock files aside)."""
    return sorted(_left_on_disk(settings))


def _age(job_id, hours):
    from datetime import timedelta

    from django.utils import timezone

    ImportJob.objects.filter(pk=job_id).update(created_at=timezone.now() - timedelta(hours=hours))


def test_discard_and_a_finished_import_remove_the_upload_at_once(team, web, laptop, settings):
    path, _, _ = laptop
    discarded = preview(web, upload(web, "team", "memory.db", path.read_bytes()))
    kept = preview(web, upload(web, "team", "memory.db", path.read_bytes()))
    assert len(_stored(settings)) == 2
    web.post(f"/c/team/import/{discarded['id']}/discard/")
    assert _stored(settings) == [Path(ImportJob.objects.get(pk=kept["id"]).path)]
    assert run(web, kept)["status"] == "done" and _stored(settings) == []


def test_abandoned_previews_expire_and_the_page_no_longer_offers_them(team, web, laptop, settings):
    path, _, _ = laptop
    old = preview(web, upload(web, "team", "memory.db", path.read_bytes()))
    old_path = ImportJob.objects.get(pk=old["id"]).path
    _age(old["id"], settings.KB_UPLOAD_KEEP_HOURS - 1)
    fresh = preview(web, upload(web, "team", "memory.db", path.read_bytes()))
    assert os.path.exists(old_path), "kept until KB_UPLOAD_KEEP_HOURS have passed"
    _age(old["id"], settings.KB_UPLOAD_KEEP_HOURS + 1)
    newer = preview(web, upload(web, "team", "memory.db", path.read_bytes()))  # an upload tidies its client's
    assert not os.path.exists(old_path) and not os.path.exists(os.path.dirname(old_path))
    state = web.get(f"/c/team/import/{old['id']}/?format=json").json()
    assert state["status"] == "expired" and "upload it again" in state["message"]
    page = web.get(f"/c/team/import/{old['id']}/")
    assert page.status_code == 200 and b"Expired" in page.content
    assert f"/c/team/import/{old['id']}/run/".encode() not in page.content
    assert web.post(f"/c/team/import/{old['id']}/run/").status_code == 409
    assert b"expired" in web.get("/c/team/import/").content
    assert len(_stored(settings)) == 2 and {fresh["status"], newer["status"]} == {"preview"}
    assert team.store.count_nodes() == 0


def test_a_failed_import_keeps_its_upload_for_a_retry_until_it_expires(team, web, laptop, settings):
    path, _, _ = laptop
    job = preview(web, upload(web, "team", "memory.db", path.read_bytes()))
    stored = Path(ImportJob.objects.get(pk=job["id"]).path)
    stored.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)  # damaged after its preview
    failed = run(web, job)
    assert failed["status"] == "failed" and "not a readable SQLite database" in failed["message"]
    assert stored.exists()
    stored.write_bytes(path.read_bytes())
    assert run(web, job)["status"] == "done" and not stored.exists()
    again = preview(web, upload(web, "team", "memory.db", b"SQLite format 3\x00" + path.read_bytes()[16:]))
    again_path = Path(ImportJob.objects.get(pk=again["id"]).path)
    again_path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    assert run(web, again)["status"] == "failed" and again_path.exists()
    _age(again["id"], settings.KB_UPLOAD_KEEP_HOURS + 1)
    call_command("kb_sync", once=True)  # the worker tidies every client database's uploads
    assert not again_path.exists() and ImportJob.objects.get(pk=again["id"]).status == "expired"


def test_an_import_stuck_running_whose_file_was_removed_never_answers_500(team, web, laptop, settings):
    path, _, _ = laptop
    job = preview(web, upload(web, "team", "memory.db", path.read_bytes()))
    stored = Path(ImportJob.objects.get(pk=job["id"]).path)
    ImportJob.objects.filter(pk=job["id"]).update(status="running")  # its process died mid-import
    import shutil

    shutil.rmtree(stored.parent)
    assert web.get(f"/c/team/import/{job['id']}/").status_code == 200
    assert web.get(f"/c/team/import/{job['id']}/?format=json").json()["status"] == "running"
    assert web.post(f"/c/team/import/{job['id']}/run/").status_code == 409
    assert web.post(f"/c/team/import/{job['id']}/discard/").status_code == 409
    _age(job["id"], settings.KB_UPLOAD_KEEP_HOURS + 1)
    call_command("kb_sync", once=True)
    state = web.get(f"/c/team/import/{job['id']}/?format=json").json()
    assert state["status"] == "expired" and "interrupted" in state["message"]
    assert web.get(f"/c/team/import/{job['id']}/").status_code == 200
    # A preview whose file went missing fails with a message that names no server path.
    other = preview(web, upload(web, "team", "memory.db", path.read_bytes()))
    shutil.rmtree(Path(ImportJob.objects.get(pk=other["id"]).path).parent)
    failed = run(web, other)
    assert failed["status"] == "failed" and str(settings.DATA_DIR) not in failed["message"], failed["message"]
    assert web.get(f"/c/team/import/{other['id']}/").status_code == 200


def test_folders_no_import_names_are_removed_once_old(team, web, laptop, settings):
    path, _, _ = laptop
    uploads = settings.DATA_DIR / "uploads"
    legacy = uploads / "0123456789abcdef0123456789abcdef"  # the layout before uploads were kept per client
    crashed = uploads / f"client-{team.client.pk}" / "fedcba9876543210fedcba9876543210"
    recent = uploads / f"client-{team.client.pk}" / "00000000000000000000000000000000"
    for folder in (legacy, crashed, recent):
        folder.mkdir(parents=True)
        (folder / "upload").write_bytes(b"x" * 1000)
    old = time.time() - 2 * 3600
    for folder in (legacy, crashed):
        os.utime(folder / "upload", (old, old))
        os.utime(folder, (old, old))
    preview(web, upload(web, "team", "memory.db", path.read_bytes()))
    assert not crashed.exists() and recent.exists() and legacy.exists()  # an upload tidies its own client's
    call_command("kb_sync", once=True)
    assert not legacy.exists() and recent.exists()


def test_the_uploads_waiting_in_one_client_database_are_capped(team, web, laptop, settings, tmp_path):
    path, _, _ = laptop
    data = path.read_bytes()
    settings.KB_UPLOAD_CLIENT_MAX_MB = 2.5 * len(data) / 1024 / 1024
    settings.KB_UPLOAD_CLIENT_MAX_BYTES = int(2.5 * len(data))
    first = preview(web, upload(web, "team", "memory.db", data))
    preview(web, upload(web, "team", "memory.db", data))
    refused = upload(web, "team", "memory.db", data)
    assert refused.status_code == 413 and b"KB_UPLOAD_CLIENT_MAX_MB" in refused.content
    assert b"run or discard" in refused.content.lower()
    answer = web.post(
        "/c/team/import/", {"file": SimpleUploadedFile("memory.db", data)}, HTTP_ACCEPT="application/json"
    )
    assert answer.status_code == 413 and "discard" in answer.json()["error"]
    assert len(_stored(settings)) == 2 and ImportJob.objects.count() == 2
    # Another client database has a cap of its own.
    other = tmp_path / "other.db"
    CanonicalStore(str(other), create=True).close()
    registry.handle_for(register_client("other", other)).ensure_fresh()
    assert preview(web, upload(web, "other", "memory.db", data))["status"] == "preview"
    # Discarding one makes room at once.
    web.post(f"/c/team/import/{first['id']}/discard/")
    assert preview(web, upload(web, "team", "memory.db", data))["status"] == "preview"


def test_the_running_sync_worker_tidies_uploads_without_any_request(tmp_path):
    """`manage.py kb_sync` as make run and docker compose start it: the web process only tidies at an
    upload."""
    import signal
    import subprocess

    from tests.support.paths import PYTHON, ROOT

    site = tmp_path / "site"
    env = {
        **os.environ, "KB_DATA_DIR": str(site), "KB_SECRET_KEY": "test-tidy",
        "DJANGO_SETTINGS_MODULE": "kbsite.settings",
    }
    env.pop("KB_PRIMARY_URL", None)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    orphan = site / "uploads" / "0123456789abcdef0123456789abcdef"
    orphan.mkdir(parents=True)
    (orphan / "upload").write_bytes(b"x" * 1000)
    old = time.time() - 2 * 3600
    os.utime(orphan / "upload", (old, old))
    os.utime(orphan, (old, old))
    worker = subprocess.Popen(
        [PYTHON, "manage.py", "kb_sync"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while orphan.exists() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        assert not orphan.exists() and worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
