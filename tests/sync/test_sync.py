"""Synced client databases against a real `tursodb --sync-server`: the outbox, the replica's
owner (drain, push, verify, pull, reindex), the status page, the badge, and bad input.

The sync worker's runs are driven here one at a time (``ReplicaSync.run``); the worker
process itself, with two site instances, is tested in tests/e2e/test_sync_e2e.py.
"""
import json
from urllib.request import Request, urlopen

import pytest
import turso.lib_sync
from django.contrib.auth import get_user_model
from django.core.management import call_command

from memories import services
from memories.forms import ClientDatabaseForm
from memories.models import ClientDatabase, Membership, SyncRun, SyncState
from memories.store import registry
from memories.sync.primary import Primary
from memories.sync.replica import ReplicaSync
from memories.sync.services import synced_client_save
from tests.support.instances import cut_down, edit_form
from tests.support.loopback import Loopback

pytestmark = pytest.mark.django_db


def add_synced(slug, url, *, source="new", token_ref="", **extra):
    form = ClientDatabaseForm({"slug": slug, "name": slug.capitalize(), "mode": "synced", "source": source,
                               "remote_url": url, "token_ref": token_ref, "sync_interval": "1", **extra})
    return form


def synced(slug, url, user=None, **kwargs):
    form = add_synced(slug, url, **kwargs)
    assert form.is_valid(), form.errors
    client = synced_client_save(client=form.save(commit=False), schema_at_primary=form.schema_at_primary)
    if user is not None:
        Membership.objects.create(user=user, client=client, role=Membership.EDITOR)
    return client


@pytest.fixture
def team(turso_server, user):
    client = synced("team", turso_server.url, user)
    sync = ReplicaSync(client)
    assert not sync.run().error
    yield client, sync
    sync.close()


def primary_rows(url):
    nodes, edges = Primary(url).pipeline(
        [
            ("SELECT id, properties FROM nodes ORDER BY id", ()),
            ("SELECT id, from_id, to_id, rel_type FROM relationships ORDER BY id", ()),
        ]
    )
    return {i: json.loads(p) for i, p in nodes}, edges


def create(web, slug, title, **fields):
    response = web.post(
        f"/c/{slug}/memories/new/",
        {
            "type": "solution", "title": title, "content": f"{title} body", "tags": "sync",
            "importance": "0.5", "confidence": "0.8", **fields,
        },
    )
    assert response.status_code == 302, response.content[:500]
    return response["Location"].rstrip("/").split("/")[-1]


def test_a_new_synced_database_gets_the_memorygraph_schema_at_the_primary(turso_server):
    client = synced("team", turso_server.url)
    assert {"nodes", "relationships"} <= Primary(turso_server.url).tables()
    sync = ReplicaSync(client)
    try:
        run = sync.run()
        assert not run.error
        state = SyncState.objects.get(client=client)
        assert state.last_pull_at and state.last_ok_at and state.revision
        assert registry.handle_for(client).readmodel.is_built(client.path)
    finally:
        sync.close()


def test_validating_a_new_synced_database_writes_nothing_at_the_primary(turso_server):
    form = add_synced("team", turso_server.url)
    assert form.is_valid(), form.errors
    assert form.schema_at_primary and not Primary(turso_server.url).tables()  # saving applies it
    assert not ClientDatabase.objects.filter(slug="team").exists()
    existing = add_synced("other", turso_server.url, source="existing")
    assert not existing.is_valid() and "no tables at all" in existing.errors["remote_url"][0]


