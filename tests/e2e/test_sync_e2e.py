"""End to end, as in production: a real `tursodb --sync-server` primary and two site
instances, each with its own replica, `manage.py kb_sync` worker and gunicorn, talked to
over HTTP. The primary and the workers are killed and restarted mid-run.
"""
import json
import random
import signal
import time

import pytest

from memories.sync.primary import Primary
from tests.support.instances import Instance, cut_down, wait_until
from tests.support.paths import ROOT

pytestmark = pytest.mark.e2e

INTERVAL = 1.0


@pytest.fixture
def primary(turso_server):
    return turso_server


@pytest.fixture
def one(tmp_path, primary):
    instance = Instance(tmp_path, "one", primary.url, interval=str(INTERVAL)).setup()
    yield instance
    instance.stop()


@pytest.fixture
def two(tmp_path, primary, one):
    instance = Instance(tmp_path, "two", primary.url, interval=str(INTERVAL)).setup()
    yield instance
    instance.stop()


def primary_nodes(url):
    rows = Primary(url).pipeline([("SELECT id, properties FROM nodes", ())])[0]
    return {memory_id: json.loads(props) for memory_id, props in rows}


def synced_ok(instance):
    badge = instance.badge()
    return badge["level"] == "ok" and badge["pending"] == 0 and badge


def test_a_change_on_one_instance_appears_on_the_other_within_the_interval_plus_a_second(one, two):
    one.start()
    two.start()
    wait_until(lambda: synced_ok(one) and synced_ok(two), 15, what="both instances synced")
    delays = []
    for n in range(3):
        started = time.monotonic()
        memory_id = one.create(f"Shared finding {n}")
        wait_until(lambda: memory_id in two.memories(), INTERVAL * 2 + 1, what="the memory on instance two")
        delays.append(time.monotonic() - started)
    print(f"write on one -> visible on two: {', '.join(f'{d * 1000:.0f} ms' for d in delays)}")
    # Two workers each run every INTERVAL: one pushes within it, the other pulls within it.
    assert max(delays) <= 2 * INTERVAL + 1
    assert sorted(delays)[1] <= INTERVAL + 1


def test_primary_killed_and_restarted_both_instances_converge(one, two, primary):
    one.start()
    two.start()
    base = one.create("Written before the outage")
    wait_until(lambda: base in two.memories(), 10, what="first sync")

    primary.kill()
    written = [one.create(f"Offline on one {n}") for n in range(3)]
    written += [two.create(f"Offline on two {n}") for n in range(3)]
    one.edit(base, title="Edited on one while offline")
    for instance in (one, two):
        badge = wait_until(lambda: instance.badge()["level"] == "bad" and instance.badge(), 10,
                           what=f"{instance.name} reports the outage")
        assert badge["text"].startswith("offline since") and badge["pending"] >= 3
        assert set(written[:3] if instance is one else written[3:]) <= set(instance.memories())  # reads work

    primary.start()
    for instance in (one, two):
        wait_until(lambda: synced_ok(instance), 20, what=f"{instance.name} drained its queue")
    expected = {base, *written}
    wait_until(
        lambda: set(one.memories()) == set(two.memories()) == expected, 10, what="both see every memory"
    )
    wait_until(lambda: one.memories() == two.memories(), 10, what="identical versions")
    at_primary = primary_nodes(primary.url)
    assert set(at_primary) == expected
    assert at_primary[base]["title"] == "Edited on one while offline"
    replicas = []
    for instance in (one, two):
        instance.stop_worker()  # release the replica to read it directly
        replicas.append(replica_rows(instance))
    assert replicas[0] == replicas[1] == {k: json.dumps(v) for k, v in at_primary.items()}


def relate(instance, from_id, to_id, rel_type):
    """Relates two memories on the instance; returns the new relationship's id."""
    instance.relate(from_id, to_id, rel_type)
    memory = instance.http.get(f"/c/team/memories/{from_id}/?format=json").json()["memory"]
    return next(edge["id"] for edge in memory["outgoing"][rel_type] if edge["other_id"] == to_id)


def delete(instance, kind, object_id):
    response = instance._post(f"/c/team/{kind}/{object_id}/delete/", {})
    assert response.status_code == 302, response.text[:500]


def exported(instance, path, *, nodes=(), edges=(), strength=None):
    """The instance's export as a memorygraph file, cut down to the given rows."""
    data = instance.http.get("/c/team/export/?format=sqlite").content
    return cut_down(path, data, nodes=nodes, edges=edges, strength=strength)


def kb_import(instance, path):
    result = instance.manage("kb_import", str(path), "--client", "team", "-v0")
    assert "Imported" in result.stdout, result.stdout + result.stderr


def pages_state(instance):
    """(memory ids, relationship ids) as the instance's pages show them."""
    memories = set(instance.memories())
    edges = set()
    for memory_id in memories:
        page = instance.http.get(f"/c/team/memories/{memory_id}/?format=json")
        if page.status_code != 200:  # deleted by a pull between the list and its page (404): look again
            return None
        memory = page.json()["memory"]
        edges |= {edge["id"] for group in memory["outgoing"].values() for edge in group}
    return memories, edges


def primary_state(url):
    nodes, edges = Primary(url).pipeline([("SELECT id FROM nodes", ()), ("SELECT id FROM relationships", ())])
    return {row[0] for row in nodes}, {row[0] for row in edges}


