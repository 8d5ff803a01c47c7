"""End to end, as in production: a real `tursodb --sync-server` primary and two site
instances, each with its own replica, `manage.py kb_sync` worker and gunicorn, talked to
over HTTP. The primary and the workers are killed and restarted mid-run.
"""
import json
import random
import signal
import time

import pytest

from memories.primary import Primary
from tests.instances import Instance, wait_until

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
    wait_until(lambda: set(one.memories()) == set(two.memories()) == expected, 10, what="both see every memory")
    wait_until(lambda: one.memories() == two.memories(), 10, what="identical versions")
    at_primary = primary_nodes(primary.url)
    assert set(at_primary) == expected
    assert at_primary[base]["title"] == "Edited on one while offline"
    replicas = []
    for instance in (one, two):
        instance.stop_worker()  # release the replica to read it directly
        replicas.append(replica_rows(instance))
    assert replicas[0] == replicas[1] == {k: json.dumps(v) for k, v in at_primary.items()}


def replica_rows(instance):
    import turso.sync

    conn = turso.sync.connect(str(instance.dir / "data" / "replicas" / "team.db"),
                              remote_url=instance.env["KB_PRIMARY_URL"])
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
    """docker-compose.yml and tests/instances.py must stay in step (no Docker engine here)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    compose = (root / "docker-compose.yml").read_text()
    for command in ("python manage.py migrate --noinput", "python manage.py kb_bootstrap", "python manage.py kb_sync",
                    "gunicorn kbsite.wsgi", "--sync-server", "turso@0.6.0", "KB_PRIMARY_URL"):
        assert command in compose, command
    assert json.loads((root / "package.json").read_text())["devDependencies"]["turso"] == "0.6.0"
    instances = (root / "tests" / "instances.py").read_text()
    for command in ('"migrate", "--noinput"', '"kb_bootstrap"', '"kb_sync"', '"kbsite.wsgi"', '"KB_PRIMARY_URL"'):
        assert command in instances, command
