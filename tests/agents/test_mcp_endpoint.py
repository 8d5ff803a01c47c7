"""The MCP endpoint /c/<client>/mcp/, driven by the official SDK's streamable-HTTP client.

Against a real server: the site in a live server thread (pytest-django's live_server), one
test under gunicorn as `make run` serves it, and on a synced client database two gunicorn
instances on a real tursodb (e2e). memorygraph 0.12.4 is the reference for tools and texts.
"""
import asyncio
import json
import re
from datetime import timedelta

import anyio
import httpx
import httpx2
import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from memorygraph.config import TOOL_PROFILES
from memorygraph.server import ClaudeMemoryServer

from memories import services
from memories.agents.keys import api_key_create, api_key_revoke
from memories.devdata.loader import load_graph
from memories.format import memory_row_errors
from memories.models import AuditEntry
from memories.store import registry
from tests.support.clients import register_client

pytestmark = pytest.mark.django_db(transaction=True)

WRITES = {"store_memory", "update_memory", "delete_memory", "create_relationship"}
# memorygraph's tools that its cloud backend serves: the core profile and the extended tools whose
# handlers need only CloudMemoryDatabase's methods (search_relationships_by_context needs another).
CLOUD = [*TOOL_PROFILES["core"], "get_memory_statistics", "contextual_search"]