def test_a_write_shows_at_once_as_pending_then_reaches_the_primary(team, web, turso_server):
    client, sync = team
    memory_id = create(web, "team", "Pin the sync server version")
    page = web.get(f"/c/team/memories/{memory_id}/")
    assert b"pending sync" in page.content and b"Pin the sync server version" in page.content
    assert web.get(f"/c/team/memories/{memory_id}/?format=json").json()["pending_sync"] is True
    assert web.get("/c/team/search/?q=sync+server&format=json").json()["total"] == 1
    assert web.get("/c/team/freshness/?format=json").json()["pending"] == 1
    assert memory_id not in primary_rows(turso_server.url)[0]

    run = sync.run()
    assert not run.error and run.pushed == 1
    nodes, _ = primary_rows(turso_server.url)
    assert nodes[memory_id]["title"] == "Pin the sync server version"
    assert web.get(f"/c/team/memories/{memory_id}/?format=json").json()["pending_sync"] is False
    badge = web.get("/c/team/freshness/?format=json").json()
    assert badge["pending"] == 0 and badge["text"].startswith("synced ") and badge["level"] == "ok"
    assert b"synced " in web.get("/c/team/memories/").content  # the badge is on every page


def test_edits_tags_relationships_and_deletes_reach_the_primary(team, web, turso_server):
    client, sync = team
    a = create(web, "team", "Redis evicts keys")
    b = create(web, "team", "Raise maxmemory", type="problem")
    assert web.post(f"/c/team/memories/{a}/tags/", {"tag": "redis", "action": "add"}).status_code == 302
    response = web.post(
        f"/c/team/memories/{a}/relationships/new/",
        {"other": b, "direction": "out", "rel_type": "SOLVES", "strength": "0.7", "confidence": "0.9"},
    )
    assert response.status_code == 302
    assert not sync.run().error
    nodes, edges = primary_rows(turso_server.url)
    assert "redis" in nodes[a]["tags"] and [(e[1], e[2], e[3]) for e in edges] == [(a, b, "SOLVES")]

    assert web.post(f"/c/team/relationships/{edges[0][0]}/delete/").status_code == 302
    assert web.post(f"/c/team/memories/{b}/delete/").status_code == 302
    assert not sync.run().error
    nodes, edges = primary_rows(turso_server.url)
    assert set(nodes) == {a} and edges == []


def relate(web, slug, from_id, to_id, rel_type):
    response = web.post(
        f"/c/{slug}/memories/{from_id}/relationships/new/",
        {"other": to_id, "direction": "out", "rel_type": rel_type, "strength": "0.7", "confidence": "0.9"},
    )
    assert response.status_code == 302, response.content[:500]
    outgoing = web.get(f"/c/{slug}/memories/{from_id}/?format=json").json()["memory"]["outgoing"][rel_type]
    return next(edge["id"] for edge in outgoing if edge["other_id"] == to_id)


def edit(web, slug, memory_id, **fields):
    memory = web.get(f"/c/{slug}/memories/{memory_id}/?format=json").json()["memory"]
    response = web.post(f"/c/{slug}/memories/{memory_id}/edit/",
                        edit_form(memory, memory["updated_at"], **fields))
    assert response.status_code == 302, response.content[:500]


def delete(web, slug, what, object_id):
    kind = "memories" if what == "memory" else "relationships"
    assert web.post(f"/c/{slug}/{kind}/{object_id}/delete/").status_code == 302


def exported(web, path, slug, *, nodes=(), edges=(), strength=None):
    """The client's memorygraph file as exported now, cut down to the given rows."""
    data = b"".join(web.get(f"/c/{slug}/export/?format=sqlite").streaming_content)
    return cut_down(path, data, nodes=nodes, edges=edges, strength=strength)


def readmodel_state(client):
    conn = registry.handle_for(client).readmodel.conn
    return (
        {row[0] for row in conn.execute("SELECT id FROM memory")},
        {row[0] for row in conn.execute("SELECT id FROM edge")},
    )


def replica_state(sync):
    conn = sync.store.conn
    return (
        {row[0] for row in conn.execute("SELECT id FROM nodes").fetchall()},
        {row[0] for row in conn.execute("SELECT id FROM relationships").fetchall()},
    )


