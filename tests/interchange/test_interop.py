"""Interoperability with the real memorygraph server code (memorygraphMCP 0.12.4).

The canonical file is shared with the memorygraph MCP server: what it writes, the site
must show and find; what the site writes, memorygraph must read back intact (it silently
hides a memory that fails its pydantic validation, so "readable" is checked per memory).
memorygraph is driven exactly as its server drives it: one backend object holding one
long-lived stdlib sqlite3 connection, async methods run with ``asyncio.run``.

It runs in this process, so its calls and ours must never overlap: stdlib sqlite3 and
libsql each link their own SQLite and cannot see each other's locks within one process.
Writing at the same time as a separate server process is tested in tests/store/test_canonical.py.
"""
import json
import re
import sqlite3
from html import unescape
from urllib.parse import quote

import pytest
from memorygraph.models import MemoryContext, MemoryType, RelationshipType

from memories import selectors, services, tagging
from memories.format import FormatError
from memories.search.engine import memory_search
from memories.selectors import Filters
from memories.store import registry
from tests.support.clients import register_client
from tests.support.memorygraph import Server, assert_memorygraph_reads_everything, build_old_file, memory_node

pytestmark = [pytest.mark.interop, pytest.mark.django_db]

# Every key memorygraph 0.12.4 writes into relationships.properties on a temporal table.
REL_KEYS = {"id", "strength", "confidence", "context", "evidence_count", "success_rate", "created_at",
            "last_validated", "validation_count", "counter_evidence_count"}
REL_TEMPORAL_KEYS = {"valid_from", "valid_until", "recorded_at", "invalidated_by"}


@pytest.fixture
def server(tmp_path):
    mg = Server(tmp_path / "memory.db")
    yield mg
    mg.close()


@pytest.fixture
def graph(server):
    """A small graph written by memorygraph itself: {name: id}, plus the edge ids."""
    ids = {
        "problem": server.store(
            type=MemoryType.PROBLEM,
            title="OAuth login loses state on redirect",
            content="After the IdP redirect the session cookie is gone and login restarts.",
            summary="Login loops after redirect",
            tags=["OAuth", "auth"],
            importance=0.6,
            context=MemoryContext(
                project_path="/srv/shop", files_involved=["auth/views.py"], languages=["python"],
                git_branch="main",
            ),
        ),
        "solution": server.store(
            type=MemoryType.SOLUTION, title="Use PKCE for the OAuth login flow",
            content="Send a code_challenge and keep the verifier server-side.",
            summary="PKCE fixes the redirect loop", tags=["oauth", "security"], importance=0.5,
            context=MemoryContext(project_path="/srv/shop", frameworks=["django"]),
        ),
        # Mentions PKCE many times in its body and is more important: the title hit must still win.
        "notes": server.store(
            type=MemoryType.TECHNOLOGY, title="OAuth 2.1 reading notes",
            content="PKCE is mandatory. PKCE for public clients, PKCE for confidential ones; "
            "pkce everywhere.", tags=["oauth"], importance=0.9,
        ),
        "pattern": server.store(
            type=MemoryType.CODE_PATTERN, title="Retry with exponential backoff",
            content="Wrap flaky IdP calls in retries with jitter.", tags=["resilience"], importance=0.4,
        ),
    }
    edges = {
        "solves": server.relate(
            ids["solution"], ids["problem"], RelationshipType.SOLVES, strength=0.9, confidence=0.85,
            context="PKCE keeps the state across the redirect",
        ),
        "related": server.relate(ids["pattern"], ids["notes"], RelationshipType.RELATED_TO, strength=0.3),
    }
    return ids, edges


def client_for(path, slug="mg"):
    return register_client(slug, path, name=slug.upper())


@pytest.fixture
def site(server, graph):
    """The site's handle on the file memorygraph wrote (the server stays connected)."""
    handle = registry.handle_for(client_for(server.backend.db_path))
    handle.ensure_fresh()
    return handle


def all_ids(rm):
    return [row[0] for row in rm.conn.execute("SELECT id FROM memory")]


# a) memorygraph writes, the site shows and finds ------------------------------------------


