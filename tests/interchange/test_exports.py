"""Exports of a whole client database, a search result and a graph view, in every format,
read back by the real memorygraph package (memorygraphMCP 0.12.4), by the connector and by
parsers, on the demo graph and on memories with hostile titles."""
import csv
import io
import json
import re
import sqlite3
import uuid
import zipfile
from collections import Counter
from datetime import UTC, datetime

import pytest
from markdown_it import MarkdownIt
from memorygraph.models import MemoryContext
from memorygraph.utils.export_import import import_from_json

from memories.devdata.loader import load_graph
from memories.interchange.exports import csv_export, json_export
from memories.interchange.exports.markdown_zip import inline
from memories.search.query import parse_query
from memories.selectors import Filters, selection_ids
from memories.store.canonical import CanonicalStore
from tests.support.clients import register_client
from tests.support.memorygraph import Server

pytestmark = pytest.mark.django_db

FORMATS = ("json", "sqlite", "csv", "markdown")
DATE = r"\d{4}-\d{2}-\d{2}"
HOSTILE_TITLES = ("<script>alert(1)</script>", "=cmd|' /C calc'!A0", "../../etc/passwd", "../../etc/passwd")


def download(web, query):
    response = web.get(f"/c/acme/export/?{query}")
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content) if response.streaming else b"".join(response)
    return response, body


def open_sqlite(body, tmp_path):
    path = tmp_path / f"export-{uuid.uuid4().hex}.db"
    path.write_bytes(body)
    return path


def read_zip(body):
    archive = zipfile.ZipFile(io.BytesIO(body))
    return {name: archive.read(name).decode() for name in archive.namelist()}


def front_matter_id(text):
    return json.loads(re.search(r"^id: (.*)$", text, re.MULTILINE).group(1))


def exported_ids(fmt, body, tmp_path):
    """The memory ids an export holds, read back in its own format."""
    if fmt == "json":
        return {m["id"] for m in json.loads(body)["memories"]}
    if fmt == "csv":
        return {row["id"] for row in csv.DictReader(io.StringIO(body.decode("utf-8")))}
    if fmt == "sqlite":
        store = CanonicalStore(open_sqlite(body, tmp_path))
        try:
            return {memory_id for memory_id, _, _ in store.iter_nodes()}
        finally:
            store.close()
    return {front_matter_id(text) for text in read_zip(body).values()}


def rm_rows(handle, query, params=()):
    return handle.readmodel.conn.execute(query, params).fetchall()


def edges_within(handle, ids, *, current_only=False):
    rows = rm_rows(handle, "SELECT * FROM edge" + (" WHERE current = 1" if current_only else ""))
    return {r["id"]: r for r in rows if r["from_id"] in ids and r["to_id"] in ids}


def graph_node_ids(web, query):
    data = web.get(f"/c/acme/graph/?{query}&format=json").json()
    return {node["id"] for node in data["nodes"]}


def search_selection(handle, q, filters=Filters()):
    return set(selection_ids(rm=handle.readmodel, filters=filters, parsed=parse_query(q)))


# Every format, every scope --------------------------------------------------------------

# Each test below builds the demo database once (about a second) and checks every format on it.

def test_whole_database_holds_every_memory(web, handle, tmp_path):
    all_ids = {r["id"] for r in rm_rows(handle, "SELECT id FROM memory")}
    for fmt, ext in (("json", "json"), ("sqlite", "db"), ("csv", "csv"), ("markdown", "zip")):
        response, body = download(web, f"format={fmt}")
        assert re.fullmatch(
            rf'attachment; filename="acme-all-{DATE}\.{ext}"', response["Content-Disposition"]
        )
        assert exported_ids(fmt, body, tmp_path) == all_ids, fmt


def test_search_result_holds_every_match_not_one_page(web, handle, tmp_path):
    expected = search_selection(handle, "redis")
    assert len(expected) > 20  # more than one page of results
    for fmt in FORMATS:
        response, body = download(web, f"format={fmt}&scope=search&q=redis")
        assert exported_ids(fmt, body, tmp_path) == expected, fmt
        assert re.search(rf'filename="acme-search-{DATE}\.', response["Content-Disposition"])