def test_writes_superseded_within_one_run_end_as_the_last_write_everywhere(team, web, turso_server, tmp_path):
    """Create->delete, create->edit->delete, edit->delete and delete->re-create of memories and
    relationships, and an edge queued on a memory deleted after it, all before one run: the last
    write wins at the replica, the primary and the pages, and stays so over later runs (a
    verification that judged each queued write on its own sent the overwritten upserts again)."""
    client, sync = team
    b, c = create(web, "team", "Endpoint b"), create(web, "team", "Endpoint c", type="problem")
    edited = create(web, "team", "Edited then deleted")
    recreated = create(web, "team", "Deleted then re-created")
    doomed = create(web, "team", "Deleted under a new relationship")
    edge_edited, edge_recreated = relate(web, "team", b, c, "SOLVES"), relate(web, "team", b, c, "CAUSES")
    assert not sync.run().error
    edge_edit_file = exported(web, tmp_path / "edge-edit.db", "team", edges=[edge_edited], strength=0.2)
    recreate_file = exported(web, tmp_path / "recreate.db", "team", nodes=[recreated], edges=[edge_recreated])

    created = create(web, "team", "Created then deleted")
    delete(web, "team", "memory", created)
    churned = create(web, "team", "Created, edited, deleted")
    edit(web, "team", churned, title="Created, edited, about to be deleted")
    delete(web, "team", "memory", churned)
    edit(web, "team", edited, title="Edited, about to be deleted")
    delete(web, "team", "memory", edited)
    edge_created = relate(web, "team", b, c, "RELATED_TO")
    delete(web, "team", "relationship", edge_created)
    call_command("kb_import", str(edge_edit_file), "--client", "team", verbosity=0)
    solves = web.get(f"/c/team/memories/{b}/?format=json").json()["memory"]["outgoing"]["SOLVES"]
    assert solves[0]["strength"] == 0.2
    delete(web, "team", "relationship", edge_edited)
    delete(web, "team", "memory", recreated)
    delete(web, "team", "relationship", edge_recreated)
    call_command("kb_import", str(recreate_file), "--client", "team", verbosity=0)
    relate(web, "team", doomed, b, "DEPENDS_ON")
    delete(web, "team", "memory", doomed)

    nodes, edges = {b, c, recreated}, {edge_recreated}
    gone = [created, churned, edited, doomed]
    for _ in range(3):  # the run that pushes them, and later runs that must not bring any back
        run = sync.run()
        at_primary = primary_rows(turso_server.url)
        assert (set(at_primary[0]), {edge[0] for edge in at_primary[1]}) == (nodes, edges)
        assert replica_state(sync) == (nodes, edges)
        assert readmodel_state(client) == (nodes, edges)
        for memory_id in gone:
            assert web.get(f"/c/team/memories/{memory_id}/").status_code == 404
        assert at_primary[0][recreated]["title"] == "Deleted then re-created"
        assert web.get(f"/c/team/memories/{recreated}/").status_code == 200
        assert set(web.get(f"/c/team/memories/{b}/?format=json").json()["memory"]["outgoing"]) == {"CAUSES"}
        assert not run.error and web.get("/c/team/freshness/?format=json").json()["pending"] == 0


def test_a_lost_last_write_is_sent_again_before_later_writes_not_what_it_superseded(
    team, web, turso_server, monkeypatch
):
    client, sync = team
    memory_id = create(web, "team", "Lost at the primary")
    edit(web, "team", memory_id, title="Lost at the primary, edited")
    real_push = turso.lib_sync.ConnectionSync.push

    def push_then_lose(self):  # a push that returns normally while the primary ends without the row
        real_push(self)
        Primary(turso_server.url).pipeline([("DELETE FROM nodes WHERE id = ?", (memory_id,))])

    monkeypatch.setattr(turso.lib_sync.ConnectionSync, "push", push_then_lose)
    run = sync.run()
    monkeypatch.undo()
    assert "1 change(s) were pushed but not found at the primary" in run.error
    outbox = registry.handle_for(client).readmodel.conn
    assert [tuple(r) for r in outbox.execute("SELECT op, state FROM outbox ORDER BY seq")] == [
        ("node.upsert", "pushed"), ("node.upsert", "queued"),
    ]  # only the edit is sent again
    page = web.get(f"/c/team/memories/{memory_id}/?format=json").json()
    assert page["memory"]["title"] == "Lost at the primary, edited" and page["pending_sync"] is True

    delete(web, "team", "memory", memory_id)  # queued after the lost edit, so applied after it
    for _ in range(2):
        run = sync.run()
        assert memory_id not in primary_rows(turso_server.url)[0] and replica_state(sync) == (set(), set())
        assert web.get(f"/c/team/memories/{memory_id}/").status_code == 404
        assert not run.error and web.get("/c/team/freshness/?format=json").json()["pending"] == 0