def test_site_shows_what_memorygraph_wrote(site, graph):
    ids, edges = graph
    rm = site.readmodel
    page = selectors.memory_list(rm=rm, filters=Filters())
    assert page.total == 4
    assert {i["id"] for i in page.items} == set(ids.values())

    problem = selectors.memory_detail(rm=rm, memory_id=ids["problem"])
    assert problem["title"] == "OAuth login loses state on redirect"
    assert problem["summary"] == "Login loops after redirect"
    assert problem["tags"] == ["oauth", "auth"]  # memorygraph lowercases; we keep its order
    assert problem["importance"] == 0.6
    assert problem["project"] == "/srv/shop"
    assert problem["context"]["languages"] == "python"
    assert problem["context"]["files_involved"] == "auth/views.py"
    assert problem["context"]["git_branch"] == "main"
    # memorygraph stores empty context lists as the string "[]": they must not show up.
    assert "technologies" not in problem["context"] and "additional_metadata" not in problem["context"]
    [incoming] = problem["incoming"]["SOLVES"]
    assert incoming["id"] == edges["solves"] and incoming["other_id"] == ids["solution"]
    assert incoming["strength"] == 0.9 and incoming["current"]
    assert incoming["context"] == "PKCE keeps the state across the redirect"

    solution = selectors.memory_detail(rm=rm, memory_id=ids["solution"])
    assert solution["outgoing"]["SOLVES"][0]["other_id"] == ids["problem"]
    assert solution["context"]["frameworks"] == "django"
    # The SOLVES edge resolves the problem.
    assert selectors.graph_counts(rm=rm) == {"memories": 4, "relationships": 2, "unresolved": 0}

    hits = memory_search(rm=rm, text="backoff", filters=Filters())["page_data"]
    assert [i["id"] for i in hits.items] == [ids["pattern"]]


def test_acronym_in_title_ranks_first(site, graph):
    ids, _ = graph
    items = memory_search(rm=site.readmodel, text="PKCE", filters=Filters())["page_data"].items
    assert items[0]["id"] == ids["solution"]
    assert {i["id"] for i in items} == {ids["solution"], ids["notes"]}


def test_web_pages_show_what_memorygraph_wrote(web, site, graph):
    ids, edges = graph
    page = web.get("/c/mg/memories/")
    assert page.status_code == 200
    for title in (
        "OAuth login loses state on redirect", "Use PKCE for the OAuth login flow", "OAuth 2.1 reading notes",
        "Retry with exponential backoff",
    ):
        assert title.encode() in page.content

    listing = web.get("/c/mg/memories/?format=json").json()
    assert listing["total"] == 4 and listing["facets"]["tag"]["oauth"] == 3

    found = web.get("/c/mg/search/?q=PKCE&format=json").json()
    assert found["total"] == 2 and found["items"][0]["id"] == ids["solution"]
    assert "<mark>PKCE</mark>" in found["items"][0]["title_html"]

    detail = web.get(f"/c/mg/memories/{ids['problem']}/?format=json").json()["memory"]
    assert detail["title"] == "OAuth login loses state on redirect"
    assert detail["incoming"]["SOLVES"][0]["id"] == edges["solves"]
    html = web.get(f"/c/mg/memories/{ids['solution']}/").content.decode()
    assert "SOLVES" in html and "OAuth login loses state on redirect" in html


# Ids memorygraph accepts (its store_memory and its JSON import take any string) but a URL
# path segment cannot hold as is.
ODD_IDS = ("slash/id", "with space", "ünïcode", "a?b#c", "..", ".", "100%", "~tilde", "x" * 300)


@pytest.fixture
def odd_site(server):
    """A file holding odd ids, written by memorygraph itself and, for the rest, by hand in SQL."""
    by_server = ODD_IDS[:4]
    for n, memory_id in enumerate(by_server):
        assert (
            server.store(
                id=memory_id, type=MemoryType.PROBLEM, title=f"Odd id number {n}",
                content="An id from somewhere else", tags=["odd"],
            )
            == memory_id
        )
    conn = sqlite3.connect(server.backend.db_path)
    conn.executemany(
        "INSERT INTO nodes (id, label, properties) VALUES (?, 'Memory', ?)",
        [
            (i, json.dumps(memory_node(i, "error", f"Odd id number {n}", tags=["odd"])))
            for n, i in enumerate(ODD_IDS[4:], start=4)
        ],
    )
    conn.commit()
    conn.close()
    server.relate("slash/id", "with space", RelationshipType.RELATED_TO)
    server.relate("..", "a?b#c", RelationshipType.CAUSES)
    server.relate("x" * 300, "slash/id", RelationshipType.SOLVES)
    rel = _edge_row(server.backend.db_path, server.relate("ünïcode", "100%", RelationshipType.FOLLOWS))
    conn = sqlite3.connect(server.backend.db_path)
    conn.execute(
        "UPDATE relationships SET id = 'rel/../odd', properties = ? WHERE id = ?",
        (json.dumps({**rel["props"], "id": "rel/../odd"}), rel["id"]),
    )
    conn.commit()
    conn.close()
    assert_memorygraph_reads_everything(server, server.backend.db_path)
    handle = registry.handle_for(client_for(server.backend.db_path))
    handle.ensure_fresh()
    return handle