async def _session(url, key, work, header="Authorization"):
    value = f"Bearer {key}" if header == "Authorization" else key
    async with httpx2.AsyncClient(headers={header: value}, timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                return await work(session)


def agent(url, key, calls, header="Authorization"):
    """Run (tool, arguments) calls in one MCP session; the results' (text, is_error)."""
    async def work(session):
        results = []
        for name, arguments in calls:
            result = await session.call_tool(name, arguments)
            results.append(("".join(c.text for c in result.content), bool(result.is_error)))
        return results
    return anyio.run(_session, url, key, work, header)


def listed(url, key):
    async def work(session):
        return (await session.list_tools()).tools
    return anyio.run(_session, url, key, work)


async def _store_result(results, n, coroutine):
    results[n] = await coroutine


def stored_id(text):
    return re.fullmatch(r"Memory stored successfully with ID: (\S+)", text).group(1)


@pytest.fixture
def keys(team, user):
    client = team.client
    return {role: api_key_create(client=client, actor=user, name=f"{role} key", role=role)[1]
            for role in ("read", "write")}


@pytest.fixture
def url(live_server, team):
    return f"{live_server.url}/c/team/mcp/"


def counts(handle):
    rm = handle.readmodel.conn
    canonical = handle.store
    return (rm.execute("SELECT count(*) FROM memory").fetchone()[0],
            rm.execute("SELECT count(*) FROM edge").fetchone()[0], canonical.count_nodes(),
            AuditEntry.objects.count())


def test_tools_are_memorygraphs_cloud_tools_with_identical_schemas(url, keys):
    reference = {t.name: t for t in ClaudeMemoryServer._collect_all_tools(None)}
    tools = listed(url, keys["write"])
    assert [t.name for t in tools] == [name for name in reference if name in CLOUD]
    assert sorted(t.name for t in tools) == sorted(CLOUD)
    for tool in tools:
        mine = tool.model_dump(exclude_none=True)
        theirs = reference[tool.name].model_dump(exclude_none=True)
        assert mine == theirs, tool.name
    read_tools = listed(url, keys["read"])
    assert sorted(t.name for t in read_tools) == sorted(set(CLOUD) - WRITES)


def store(title, content, type_="solution", **extra):
    return ("store_memory", {"type": type_, "title": title, "content": content, **extra})


def relate(from_id, to_id, rel_type, **extra):
    arguments = {"from_memory_id": from_id, "to_memory_id": to_id, "relationship_type": rel_type}
    return ("create_relationship", {**arguments, **extra})


def test_journey_store_relate_search_get_update_delete(url, keys, team, web):
    key = keys["write"]
    calls = [store("ZKP handshake for the device pairing", "Pairing uses a zero-knowledge proof.",
                   "technology", tags=["Pairing", "crypto"], importance=0.4)]
    # Many bodies mention the acronym; the one with it in its title must still come first.
    calls += [store(f"Pairing note {n}", f"ZKP ZKP ZKP detail {n} about pairing retries", "general")
              for n in range(15)]
    calls += [store("Pairing times out on Android 14", "Bluetooth pairing stalls after 30 s.", "problem",
                    importance=0.9, context={"project_path": "/srv/app", "languages": ["kotlin"]}),
              store("Retry pairing with exponential backoff", "Back off 1, 2, 4 s.", "solution"),
              store("Pairing crashes when the radio is off", "NullPointerException in the pairing service.",
                    "error", importance=0.7),
              store("Bluetooth stack of Android 14", "Notes on the new stack.", "technology")]
    results = agent(url, key, calls)
    assert all(not error for _, error in results), results
    ids = [stored_id(text) for text, _ in results]
    zkp, problem, solution, crash, stack = ids[0], ids[16], ids[17], ids[18], ids[19]

    relations = agent(url, key, [
        relate(solution, problem, "SOLVES", strength=0.9, context="fixes it in production"),
        relate(problem, stack, "OCCURS_IN"), relate(stack, zkp, "USED_IN"),
    ])
    assert all(re.fullmatch(r"Relationship created successfully: \S+", text)
               for text, _ in relations), relations

    answers = agent(url, key, [
        ("search_memories", {"query": "ZKP"}), ("recall_memories", {"query": "ZKP"}),
        ("get_memory", {"memory_id": problem}),
        ("get_related_memories", {"memory_id": solution, "max_depth": 2}),
        ("get_related_memories", {"memory_id": solution, "max_depth": 1}),
        ("get_recent_activity", {"days": 7}), ("get_memory_statistics", {}),
    ])
    assert not any(error for _, error in answers), answers
    search, recall, got, related, related1, activity, stats = (text for text, _ in answers)
    assert search.startswith("Found 16 memories:\n\n**1. ZKP handshake for the device pairing** (ID: " + zkp)
    assert recall.startswith("**Found 16 relevant memories:**\n\n**1. ZKP handshake for the device pairing**")
    assert got.startswith("**Memory: Pairing times out on Android 14**\nType: problem\n")
    assert "Importance: 0.9\n" in got and "**Content:**\nBluetooth pairing stalls after 30 s." in got
    assert "**Context:**\n  Project: /srv/app\n  Languages: kotlin" in got
    assert related.startswith("Found 2 related memories:\n\n"
                              f"**1. Pairing times out on Android 14** (ID: {problem})")
    assert "Relationship: SOLVES (strength: 0.9)" in related
    assert "**2. Bluetooth stack of Android 14**" in related
    assert related1.startswith("Found 1 related memories:")
    # The crash (an error) has no solution; the timeout has one.
    assert "**Total Memories**: 20" in activity
    assert ("**⚠️ Unresolved Problems (1)**:\n"
            "- **Pairing crashes when the radio is off** (importance: 0.7)") in activity
    assert "Total Memories: 20\n" in stats and "Total Relationships: 3\n" in stats

    # At once in the site's search and graph (same request: no sync step).
    found = web.get("/c/team/search/?q=ZKP&format=json").json()
    assert found["items"][0]["id"] == zkp and found["total"] == 16
    graph = web.get(f"/c/team/graph/?memory={problem}&depth=2&format=json").json()
    assert {solution, stack, zkp} <= {node["id"] for node in graph["nodes"]}
    entry = AuditEntry.objects.filter(object_id=zkp, action="memory.create").get()
    assert entry.via_key == "write key" and entry.actor.username == "alice"

    (updated, _), (after, _), (deleted, _), (gone, gone_error), (again, again_error) = agent(url, key, [
        ("update_memory", {"memory_id": problem, "title": "Pairing times out on Android 14 and 15",
                           "tags": ["Android"]}),
        ("get_memory", {"memory_id": problem}),
        ("delete_memory", {"memory_id": crash}),
        ("get_memory", {"memory_id": crash}),
        ("delete_memory", {"memory_id": crash}),
    ])
    assert updated == f"Memory updated successfully: {problem}"
    assert after.startswith("**Memory: Pairing times out on Android 14 and 15**")
    assert "Tags: android\n" in after
    assert deleted == f"Memory deleted successfully: {crash}"
    assert (gone, gone_error) == (f"Memory not found: {crash}", True)
    assert (again, again_error) == (f"Failed to delete memory (may not exist): {crash}", True)
    assert web.get(f"/c/team/memories/{crash}/").status_code == 404
    assert web.get(f"/c/team/memories/{problem}/?format=json").json()["memory"]["tags"] == ["android"]


def test_texts_equal_memorygraphs_own_for_the_same_file(url, keys, team):
    """memorygraph's SQLite database over the same file, through the same handlers."""
    from memorygraph.backends.sqlite_fallback import SQLiteFallbackBackend
    from memorygraph.sqlite_database import SQLiteMemoryDatabase
    from memorygraph.tools.registry import get_handler

    results = agent(url, keys["write"], [
        store("Flaky CI on ARM runners", "Tests time out on ARM.", "problem", tags=["ci"], summary="ARM only",
              context={"project_path": "/srv/ci", "files_involved": ["a.py", "b.py", "c.py", "d.py"],
                       "git_branch": "main"}),
        store("Pin the runner image", "Use image 2024.11.", "solution")])
    problem, solution = (stored_id(text) for text, _ in results)
    agent(url, keys["write"], [("create_relationship", {"from_memory_id": solution, "to_memory_id": problem,
                                                        "relationship_type": "SOLVES", "strength": 0.7})])
    calls = [("get_memory", {"memory_id": problem}),
             ("get_related_memories", {"memory_id": problem, "max_depth": 1}),
             ("get_memory", {"memory_id": "no-such-id"})]
    ours = agent(url, keys["read"], calls)

    async def theirs():
        backend = SQLiteFallbackBackend(db_path=str(team.client.path))
        await backend.connect()
        database = SQLiteMemoryDatabase(backend)
        try:
            out = []
            for name, arguments in calls:
                result = await get_handler(name)(database, arguments)
                out.append(("".join(c.text for c in result.content), bool(result.is_error)))
            return out
        finally:
            await backend.disconnect()
    assert ours == asyncio.run(theirs())


def post(url, key=None, header="Authorization", method="tools/list", params=None):
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if key is not None:
        headers[header] = f"Bearer {key}" if header == "Authorization" else key
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    return httpx.post(url, json=body, headers=headers, timeout=20)


def test_auth_matrix(url, keys, team, user, live_server, tmp_path, empty_file):
    client = team.client
    expired, expired_raw = api_key_create(client=client, actor=user, name="expired", role="write",
                                          expires_at=timezone.now() + timedelta(seconds=1))
    type(expired).objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked, revoked_raw = api_key_create(client=client, actor=user, name="revoked", role="write")
    api_key_revoke(key=revoked, actor=user)
    other = register_client("other", tmp_path / "other.db")
    load_graph(str(tmp_path / "other.db"), [], [])
    _, other_raw = api_key_create(client=other, actor=user, name="other", role="write")
    refused = {"none": None, "wrong": "mg_" + "x" * 43, "not ours": "sk-something", "expired": expired_raw,
               "revoked": revoked_raw, "another client's": other_raw}
    before = counts(team)
    for what, key in refused.items():
        for header in ("Authorization", "X-API-Key"):
            response = post(url, key, header, "tools/call", {"name": "store_memory", "arguments": {
                "type": "general", "title": "t", "content": "c"}})
            assert response.status_code == 401, (what, header, response.text)
            assert response.headers["WWW-Authenticate"].startswith("Bearer ")
            assert "Invalid API key" in response.json()["error"]
    assert counts(team)[:3] == before[:3]
    # A logged-in session does not open it: only keys do.
    browser = Client()
    browser.force_login(user)
    assert browser.post("/c/team/mcp/", "{}", content_type="application/json").status_code == 401
    # Read key: read tools only; a write tool is an MCP tool error, nothing written.
    (text, error), (_, search_error) = agent(url, keys["read"], [store("t", "c"),
                                                                 ("search_memories", {"query": "t"})])
    assert not search_error
    assert error and "may only read" in text
    assert counts(team)[:3] == before[:3]
    # Write key, by either header.
    for header in ("Authorization", "X-API-Key"):
        [(text, error)] = agent(url, keys["write"], [store(f"by {header}", "c")], header)
        assert not error and text.startswith("Memory stored successfully")
    assert listed(url, keys["write"])
    assert post(url.replace("/team/", "/nowhere/"), keys["write"]).status_code == 404
    for method in ("GET", "DELETE", "PUT"):
        response = httpx.request(method, url, headers={"Authorization": f"Bearer {keys['read']}"})
        assert response.status_code == 405 and response.headers["Allow"] == "POST", method
    assert httpx.get(url).status_code == 401


def test_over_the_rate_is_429_with_retry_after(url, keys, settings):
    settings.KB_API_READS_PER_MIN = 3
    statuses = [post(url, keys["read"]) for _ in range(5)]
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
    assert statuses[3].status_code == 429 and 1 <= int(statuses[3].headers["Retry-After"]) <= 60
    settings.KB_API_WRITES_PER_MIN = 1
    args = {"name": "store_memory", "arguments": {"type": "general", "title": "t", "content": "c"}}
    settings.KB_API_READS_PER_MIN = 100
    assert post(url, keys["write"], method="tools/call", params=args).status_code == 200
    assert post(url, keys["write"], method="tools/call", params=args).status_code == 429


def test_bad_input_is_a_tool_error_with_nothing_written(url, keys, team, tmp_path, user):
    [(text, _)] = agent(url, keys["write"], [store("Anchor", "c")])
    anchor = stored_id(text)
    other = register_client("other", tmp_path / "other.db")
    load_graph(str(tmp_path / "other.db"), [], [])
    other_handle = registry.handle_for(other)
    other_handle.ensure_fresh()
    foreign = services.memory_create(handle=other_handle, actor=user,
                                     fields={"type": "general", "title": "theirs", "content": "c"})
    before = counts(team)
    bad = [
        store(123, "c"), store("t", ["not", "text"]), store("t", "c", "no_such_type"),
        store("t", "c", tags="x"),
        store("t", "c", importance="high"), store("t", "c", importance=1.5), store("x" * 201, "c"),
        store("t", "x" * 50_001), store("t", "c", summary="s" * 501), store("", "c"),
        ("store_memory", {"title": "no type", "content": "c"}),
        relate(anchor, anchor, "SOLVES"), relate(anchor, foreign, "SOLVES"), relate(anchor, "nope", "SOLVES"),
        relate(anchor, foreign, "FIXES_ALL"), relate(5, anchor, "SOLVES"),
        relate(anchor, foreign, "SOLVES", strength=2),
        ("update_memory", {"memory_id": anchor, "title": "y" * 201}),
        ("update_memory", {"memory_id": anchor, "content": "z" * 50_001}),
        ("update_memory", {"memory_id": foreign, "title": "mine now"}),
        ("delete_memory", {"memory_id": foreign}), ("get_memory", {"memory_id": foreign}),
        ("get_memory", {"memory_id": ["a"]}),
        ("get_related_memories", {"memory_id": anchor, "max_depth": "deep"}),
        ("get_recent_activity", {"days": "many"}), ("no_such_tool", {}),
    ]
    results = agent(url, keys["write"], bad)
    for (name, arguments), (text, error) in zip(bad, results):
        assert error, (name, arguments, text)
        assert "Traceback" not in text
    assert counts(team) == before
    assert "theirs" not in agent(url, keys["read"], [("search_memories", {"query": "theirs"})])[0][0]
    # Malformed JSON and an oversized body are HTTP errors from the endpoint itself.
    headers = {"Authorization": f"Bearer {keys['write']}", "Content-Type": "application/json",
               "Accept": "application/json, text/event-stream"}
    assert httpx.post(url, content=b"{not json", headers=headers).status_code == 400
    assert httpx.post(url, content=b"[" * 2_000_000, headers=headers).status_code == 413
    assert counts(team) == before


KEY_SCRIPT = (
    "from django.contrib.auth import get_user_model\n" "from memories.agents.keys import api_key_create\n"
    "from memories.store.registry import get_client\n"
    "admin = get_user_model().objects.get(username='admin')\n"
    "print(api_key_create(client=get_client('{slug}'), actor=admin, name='agent', role='{role}')[1])\n"
)


def new_key(instance, slug, role="write"):
    output = instance.manage("shell", "-c", KEY_SCRIPT.format(slug=slug, role=role)).stdout
    return output.strip().splitlines()[-1]


@pytest.fixture
def served(tmp_path):
    """The site as `make run` serves it: migrate, kb_bootstrap, gunicorn kbsite.wsgi (sync workers)."""
    from tests.support.instances import Instance

    instance = Instance(tmp_path, "site", "")
    instance.manage("migrate", "--noinput", "-v0")
    instance.manage("kb_bootstrap", "--url", instance.url)
    instance.start_web()
    yield instance
    instance.stop()


def test_under_gunicorn_as_make_run_serves_it(served):
    key = new_key(served, "default")
    url = f"{served.url}/c/default/mcp/"
    assert sorted(t.name for t in listed(url, key)) == sorted(CLOUD)
    [(text, error), (found, _)] = agent(url, key, [
        store("QUIC handshake stalls behind the corporate proxy", "UDP 443 is dropped.", "problem"),
        ("search_memories", {"query": "QUIC"})])
    assert not error
    memory_id = stored_id(text)
    assert found.startswith("Found 1 memories:\n\n"
                            f"**1. QUIC handshake stalls behind the corporate proxy** (ID: {memory_id})")
    # Seen at once by the other worker processes' pages too.
    for _ in range(4):
        page = served.http.get(f"/c/default/memories/{memory_id}/?format=json")
        assert page.json()["memory"]["title"].startswith("QUIC handshake")
    response = post(url, key)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert post(url, None).status_code == 401
    # Four agents writing at once, across both workers and their threads: nothing lost, nothing doubled.
    async def burst(n):
        async def work(session):
            return [(await session.call_tool("store_memory", {"type": "general", "title": f"burst {n} {i}",
                                                              "content": "c"})).is_error for i in range(10)]
        return await _session(url, key, work)

    async def all_bursts():
        results = {}
        async with anyio.create_task_group() as group:
            for n in range(4):
                group.start_soon(lambda n=n: _store_result(results, n, burst(n)))
        return results
    assert not any(any(errors) for errors in anyio.run(all_bursts).values())
    [(found, _)] = agent(url, key, [("search_memories", {"query": "burst", "limit": 100})])
    titles = re.findall(r"\*\*\d+\. (burst \d+ \d+)\*\*", found)
    assert sorted(titles) == sorted(f"burst {n} {i}" for n in range(4) for i in range(10))
    # memorygraph's import-time logging.basicConfig stays out of the log (agents/mcp/__init__.py).
    assert " - INFO - " not in (served.dir / "web.log").read_text()


@pytest.mark.e2e
def test_on_a_synced_database_the_write_reaches_the_second_instance(tmp_path, turso_server):
    from tests.support.instances import Instance, wait_until

    one = Instance(tmp_path, "one", turso_server.url).setup()
    two = Instance(tmp_path, "two", turso_server.url).setup()
    try:
        one.start()
        two.start()
        wait_until(lambda: one.badge()["level"] == "ok" and two.badge()["level"] == "ok", 20,
                   what="both instances synced")
        key = new_key(one, "team")
        url = f"{one.url}/c/team/mcp/"
        results = agent(url, key, [
            store("HSTS preload breaks the staging subdomain", "Preload covers all.", "problem"),
            store("Serve staging from a separate registrable domain", "staging.example.dev", "solution")])
        problem, solution = (stored_id(text) for text, _ in results)
        [(related, _)] = agent(url, key, [relate(solution, problem, "SOLVES")])
        assert related.startswith("Relationship created successfully")
        # Searchable at once on this instance (the outbox overlays the read model), and on the other
        # after sync.
        [(found, _)] = agent(url, key, [("search_memories", {"query": "HSTS"})])
        assert found.startswith("Found 1 memories:\n\n**1. HSTS preload breaks the staging subdomain**")
        wait_until(
            lambda: {problem, solution} <= set(two.memories()), 15, what="both memories on instance two"
        )
        key_two = new_key(two, "team", "read")
        [(activity, _), (other_side, _)] = agent(
            f"{two.url}/c/team/mcp/", key_two,
            [("get_related_memories", {"memory_id": problem}), ("search_memories", {"query": "HSTS"})],
        )
        assert "Serve staging from a separate registrable domain" in activity and "SOLVES" in activity
        assert other_side.startswith("Found 1 memories:\n\n**1. HSTS preload breaks the staging subdomain**")
    finally:
        one.stop()
        two.stop()


SCHEMA_KEYS = sorted(
    {
        key for tool in ClaudeMemoryServer._collect_all_tools(None) if tool.name in CLOUD
        for key in tool.input_schema.get("properties", {})
    }
)
scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(allow_nan=False),
    st.text(max_size=60), st.sampled_from(["solution", "problem", "SOLVES", "x" * 201, ""]),
)
value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=8,
)