def test_two_replicas_converge(turso_server, user, web):
    one = synced("one", turso_server.url, user)
    two = synced("two", turso_server.url, user, source="existing")
    syncs = [ReplicaSync(one), ReplicaSync(two)]
    try:
        for s in syncs:
            assert not s.run().error
        first = create(web, "one", "Written on the first instance")
        second = create(web, "two", "Written on the second instance")
        for _ in range(2):  # push on both, then pull on both
            for s in syncs:
                assert not s.run().error
        for slug in ("one", "two"):
            items = web.get(f"/c/{slug}/memories/?format=json").json()["items"]
            assert {i["id"] for i in items} == {first, second}
        rows = [dict(s.store.conn.execute("SELECT id, properties FROM nodes").fetchall()) for s in syncs]
        assert rows[0] == rows[1] == {k: json.dumps(v) for k, v in primary_rows(turso_server.url)[0].items()}
    finally:
        for s in syncs:
            s.close()


def test_primary_down_reads_work_writes_queue_and_drain_on_return(team, web, turso_server):
    client, sync = team
    kept = create(web, "team", "Written while online")
    assert not sync.run().error
    turso_server.kill()

    offline = create(web, "team", "Written while the primary is down")
    run = sync.run()
    assert "Cannot reach the primary" in run.error
    assert web.get("/c/team/memories/?format=json").json()["total"] == 2  # reads keep working
    badge = web.get("/c/team/freshness/?format=json").json()
    assert badge["level"] == "bad" and badge["text"].startswith("offline since") and badge["pending"] == 1
    status = web.get("/sync/?format=json")
    assert status.status_code == 403  # alice is an editor, not an admin
    admin = get_user_model().objects.create_superuser("root", "", "pw")
    web.force_login(admin)
    row = web.get("/sync/?format=json").json()["databases"]
    row = next(r for r in row if r["slug"] == "team")
    assert (
        "Cannot reach the primary" in row["last_error"] and row["outbox_pending"] == 1 and row["error_since"]
    )
    assert b"Cannot reach the primary" in web.get("/sync/").content

    turso_server.start()
    run = sync.run()
    assert not run.error and run.pushed == 1
    nodes, _ = primary_rows(turso_server.url)
    assert {kept, offline} <= set(nodes)
    state = SyncState.objects.get(client=client)
    assert state.last_error == "" and state.error_since is None
    assert SyncRun.objects.filter(client=client).exclude(error="").count() == 1


def test_a_push_that_returns_without_sending_is_caught_and_sent_again(team, web, turso_server, monkeypatch):
    client, sync = team
    memory_id = create(web, "team", "Lost in a silent push")
    monkeypatch.setattr(turso.lib_sync.ConnectionSync, "push", lambda self: None)
    run = sync.run()
    assert "still unsent" in run.error and run.pushed == 0
    assert memory_id not in primary_rows(turso_server.url)[0]
    monkeypatch.undo()
    run = sync.run()
    assert not run.error and run.pushed == 1
    assert memory_id in primary_rows(turso_server.url)[0]


def test_a_change_from_another_replica_is_searchable_after_the_pull(team, turso_server, web):
    client, sync = team
    other = synced("other", turso_server.url, source="existing")
    other_sync = ReplicaSync(other)
    try:
        other_sync.run()
        handle = registry.handle_for(other)
        services.memory_create(
            handle=handle, actor=None,
            fields={"type": "error", "title": "Kafka consumer lag spikes", "content": "rebalance storms"},
        )
        assert not other_sync.run().error
    finally:
        other_sync.close()
    assert web.get("/c/team/search/?q=rebalance&format=json").json()["total"] == 0
    run = sync.run()
    assert run.pulled and not run.error
    assert web.get("/c/team/search/?q=rebalance&format=json").json()["total"] == 1