def _memory_links(html):
    return [unescape(h) for h in re.findall(r'<a class="title" href="([^"]+)"', html)]


def test_pages_work_with_any_id_memorygraph_wrote(web, server, odd_site):
    for url in (
        "/c/mg/memories/", "/c/mg/memories/?format=json", "/c/mg/search/?q=odd", "/c/mg/search/?q=number",
        "/c/mg/search/?q=odd&format=json", "/c/mg/tags/", "/c/mg/memories/?unresolved=1", "/c/mg/graph/",
        "/c/mg/graph/?format=json&vis=1", "/c/mg/graph/?view=unsolved",
    ):
        response = web.get(url)
        assert response.status_code in (200, 202), (url, response.status_code)
    for fmt in ("json", "sqlite", "csv", "markdown"):
        response = web.get(f"/c/mg/export/?format={fmt}&scope=all")
        assert response.status_code == 200 and b"".join(response), fmt
    links = _memory_links(web.get("/c/mg/memories/").content.decode())
    assert len(links) == len(ODD_IDS)
    for link in links:
        page = web.get(link)
        assert page.status_code == 200, link
        detail = web.get(link + "?format=json").json()["memory"]
        assert detail["title"].encode() in page.content
        for other in re.findall(
            r'<li[^>]*>[^<]*<a href="([^"]+)"', page.content.decode()
        ):  # its relationships
            assert web.get(unescape(other)).status_code == 200, other
        graph = re.search(r'href="([^"]*/graph/\?memory=[^"]*)"', page.content.decode()).group(1)
        body = web.get(unescape(graph) + "&format=json&vis=1")
        assert body.status_code == 200, (detail["id"], body.content[:300])
        assert detail["id"] in {n["id"] for n in body.json()["nodes"]}
        for node in body.json()["vis"]["nodes"]:
            assert web.get(node["url"] + "?format=json").json()["memory"]["id"] == node["id"]
        assert web.get(link + "edit/").status_code == 200
        assert web.post(link + "tags/", {"tag": "seen", "action": "add"}).status_code == 302
    assert server.get("slash/id").tags == ["odd", "seen"]
    unicode_page = web.get(f"/c/mg/memories/{quote('ünïcode')}/").content.decode()
    [remove] = re.findall(r'action="([^"]*/relationships/[^"]*/delete/)"', unicode_page)
    assert web.post(unescape(remove), {"memory": "ünïcode"}).status_code == 302
    assert not server.related("100%")
    for memory_id in ODD_IDS:
        link = next(
            link for link in _memory_links(web.get("/c/mg/memories/").content.decode())
            if web.get(link + "?format=json").json()["memory"]["id"] == memory_id
        )
        assert web.post(link + "delete/").status_code == 302
        assert web.get(link).status_code == 404 and server.get(memory_id) is None
    assert web.get("/c/mg/memories/?format=json").json()["total"] == 0


# b) the site writes, memorygraph reads back ---------------------------------------------