def test_writes_superseded_before_a_run_end_as_the_last_write_on_both_instances(one, two, primary, tmp_path):
    """Create->delete, edit->delete, delete->re-create of memories and relationships, and a
    relationship on a memory deleted after it, all within one run of instance one's worker:
    both instances and the primary end with the last write, and later runs bring nothing back."""
    one.start()
    two.start()
    b, c = one.create("Endpoint b"), one.create("Endpoint c", type="problem")
    edited, recreated = one.create("Edited then deleted"), one.create("Deleted then re-created")
    doomed = one.create("Deleted under a new relationship")
    edge_edited, edge_recreated = relate(one, b, c, "SOLVES"), relate(one, b, c, "CAUSES")
    before = ({b, c, edited, recreated, doomed}, {edge_edited, edge_recreated})
    wait_until(lambda: synced_ok(one) and pages_state(two) == before, 15, what="the first writes on two")
    edge_edit_file = exported(one, tmp_path / "edge-edit.db", edges=[edge_edited], strength=0.2)
    recreate_file = exported(one, tmp_path / "recreate.db", nodes=[recreated], edges=[edge_recreated])

    one.stop_worker()  # so that every write below goes into the worker's next run
    created = one.create("Created then deleted")
    delete(one, "memories", created)
    one.edit(edited, title="Edited, about to be deleted")
    delete(one, "memories", edited)
    delete(one, "relationships", relate(one, b, c, "RELATED_TO"))
    kb_import(one, edge_edit_file)
    delete(one, "relationships", edge_edited)
    delete(one, "memories", recreated)
    delete(one, "relationships", edge_recreated)
    kb_import(one, recreate_file)
    relate(one, doomed, b, "DEPENDS_ON")
    delete(one, "memories", doomed)
    one.start_worker()

    last = ({b, c, recreated}, {edge_recreated})

    def everywhere():
        return synced_ok(one) and pages_state(one) == pages_state(two) == primary_state(primary.url) == last

    wait_until(everywhere, 15, what="the last writes everywhere")
    time.sleep(3 * INTERVAL)  # the runs that used to send the overwritten writes again
    for instance in (one, two):
        assert synced_ok(instance) and pages_state(instance) == last
        for memory_id in (created, edited, doomed):
            assert instance.http.get(f"/c/team/memories/{memory_id}/").status_code == 404
        memory = instance.http.get(f"/c/team/memories/{recreated}/?format=json").json()["memory"]
        assert memory["title"] == "Deleted then re-created"
    assert primary_state(primary.url) == last
    assert primary_nodes(primary.url)[recreated]["title"] == "Deleted then re-created"


def replica_rows(instance):
    import turso.sync

    conn = turso.sync.connect(
        str(instance.dir / "data" / "replicas" / "team.db"), remote_url=instance.env["KB_PRIMARY_URL"]
    )
    try:
        return dict(conn.execute("SELECT id, properties FROM nodes").fetchall())
    finally:
        conn.close()


def outbox_states(instance):
    import sqlite3

    conn = sqlite3.connect(instance.dir / "data" / "index" / "team.sqlite3")
    try:
        return dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    finally:
        conn.close()


@pytest.mark.parametrize("point", ["after_replica_commit", "after_push"])
def test_worker_crashing_mid_push_loses_nothing_and_applies_nothing_twice(one, primary, point):
    one.start()
    wait_until(lambda: synced_ok(one), 15, what="first sync")
    one.stop_worker()  # writes now queue in the outbox
    ids = [one.create(f"Queued {n}") for n in range(20)]
    one.edit(ids[0], title="Queued 0, edited")
    assert outbox_states(one) == {"queued": 21}

    crashing = one.start_worker(KB_SYNC_FAULT=point)
    assert crashing.wait(timeout=30) == 70
    states = outbox_states(one)
    if point == "after_push":
        assert states == {"applied": 21} and set(primary_nodes(primary.url)) == set(ids)
    else:
        assert states == {"queued": 21} and primary_nodes(primary.url) == {}

    one.start_worker()
    wait_until(lambda: outbox_states(one) == {"pushed": 21}, 20, what="every change verified at the primary")
    at_primary = primary_nodes(primary.url)
    assert set(at_primary) == set(ids) and at_primary[ids[0]]["title"] == "Queued 0, edited"
    assert synced_ok(one)
    ours = one.memories()
    assert all(ours[i] == at_primary[i]["updated_at"].replace("Z", "+00:00") for i in ids)


def test_worker_killed_at_a_random_moment_loses_nothing(one, primary):
    one.start()
    wait_until(lambda: synced_ok(one), 15, what="first sync")
    one.stop_worker()
    ids = [one.create(f"Batch {n}", content="x" * 2000) for n in range(150)]
    worker = one.start_worker()
    # Kill it while it pushes: the batch is in the replica (applied) and not yet verified.
    wait_until(lambda: outbox_states(one).get("queued", 0) < 150, 20, step=0.002, what="the drain")
    time.sleep(random.uniform(0, 0.05))
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    print(f"outbox when killed: {outbox_states(one)}")
    one.start_worker()
    wait_until(lambda: outbox_states(one) == {"pushed": 150}, 30, what="every change verified")
    assert set(primary_nodes(primary.url)) == set(ids)


def test_compose_file_runs_the_commands_these_tests_run():
    """docker-compose.yml and tests/support/instances.py must stay in step (no Docker engine here)."""
    compose = (ROOT / "docker-compose.yml").read_text()
    for command in (
        "python manage.py migrate --noinput", "python manage.py kb_bootstrap", "python manage.py kb_worker",
        "gunicorn kbsite.wsgi", "--sync-server", "turso@0.6.0", "KB_PRIMARY_URL",
    ):
        assert command in compose, command
    assert json.loads((ROOT / "package.json").read_text())["devDependencies"]["turso"] == "0.6.0"
    instances = (ROOT / "tests" / "support" / "instances.py").read_text()
    for command in (
        '"migrate", "--noinput"', '"kb_bootstrap"', '"kb_worker"', '"kbsite.wsgi"', '"KB_PRIMARY_URL"',
    ):
        assert command in instances, command