def test_search_filters_narrow_the_selection(web, handle, tmp_path):
    solutions = search_selection(handle, "redis", Filters(types=("solution",)))
    errors = {r["id"] for r in rm_rows(handle, "SELECT id FROM memory WHERE type = 'error'")}
    assert solutions and errors
    for fmt in FORMATS:
        assert (
            exported_ids(fmt, download(web, f"format={fmt}&scope=search&q=redis&type=solution")[1], tmp_path)
            == solutions
        ), fmt
        assert (
            exported_ids(fmt, download(web, f"format={fmt}&scope=search&type=error")[1], tmp_path) == errors
        ), fmt


def test_graph_view_holds_the_nodes_shown(web, handle, tmp_path):
    center = rm_rows(handle, "SELECT from_id FROM edge GROUP BY from_id ORDER BY count(*) DESC LIMIT 1")[0][0]
    view = f"memory={center}&depth=2"
    expected = graph_node_ids(web, view)
    assert 1 < len(expected) < len(rm_rows(handle, "SELECT id FROM memory"))
    for fmt in FORMATS:
        response, body = download(web, f"format={fmt}&scope=graph&{view}")
        assert exported_ids(fmt, body, tmp_path) == expected, fmt
        assert re.search(rf'filename="acme-graph-{DATE}\.', response["Content-Disposition"])


def test_graph_of_search_results(web, handle, tmp_path):
    _, body = download(web, "format=json&scope=graph&view=results&q=redis&limit=40")
    assert exported_ids("json", body, tmp_path) == graph_node_ids(web, "view=results&q=redis&limit=40")


def test_unsearchable_text_exports_nothing(web, handle, tmp_path):
    _, body = download(web, "format=json&scope=search&q=%22%22+-")
    assert json.loads(body)["memories"] == [] and json.loads(body)["memory_count"] == 0


# memorygraph JSON 2.0 ---------------------------------------------------------------------


def test_json_has_memorygraphs_shape(web, handle):
    _, body = download(web, "format=json")
    data = json.loads(body)
    assert list(data) == [
        "format_version", "export_version", "export_date", "backend_type", "memory_count",
        "relationship_count", "memories", "relationships",
    ]
    assert (data["format_version"], data["export_version"], data["backend_type"]) == ("2.0", "1.0", "kbsite")
    assert datetime.fromisoformat(data["export_date"]).tzinfo is not None
    assert data["memory_count"] == len(data["memories"])
    assert data["relationship_count"] == len(data["relationships"])
    assert set(data["memories"][0]) >= {
        "id", "type", "title", "content", "summary", "tags", "importance", "confidence", "created_at",
        "updated_at",
    }
    assert set(data["relationships"][0]) == {"from_memory_id", "to_memory_id", "type", "properties"}
    assert set(data["relationships"][0]["properties"]) == {
        "strength", "confidence", "context", "evidence_count",
    }
    assert body.isascii()


def test_json_relationships_are_every_current_edge_within_the_selection(web, handle):
    data = json.loads(download(web, "format=json&scope=search&q=redis")[1])
    ids = {m["id"] for m in data["memories"]}
    edges = edges_within(handle, ids, current_only=True).values()
    expected = {(e["from_id"], e["to_id"], e["rel_type"]) for e in edges}
    got = [(r["from_memory_id"], r["to_memory_id"], r["type"]) for r in data["relationships"]]
    assert expected and sorted(got) == sorted(expected)
    # No cap per memory, unlike memorygraph's own export (20).
    whole = json.loads(download(web, "format=json")[1])
    edges = edges_within(handle, {m["id"] for m in whole["memories"]}, current_only=True).values()
    assert whole["relationship_count"] == len(edges)
    degree = Counter(end for r in whole["relationships"] for end in (r["from_memory_id"], r["to_memory_id"]))
    assert max(degree.values()) > 20


def test_json_context_comes_from_the_flattened_keys(web, handle):
    row = rm_rows(handle, "SELECT id, props FROM memory WHERE props LIKE '%context_languages%' LIMIT 1")[0]
    props = json.loads(row["props"])
    memory = next(m for m in json.loads(download(web, "format=json")[1])["memories"] if m["id"] == row["id"])
    assert memory["context"]["languages"] == props["context_languages"]
    assert memory["context"].get("project_path") == props.get("context_project_path")


def test_context_fields_are_memorygraphs():
    assert set(json_export.CONTEXT_FIELDS) == set(MemoryContext.model_fields)