def test_memorygraph_reads_back_our_edits(site, server, graph, user):
    ids, _ = graph
    services.memory_update(
        handle=site,
        actor=user,
        memory_id=ids["problem"],
        fields={
            "title": "OAuth login loses state after the IdP redirect", "summary": "Redirect loop, state lost",
            "project_path": "/srv/shop-v2", "languages": ["python", "typescript"], "git_branch": "fix/pkce",
        },
    )
    tagging.tag_add(handle=site, actor=user, memory_id=ids["problem"], tag="Regression")
    oauth_ids = selectors.tag_memory_ids(rm=site.readmodel, tag="oauth")
    assert (
        len(tagging.tag_rename(handle=site, actor=user, old="oauth", new="OAuth2", memory_ids=oauth_ids)) == 3
    )
    created = services.memory_create(
        handle=site,
        actor=user,
        fields={
            "type": "fix", "title": "Allowlist the exact redirect URI", "summary": "Config half of the fix",
            "content": "Register https://shop.example/callback exactly; wildcards break PKCE.",
            "tags": ["OAuth2", "Config"], "importance": 0.7, "confidence": 0.9, "project_path": "/srv/shop",
            "languages": [], "frameworks": ["django"], "git_branch": "",
        },
    )
    rel_id = services.relationship_create(
        handle=site, actor=user, from_id=created, to_id=ids["problem"], rel_type="ADDRESSES", strength=0.7,
        confidence=0.6, context="Half of the fix",
    )
    services.memory_delete(handle=site, actor=user, memory_id=ids["pattern"])

    problem = server.get(ids["problem"])
    assert problem.title == "OAuth login loses state after the IdP redirect"
    assert problem.summary == "Redirect loop, state lost"
    assert problem.tags == ["oauth2", "auth", "regression"]
    assert problem.context.project_path == "/srv/shop-v2"
    assert problem.context.languages == ["python", "typescript"]
    assert problem.context.git_branch == "fix/pkce"
    # Context fields we do not edit survive our rewrite of the properties.
    assert problem.context.files_involved == ["auth/views.py"]
    assert problem.updated_at > problem.created_at

    new = server.get(created)
    assert new.type == MemoryType.FIX and new.title == "Allowlist the exact redirect URI"
    assert new.tags == ["oauth2", "config"] and new.summary == "Config half of the fix"
    assert (new.importance, new.confidence) == (0.7, 0.9)
    assert new.context.frameworks == ["django"] and new.context.languages == []
    assert created in {m.id for m in server.search("allowlist")}

    related = {rel.id: (memory.id, rel) for memory, rel in server.related(ids["problem"])}
    other, rel = related[rel_id]
    assert other == created and rel.type == RelationshipType.ADDRESSES
    assert rel.from_memory_id == created and rel.to_memory_id == ids["problem"]
    assert (rel.properties.strength, rel.properties.confidence) == (0.7, 0.6)
    assert rel.properties.context == "Half of the fix"

    assert server.get(ids["pattern"]) is None
    assert ids["pattern"] not in {m.id for m, _ in server.related(ids["notes"])}
    assert_memorygraph_reads_everything(server, server.backend.db_path)


def test_our_relationship_row_has_every_memorygraph_key(site, server, graph, user):
    ids, _ = graph
    rel_id = services.relationship_create(
        handle=site, actor=user, from_id=ids["notes"], to_id=ids["solution"], rel_type="BUILDS_ON"
    )
    ours = _edge_row(server.backend.db_path, rel_id)
    theirs = _edge_row(server.backend.db_path, graph[1]["solves"])
    assert set(ours["props"]) == set(theirs["props"]) == REL_KEYS | REL_TEMPORAL_KEYS
    # The temporal columns are filled as memorygraph fills them (current edge, recorded now).
    assert ours["valid_until"] is None and ours["invalidated_by"] is None
    assert (
        ours["valid_from"] == ours["props"]["valid_from"]
        and ours["recorded_at"] == ours["props"]["recorded_at"]
    )


def test_memory_without_content_is_not_written_hidden(site, server, user):
    """memorygraph requires content (min_length=1): an empty body would make the memory vanish there."""
    with pytest.raises(FormatError) as caught:
        services.memory_create(
            handle=site, actor=user, fields={"type": "general", "title": "Empty", "content": ""}
        )
    assert "content" in caught.value.errors
    assert_memorygraph_reads_everything(server, server.backend.db_path)


def test_unicode_and_limits_round_trip(site, server, user):
    fields = {
        "type": "conversation", "title": "T" * 200, "summary": "s" * 500,
        "content": "Ünïcödé ✓ 日本語 " * 100,
        "tags": [f"tag-{n}" for n in range(50)], "importance": 1, "confidence": 0,
    }
    memory_id = services.memory_create(handle=site, actor=user, fields=fields)
    memory = server.get(memory_id)
    assert memory is not None, "memorygraph hides a memory at the format's limits"
    assert memory.type == MemoryType.CONVERSATION and len(memory.tags) == 50
    assert memory.content == fields["content"].strip()