def test_second_owner_is_refused(team):
    client, _ = team
    second = ReplicaSync(client)
    try:
        assert "one sync worker per replica" in second.run().error
    finally:
        second.close()


def test_status_page_sync_now_and_rebuild(team, client, turso_server):
    db, sync = team
    admin = get_user_model().objects.create_superuser("root", "", "pw")
    client.force_login(admin)
    page = client.get("/sync/")
    assert page.status_code == 200 and b"Turso Sync replica" in page.content and b"<svg" in page.content
    response = client.post("/sync/team/now/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"Syncing" in response.content and b"every 1s" in response.content
    assert SyncState.objects.get(client=db).sync_requested_at is not None
    response = client.post("/sync/team/rebuild/", HTTP_HX_REQUEST="true")
    assert b"Rebuilding" in response.content
    assert client.post("/sync/team/rebuild/").status_code == 409  # one at a time
    result = sync.rebuild()
    assert result["memories"] == 0
    data = client.get("/sync/team/?format=json").json()
    assert data["slug"] == "team" and data["history"] and "remote_url" in data
    assert "token" not in json.dumps(data).lower().replace("token_ref", "")


# Bad input: wrong token, unreachable, another schema ------------------------------------------


def token_checking_proxy(upstream, token):
    """Stands in for Turso Cloud's token check (outside the project) in front of the real server."""

    def forward(handler):
        if handler.headers.get("Authorization") != f"Bearer {token}":
            handler.send_response(401)
            handler.end_headers()
            handler.wfile.write(b'{"error":"Unauthorized"}')
            return
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0)) or None
        request = Request(
            upstream + handler.path, data=body, method=handler.command,
            headers={k: v for k, v in handler.headers.items() if k.lower() != "host"},
        )
        with urlopen(request, timeout=10) as response:
            payload = response.read()
            handler.send_response(response.status)
            for key, value in response.headers.items():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)

    return Loopback(forward)


@pytest.fixture
def auth_proxy(turso_server):
    proxy = token_checking_proxy(turso_server.url, "right-token")
    yield proxy
    proxy.close()


def test_the_right_token_works_through_an_authenticating_primary(auth_proxy, monkeypatch):
    monkeypatch.setenv("KB_TEST_TOKEN", "right-token")
    client = synced("team", auth_proxy.url, token_ref="env:KB_TEST_TOKEN")
    sync = ReplicaSync(client)
    try:
        assert not sync.run().error
    finally:
        sync.close()


def test_a_wrong_token_is_a_clear_error_and_writes_nothing(auth_proxy, turso_server, monkeypatch):
    monkeypatch.setenv("KB_TEST_TOKEN", "wrong-token")
    form = add_synced("team", auth_proxy.url, token_ref="env:KB_TEST_TOKEN")
    assert not form.is_valid()
    assert "refused the auth token (HTTP 401)" in form.errors["remote_url"][0]
    assert Primary(turso_server.url).tables() == set()  # no schema was applied
    assert not ClientDatabase.objects.filter(slug="team").exists()


def test_a_token_that_goes_bad_is_reported_by_the_worker_without_damage(
    auth_proxy, turso_server, monkeypatch, user, web
):
    monkeypatch.setenv("KB_TEST_TOKEN", "right-token")
    client = synced("team", auth_proxy.url, user, token_ref="env:KB_TEST_TOKEN")
    sync = ReplicaSync(client)
    try:
        assert not sync.run().error
        kept = create(web, "team", "Before the token was rotated")
        assert not sync.run().error
        sync.close()
        monkeypatch.setenv("KB_TEST_TOKEN", "rotated-elsewhere")
        sync = ReplicaSync(client)
        queued = create(web, "team", "After the token was rotated")
        run = sync.run()
        assert "401" in run.error
        assert set(primary_rows(turso_server.url)[0]) == {kept}
        assert web.get("/c/team/memories/?format=json").json()["total"] == 2  # nothing lost locally
        sync.close()
        monkeypatch.setenv("KB_TEST_TOKEN", "right-token")
        sync = ReplicaSync(client)
        assert not sync.run().error
        assert set(primary_rows(turso_server.url)[0]) == {kept, queued}
    finally:
        sync.close()