def test_json_context_keeps_only_what_memorygraph_accepts():
    props = {
        "context_project_path": "/srv/app", "context_languages": "[]", "context_frameworks": "django",
        "context_additional_metadata": '{"ticket": "OPS-1"}', "context_visibility": "everyone",
        "context_timestamp": "yesterday", "context_session_id": 42, "context_function_name": "main",
        "context_files_involved": ["a.py", "b.py"], "context_git_branch": None,
    }
    context = json_export.json_context(props)
    assert context == {
        "project_path": "/srv/app", "languages": [], "files_involved": ["a.py", "b.py"],
        "additional_metadata": {"ticket": "OPS-1"},
    }
    MemoryContext(**context)


@pytest.mark.interop
@pytest.mark.parametrize("scope", ["", "&scope=search&q=redis"])
def test_memorygraph_imports_the_json(web, handle, tmp_path, scope):
    data = json.loads(download(web, f"format=json{scope}")[1])
    path = tmp_path / "export.json"
    path.write_text(json.dumps(data))
    server = Server(tmp_path / "imported.db")
    try:
        stats = server.run(import_from_json(server.db, str(path)))
        titles = {m["id"]: server.get(m["id"]).title for m in data["memories"]}
    finally:
        server.close()
    assert stats == {
        "imported_memories": data["memory_count"], "imported_relationships": data["relationship_count"],
        "skipped_memories": 0, "skipped_relationships": 0,
    }
    assert titles == {m["id"]: m["title"] for m in data["memories"]}
    with sqlite3.connect(tmp_path / "imported.db") as conn:
        assert conn.execute("SELECT count(*) FROM relationships").fetchone()[0] == data["relationship_count"]


# memorygraph SQLite file ------------------------------------------------------------------


def test_sqlite_rows_are_the_read_models(web, handle, tmp_path):
    path = open_sqlite(download(web, "format=sqlite")[1], tmp_path)
    memories = {r["id"]: r for r in rm_rows(handle, "SELECT id, props, created_at, updated_at FROM memory")}
    edges = edges_within(handle, set(memories))
    store = CanonicalStore(path)
    try:
        assert store.temporal
        nodes = store.node_rows(memories)
        rels = store.edge_rows(edges)
    finally:
        store.close()
    assert {k: n.properties for k, n in nodes.items()} == {k: r["props"] for k, r in memories.items()}
    assert {k: e.properties for k, e in rels.items()} == {k: e["props"] for k, e in edges.items()}
    for node in nodes.values():
        assert re.fullmatch(rf"{DATE} \d\d:\d\d:\d\d", node.created_at)
        created = datetime.fromisoformat(json.loads(node.properties)["created_at"]).astimezone(UTC)
        assert node.created_at == created.strftime("%Y-%m-%d %H:%M:%S")
    for rel in rels.values():
        props = json.loads(rel.properties)
        assert (rel.valid_from, rel.recorded_at, rel.valid_until) == (
            props["valid_from"], props["recorded_at"], None,
        )
    with sqlite3.connect(path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"nodes", "relationships", "idx_relationships_current", "idx_nodes_memory"} <= names


def test_sqlite_keeps_ended_edges_that_json_leaves_out(web, handle, tmp_path):
    edge = rm_rows(handle, "SELECT * FROM edge LIMIT 1")[0]
    props = json.loads(edge["props"])
    props["valid_until"] = "2026-11-01T00:00:00+00:00"
    store = CanonicalStore(handle.client.path)
    with store.transaction():
        store.conn.execute(
            "UPDATE relationships SET properties = ?, valid_until = ? WHERE id = ?",
            (json.dumps(props), props["valid_until"], edge["id"]),
        )
    store.close()
    exported = CanonicalStore(open_sqlite(download(web, "format=sqlite")[1], tmp_path))
    try:
        assert exported.edge_rows([edge["id"]])[edge["id"]].valid_until == props["valid_until"]
    finally:
        exported.close()
    relationships = json.loads(download(web, "format=json")[1])["relationships"]
    assert (edge["from_id"], edge["to_id"], edge["rel_type"]) not in {
        (r["from_memory_id"], r["to_memory_id"], r["type"]) for r in relationships
    }