@pytest.fixture
def unlimited(settings):
    settings.KB_API_READS_PER_MIN = settings.KB_API_WRITES_PER_MIN = 10**6


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.one_of(st.sampled_from(CLOUD), st.text(max_size=20)),
    arguments=st.one_of(st.dictionaries(st.sampled_from(SCHEMA_KEYS), value, max_size=6), value),
)
def test_fuzzed_tool_calls_are_answers_or_tool_errors_never_a_500(team, keys, unlimited, name, arguments):
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    )
    response = Client().post(
        "/c/team/mcp/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {keys['write']}",
        HTTP_ACCEPT="application/json, text/event-stream",
    )
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 200:
        answer = response.json()
        assert "result" in answer or "error" in answer
    for memory_id, props, _ in team.store.iter_nodes():
        assert not memory_row_errors(memory_id, props), (memory_id, props)


def test_related_memories_deep_walks_are_bounded(live_server, client_db, handle, user):
    _, key = api_key_create(client=client_db, actor=user, name="reader", role="read")
    hub = handle.readmodel.conn.execute(
        "SELECT id FROM (SELECT from_id AS id FROM edge UNION ALL SELECT to_id FROM edge) "
        "GROUP BY id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    (one, _), (five, _) = agent(
        f"{live_server.url}/c/acme/mcp/",
        key,
        [
            ("get_related_memories", {"memory_id": hub, "max_depth": 1}),
            ("get_related_memories", {"memory_id": hub, "max_depth": 5}),
        ],
    )
    near = int(re.match(r"Found (\d+) related memories", one).group(1))
    far = int(re.match(r"Found (\d+) related memories", five).group(1))
    assert 1 <= near <= 20 and near < far <= 200


def test_the_configuration_lines_a_key_page_can_show(team, keys, rf):
    from memories.agents.mcp.setup import endpoint_url, http_config

    url = endpoint_url(rf.get("/"), team.client)
    assert url == "http://testserver/c/team/mcp/"
    config = http_config(url=url, key=keys["write"])
    assert config["cli"] == (
        f"claude mcp add --transport http team-kb http://testserver/c/team/mcp/ "
        f"--header 'Authorization: Bearer {keys['write']}'"
    )
    assert json.loads(config["json"]) == {
        "mcpServers": {
            "team-kb": {"type": "http", "url": url, "headers": {"Authorization": f"Bearer {keys['write']}"}}
        }
    }