def test_missing_token_variable_and_bad_reference(turso_server, monkeypatch):
    monkeypatch.delenv("KB_UNSET_TOKEN", raising=False)
    form = add_synced("team", turso_server.url, token_ref="env:KB_UNSET_TOKEN")
    assert not form.is_valid() and "KB_UNSET_TOKEN is not set" in form.errors["token_ref"][0]
    form = add_synced("team", turso_server.url, token_ref="hunter2")
    assert not form.is_valid() and "not a token reference" in form.errors["token_ref"][0]


def test_an_unreachable_primary_is_refused(tmp_path):
    from tests.support.turso_server import free_port

    form = add_synced("team", f"http://127.0.0.1:{free_port()}")
    assert not form.is_valid() and "Cannot reach the primary" in form.errors["remote_url"][0]
    form = add_synced("team", "ftp://example.invalid/db")
    assert not form.is_valid() and "libsql://" in form.errors["remote_url"][0]


def test_a_primary_of_another_schema_is_refused_and_left_alone(turso_server):
    primary = Primary(turso_server.url)
    primary.pipeline(
        [
            ("CREATE TABLE memories (id TEXT PRIMARY KEY, title TEXT)", ()),
            ("INSERT INTO memories VALUES ('m1', 'kept')", ()),
        ]
    )
    for source in ("new", "existing"):
        form = add_synced("team", turso_server.url, source=source)
        assert not form.is_valid()
        assert "found memories" in form.errors["remote_url"][0], form.errors
    assert primary.tables() == {"memories"}
    assert primary.pipeline([("SELECT title FROM memories", ())])[0] == [("kept",)]


def test_new_on_a_primary_that_already_holds_memories_points_to_existing(turso_server):
    synced("team", turso_server.url)
    form = add_synced("again", turso_server.url, source="new")
    assert not form.is_valid() and "already holds a memorygraph database" in form.errors["remote_url"][0]
    assert add_synced("again", turso_server.url, source="existing").is_valid()


def test_worker_reports_a_primary_whose_schema_changed_under_it(turso_server, user):
    client = synced("team", turso_server.url)
    Primary(turso_server.url).pipeline(
        [("DROP TABLE relationships", ()), ("DROP TABLE nodes", ()), ("CREATE TABLE notes (id TEXT)", ())]
    )
    sync = ReplicaSync(client)
    try:
        run = sync.run()
        assert "not a memorygraph" in run.error
        assert SyncState.objects.get(client=client).error_since is not None
    finally:
        sync.close()


def test_staff_create_a_synced_database_in_the_admin(client, turso_server):
    admin = get_user_model().objects.create_superuser("root", "", "pw")
    client.force_login(admin)
    form = {
        "slug": "team", "name": "Team", "mode": "synced", "source": "new", "path": "",
        "remote_url": turso_server.url, "token_ref": "", "sync_interval": "2", "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = client.post("/admin/memories/clientdatabase/add/", form)
    assert response.status_code == 302, response.content[:2000]
    created = ClientDatabase.objects.get(slug="team")
    assert created.synced and created.path.endswith("replicas/team.db") and created.sync_interval == 2
    assert {"nodes", "relationships"} <= Primary(turso_server.url).tables()
    # Until the worker's first run, pages say what is missing instead of failing.
    page = client.get("/c/team/memories/")
    assert page.status_code == 503 and b"kb_sync" in page.content
    # A replica of the same primary, and the list page of the admin with its status link.
    response = client.post(
        "/admin/memories/clientdatabase/add/", {**form, "slug": "mirror", "source": "existing"}
    )
    assert response.status_code == 302
    assert b"/sync/#sync-team" in client.get("/admin/memories/clientdatabase/").content