def test_sqlite_of_a_selection_holds_only_edges_within_it(web, handle, tmp_path):
    exported = CanonicalStore(open_sqlite(download(web, "format=sqlite&scope=search&q=redis")[1], tmp_path))
    try:
        members = {m for m, _, _ in exported.iter_nodes()}
        edge_ids = {e["id"] for e in exported.iter_edges()}
    finally:
        exported.close()
    assert edge_ids and edge_ids == set(edges_within(handle, members))


@pytest.mark.interop
def test_memorygraph_reads_the_sqlite_file(web, handle, tmp_path):
    path = open_sqlite(download(web, "format=sqlite&scope=search&q=redis")[1], tmp_path)
    expected = {
        r["id"]: r["title"] for r in rm_rows(handle, "SELECT id, title FROM memory")
        if r["id"] in search_selection(handle, "redis")
    }
    server = Server(path, initialise=False)
    try:
        titles = {memory_id: server.get(memory_id).title for memory_id in expected}
        related = sum(len(server.related(memory_id)) for memory_id in expected)
    finally:
        server.close()
    assert titles == expected
    assert related == 2 * len(edges_within(handle, set(expected), current_only=True))


# CSV and Markdown ---------------------------------------------------------------------------


def test_csv_parses_back(web, handle):
    text = download(web, "format=csv")[1].decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(csv_export.CSV_COLUMNS)
    memory = rm_rows(handle, "SELECT * FROM memory WHERE id = ?", (rows[0]["id"],))[0]
    assert rows[0]["title"] == memory["title"] and rows[0]["content"] == memory["content"]
    assert rows[0]["tags"] == ", ".join(json.loads(memory["tags"]))
    assert float(rows[0]["importance"]) == memory["importance"]
    assert rows[0]["project"] == memory["project"] and rows[0]["created_at"] == memory["created_at"]


def test_markdown_files_link_to_each_other(web, handle):
    files = read_zip(download(web, "format=markdown")[1])
    folders = {name.split("/")[0] for name in files}
    assert len(folders) == 1 and re.fullmatch(rf"acme-all-{DATE}", folders.pop())
    assert len(files) == len(rm_rows(handle, "SELECT id FROM memory"))
    by_id = {front_matter_id(text): name for name, text in files.items()}
    links = 0
    for name, text in files.items():
        folder = name.rsplit("/", 1)[0]
        for target in re.findall(r"\]\(([^)]+\.md)\)", text):
            assert f"{folder}/{target}" in files
            links += 1
    assert links == 2 * len(edges_within(handle, set(by_id)))
    memory = rm_rows(handle, "SELECT * FROM memory WHERE summary != '' LIMIT 1")[0]
    text = files[by_id[memory["id"]]]
    assert text.startswith("---\nid: ") and f"\n# {inline(memory['title'])}\n" in text
    assert memory["content"] in text and f"> {memory['summary'].splitlines()[0]}" in text
    assert re.search(r"^tags: \[.*\]$", text, re.MULTILINE) and re.search(
        r"^importance: [\d.]+$", text, re.MULTILINE
    )


# Hostile titles ---------------------------------------------------------------------------------


@pytest.fixture
def hostile(db, user, tmp_path):
    """Client `acme` holding memories whose titles and texts attack spreadsheets, HTML and paths."""
    stamp = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    memories = [
        {
            "id": str(uuid.uuid4()), "type": "general", "title": title, "summary": "+1 summary",
            "content": f"@SUM(A1) body {n}", "tags": ["-x"], "importance": 0.5, "confidence": 0.8,
            "created_at": stamp,
        }
        for n, title in enumerate(HOSTILE_TITLES)
    ]
    relationships = [
        {
            "id": str(uuid.uuid4()), "from_id": a["id"], "to_id": b["id"], "type": "RELATED_TO",
            "strength": 0.5, "confidence": 0.8,
        }
        for a, b in zip(memories, memories[1:])
    ]
    path = tmp_path / "hostile.db"
    load_graph(str(path), memories, relationships)
    register_client("acme", path)
    return memories


def test_hostile_titles_stay_text_in_csv(web, hostile):
    rows = list(csv.DictReader(io.StringIO(download(web, "format=csv")[1].decode("utf-8"))))
    titles = {r["title"] for r in rows}
    assert "'=cmd|' /C calc'!A0" in titles and "<script>alert(1)</script>" in titles
    assert {r["summary"] for r in rows} == {"'+1 summary"} and {r["tags"] for r in rows} == {"'-x"}
    assert all(r["content"].startswith("'@SUM") for r in rows)
    assert not any(cell.startswith(csv_export.FORMULA_STARTS) for r in rows for cell in r.values())