# c) memorygraph writes while the site has the file open ---------------------------------


def test_memorygraph_writes_show_up_on_next_request(site, server, graph):
    ids, _ = graph
    before_store = site.store
    new_id = server.store(
        type=MemoryType.ERROR, title="Token endpoint returns invalid_grant",
        content="The Zyzzyva IdP rejects reused verifiers.", tags=["idp"],
    )
    memory = server.get(ids["notes"])
    memory.title = "OAuth 2.1 notes (revised)"
    assert server.update(memory)
    assert server.delete(ids["pattern"])

    rm = site.ensure_fresh()
    assert site.store is before_store, "the canonical connection must not be reopened"
    found = memory_search(rm=rm, text="zyzzyva", filters=Filters())["page_data"].items
    assert [i["id"] for i in found] == [new_id]
    assert selectors.memory_detail(rm=rm, memory_id=ids["notes"])["title"] == "OAuth 2.1 notes (revised)"
    assert selectors.memory_detail(rm=rm, memory_id=ids["pattern"]) is None
    # memorygraph deleted the pattern's RELATED_TO edge with it.
    assert selectors.graph_counts(rm=rm) == {"memories": 4, "relationships": 1, "unresolved": 1}
    assert not memory_search(rm=rm, text="backoff", filters=Filters())["page_data"].items


def test_memorygraph_relationship_shows_up_on_next_request(site, server, graph):
    ids, _ = graph
    rel_id = server.relate(ids["notes"], ids["solution"], RelationshipType.CONFIRMS)
    rm = site.ensure_fresh()
    detail = selectors.memory_detail(rm=rm, memory_id=ids["solution"])
    assert rel_id in {e["id"] for edges in detail["incoming"].values() for e in edges}


# d) older file shapes -------------------------------------------------------------------


def _edge_row(path, rel_id):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    row = conn.execute("SELECT * FROM relationships WHERE id = ?", (rel_id,)).fetchone()
    conn.close()
    return {**dict(row), "props": json.loads(row["properties"])}


@pytest.mark.parametrize("shape", ["none", "half"])
def test_old_shapes_are_read_and_written(tmp_path, user, shape):
    path = tmp_path / f"old-{shape}.db"
    error, fix, note = build_old_file(path, shape)
    handle = registry.handle_for(client_for(path, slug=f"old-{shape}"))
    rm = handle.ensure_fresh()
    assert handle.store.temporal is False and handle.store.has_valid_until is (shape == "half")

    assert selectors.memory_list(rm=rm, filters=Filters()).total == 3
    detail = selectors.memory_detail(rm=rm, memory_id=error)
    assert detail["project"] == "/srv/legacy" and detail["context"] == {
        "languages": "python", "project_path": "/srv/legacy",
    }
    [edge] = detail["incoming"]["SOLVES"]
    assert edge["other_id"] == fix and edge["context"] == "pinning fixed it" and edge["current"]
    assert selectors.graph_counts(rm=rm)["unresolved"] == 0

    rel_id = services.relationship_create(
        handle=handle, actor=user, from_id=note, to_id=error, rel_type="RELATED_TO", strength=0.4,
        context="same week",
    )
    row = _edge_row(path, rel_id)
    # No temporal columns to mirror, so no temporal keys: exactly what 0.9 itself wrote.
    assert set(row["props"]) == REL_KEYS
    assert row["props"]["id"] == rel_id and row["props"]["context"] == "same week"
    assert (row["from_id"], row["to_id"], row["rel_type"]) == (note, error, "RELATED_TO")
    if shape == "half":
        assert row["valid_until"] is None and row["invalidated_by"] is None
    assert rel_id in {
        e["id"] for e in selectors.memory_detail(rm=rm, memory_id=error)["incoming"]["RELATED_TO"]
    }

    # memorygraph 0.12.4 opened on the old file (without its DDL) still parses every memory.
    server = Server(path, initialise=False)
    try:
        assert server.get(error).context.project_path == "/srv/legacy"
        assert_memorygraph_reads_everything(server, path)
        if shape == "half":
            # 0.12.4 filters on valid_until IS NULL, which the half-migrated table has.
            assert {rel.id for _, rel in server.related(error)} == {"rel-old-1", rel_id}
    finally:
        server.close()