def test_hostile_titles_get_safe_unique_file_names_and_inert_headings(web, hostile):
    files = read_zip(download(web, "format=markdown")[1])
    names = [name.split("/", 1)[1] for name in files]
    assert len(set(names)) == len(hostile)
    assert all(re.fullmatch(r"[a-z0-9-]+-[A-Za-z0-9]{8}(-\d+)?\.md", name) for name in names), names
    assert all(name.count("/") == 1 and ".." not in name for name in files)
    html = MarkdownIt("commonmark").render("\n".join(files.values()))  # raw HTML allowed: the worst reader
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<h1>../../etc/passwd</h1>" in html and "<h1>=cmd|' /C calc'!A0</h1>" in html.replace(
        "&#x27;", "'"
    )


def test_hostile_titles_round_trip_in_json_and_sqlite(web, hostile, tmp_path):
    response, body = download(web, "format=json")
    assert response["Content-Type"] == "application/json" and response["X-Content-Type-Options"] == "nosniff"
    assert sorted(m["title"] for m in json.loads(body)["memories"]) == sorted(HOSTILE_TITLES)
    store = CanonicalStore(open_sqlite(download(web, "format=sqlite")[1], tmp_path))
    try:
        assert sorted(props["title"] for _, props, _ in store.iter_nodes()) == sorted(HOSTILE_TITLES)
    finally:
        store.close()


# Parameters, access and links ----------------------------------------------------------------


def test_bad_parameters_get_400(web, client_db):
    for query in (
        "", "format=pdf", "format=json&scope=everything", "format=csv&scope=search&month=May",
        "format=csv&scope=search&type=nonsense", "format=sqlite&scope=graph&view=bogus",
        "format=markdown&scope=graph&view=neighbourhood", "format=csv&scope=graph&limit=0",
    ):
        response = web.get(f"/c/acme/export/?{query}")
        assert response.status_code == 400 and b"not valid" in response.content, query


def test_bad_parameters_of_a_json_export_get_a_json_error(web, client_db):
    response = web.get("/c/acme/export/?format=json&scope=nope")
    assert response.status_code == 400 and "scope" in response.json()["errors"]


def test_graph_of_a_missing_memory_is_404(web, client_db):
    assert web.get("/c/acme/export/?format=csv&scope=graph&memory=no-such-id").status_code == 404


def test_non_members_cannot_export(client, client_db, django_user_model):
    assert client.get("/c/acme/export/?format=json").status_code == 302
    client.force_login(django_user_model.objects.create_user("mallory", password="x"))
    for fmt in FORMATS:
        assert client.get(f"/c/acme/export/?format={fmt}").status_code == 404


def test_list_and_graph_pages_link_their_selection(web, handle):
    page = web.get("/c/acme/memories/").content.decode()
    assert "/c/acme/export/?scope=all&amp;format=sqlite" in page
    page = web.get("/c/acme/search/?q=redis&type=solution").content.decode()
    assert "/c/acme/export/?scope=search&amp;q=redis&amp;type=solution&amp;format=markdown" in page
    memory_id = rm_rows(handle, "SELECT from_id FROM edge LIMIT 1")[0][0]
    page = web.get(f"/c/acme/graph/?memory={memory_id}&depth=2").content.decode()
    assert f"/c/acme/export/?scope=graph&amp;memory={memory_id}&amp;depth=2&amp;format=csv" in page


def test_the_command_line_export(handle, tmp_path, capsys):
    from django.core.management import call_command

    for fmt in ("json", "csv", "sqlite", "markdown"):
        out = tmp_path / f"out.{fmt}"
        call_command("kb_export", "--client", "acme", "--format", fmt, "--out", str(out), verbosity=0)
        assert out.stat().st_size > 0 and "Wrote 294 memories" in capsys.readouterr().out
    assert len(json.loads((tmp_path / "out.json").read_text())["memories"]) == 294
    rows = list(csv.reader((tmp_path / "out.csv").open()))
    assert len(rows) == 295
    call_command(
        "kb_export", "--client", "acme", "--format", "json", "--q", "redis", "--out",
        str(tmp_path / "redis.json"), verbosity=0,
    )
    assert 0 < len(json.loads((tmp_path / "redis.json").read_text())["memories"]) < 294
