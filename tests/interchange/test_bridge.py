"""The memorygraph bridge: a laptop's memorygraph file and a client database, both ways.

The laptop file is written by the real memorygraph server code (memorygraphMCP 0.12.4)
between bridge runs, and must stay readable by it; the bridge never overlaps with it
(stdlib sqlite3 and libsql cannot see each other's locks in one process).
"""
import json
import sqlite3

import pytest
from django.core.management import call_command
from memorygraph.models import MemoryType, RelationshipType

from memories import services, tagging
from memories.interchange.bridge import Base, Bridge, base_path
from memories.interchange.sides import ClientSide, FileSide
from memories.models import AuditEntry
from memories.store import registry
from memories.store.canonical import CanonicalStore
from tests.support.memorygraph import Server, add_refused_rows

pytestmark = [pytest.mark.interop, pytest.mark.django_db]


@pytest.fixture
def laptop(tmp_path):
    """A memorygraph file made by the real server, with two memories and a SOLVES link."""
    path = tmp_path / "laptop" / "memory.db"
    path.parent.mkdir()
    server = Server(path)
    problem = server.store(
        type=MemoryType.PROBLEM, title="Flaky CI on arm64", content="Timeouts in docker pulls"
    )
    solution = server.store(
        type=MemoryType.SOLUTION, title="Mirror the base images", content="Use the registry cache"
    )
    server.relate(solution, problem, RelationshipType.SOLVES)
    server.close()
    return path, problem, solution


def bridge(handle, path):
    store = CanonicalStore(str(path))
    base = Base(base_path(handle.client, path))
    try:
        handle.ensure_fresh()
        return Bridge(
            local=FileSide(store, str(path)), remote=ClientSide(handle), base=base, client=handle.client
        ).run()
    finally:
        base.close()
        store.close()


def titles(handle):
    return {r[0] for r in handle.readmodel.conn.execute("SELECT title FROM memory")}


def test_first_run_copies_both_ways_and_a_second_run_changes_nothing(laptop, team):
    path, problem, solution = laptop
    ours = services.memory_create(
        handle=team, actor=None,
        fields={"type": "fix", "title": "Pin buildx to 0.12", "content": "buildx 0.13 breaks the cache"},
    )
    report = bridge(team, path)
    assert report.to_client == {"memories": 2, "relationships": 1, "deleted": 0}
    assert report.to_file == {"memories": 1, "relationships": 0, "deleted": 0}
    assert titles(team) == {"Flaky CI on arm64", "Mirror the base images", "Pin buildx to 0.12"}
    server = Server(path)
    try:
        assert server.get(ours).title == "Pin buildx to 0.12"  # memorygraph reads what we wrote
        assert [m.title for m, _ in server.related(problem)] == ["Mirror the base images"]
    finally:
        server.close()

    before = CanonicalStore(str(path)).node_versions()
    again = bridge(team, path)
    assert not again.changed and not again.conflicts
    assert again.unchanged  # neither side committed since: decided from the change counters alone
    assert CanonicalStore(str(path)).node_versions() == before


def test_changes_flow_each_way_between_runs_of_the_real_server(laptop, team):
    path, problem, solution = laptop
    bridge(team, path)
    server = Server(path)
    server.edit(problem, content="Timeouts in docker pulls; only on arm64 runners")
    new = server.store(type=MemoryType.ERROR, title="ECONNRESET from registry", content="during pulls")
    server.close()
    report = bridge(team, path)
    assert report.to_client["memories"] == 2 and report.to_file == {
        "memories": 0, "relationships": 0, "deleted": 0,
    }
    assert "only on arm64" in team.store.node(problem)["content"]

    tagging.tag_add(handle=team, actor=None, memory_id=new, tag="registry")
    report = bridge(team, path)
    assert report.to_file["memories"] == 1 and report.to_client["memories"] == 0
    server = Server(path)
    try:
        assert server.get(new).tags == ["registry"]
    finally:
        server.close()
    assert not bridge(team, path).changed


def test_a_row_changed_on_both_sides_keeps_the_newer_and_audits_the_loser(laptop, team):
    path, problem, _ = laptop
    bridge(team, path)
    server = Server(path)
    server.edit(problem, title="Flaky CI (laptop's words)")
    server.close()
    services.memory_update(
        handle=team, actor=None, memory_id=problem, fields={"title": "Flaky CI (team's words)"}
    )
    report = bridge(team, path)
    assert report.conflicts == [problem]
    assert team.store.node(problem)["title"] == "Flaky CI (team's words)"  # edited last
    assert CanonicalStore(str(path)).node(problem)["title"] == "Flaky CI (team's words)"
    entry = AuditEntry.objects.get(action="bridge.conflict.node", object_id=problem)
    assert json.loads(entry.before["row"]["properties"])["title"] == "Flaky CI (laptop's words)"
    assert not bridge(team, path).changed


def test_deletions_propagate_only_over_unchanged_rows(laptop, team):
    path, problem, solution = laptop
    bridge(team, path)
    server = Server(path)
    server.delete(solution)  # deleted on the laptop, untouched in the team database
    server.edit(problem, content="changed on the laptop")
    server.close()
    services.memory_delete(handle=team, actor=None, memory_id=problem)  # deleted in the team database
    report = bridge(team, path)
    assert report.to_client["deleted"] >= 1  # the solution (and its SOLVES link)
    assert team.store.node(solution) is None
    # The problem was deleted in the team database but changed on the laptop since: it comes back.
    assert team.store.node(problem)["content"] == "changed on the laptop"
    assert CanonicalStore(str(path)).node(problem) is not None
    assert not bridge(team, path).changed


def _ids(path, table):
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute(f"SELECT id FROM {table}")}
    finally:
        conn.close()


def test_rows_memorygraph_would_refuse_are_copied_neither_way(laptop, team):
    """Issue 10, defects 5 and 6: rows memorygraph's models refuse (odd ids, strength 5, a
    garbage created_at, ...), on either side, stay where they are, reported, never copied."""
    path, problem, solution = laptop
    laptop_bad = add_refused_rows(path, problem, solution, prefix="l-")
    a = services.memory_create(
        handle=team, actor=None, fields={"type": "fix", "title": "Ours", "content": "c"}
    )
    b = services.memory_create(
        handle=team, actor=None, fields={"type": "fix", "title": "Also ours", "content": "c"}
    )
    services.relationship_create(handle=team, actor=None, from_id=a, to_id=b, rel_type="FOLLOWS")
    client_bad = add_refused_rows(team.client.path, b, a, prefix="c-")
    report = bridge(team, path)
    assert report.to_client["memories"] == 2 and report.to_file["memories"] == 2
    assert report.to_client["relationships"] == report.to_file["relationships"] == 1
    skipped = "\n".join(report.skipped)
    for bad_id in {*laptop_bad[0], *laptop_bad[1], *client_bad[0], *client_bad[1]}:
        assert f"{bad_id!r}: not copied" in skipped, bad_id
    assert "memorygraph would refuse it" in skipped and "strength must be a number between 0 and 1" in skipped
    assert AuditEntry.objects.get(action="bridge.run").after["skipped"] == report.skipped
    good = {problem, solution, a, b}
    assert _ids(team.client.path, "nodes") == good | client_bad[0]
    assert _ids(path, "nodes") == good | laptop_bad[0]
    assert not _ids(team.client.path, "relationships") & laptop_bad[1]
    assert not _ids(path, "relationships") & client_bad[1]
    for file_path, ids in ((team.client.path, (problem, solution)), (path, (a, b))):
        server = Server(file_path)
        try:  # what was copied reads back, neighbourhoods included
            assert all(server.get(i) is not None and server.related(i) for i in ids)
        finally:
            server.close()
    assert not bridge(team, path).changed


def test_the_command_reports_and_is_idempotent(laptop, team, capsys):
    path, _, _ = laptop
    call_command("memorygraph_bridge", "--client", "team", "--file", str(path), verbosity=0)
    first = capsys.readouterr().out
    assert "To the client database: 2 memories, 1 relationships" in first
    call_command("memorygraph_bridge", "--client", "team", "--file", str(path), verbosity=0)
    assert "To the client database: 0 memories, 0 relationships, 0 deletions" in capsys.readouterr().out


def test_the_command_refuses_a_missing_file_and_an_unknown_client(team, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="does not exist"):
        call_command("memorygraph_bridge", "--client", "team", "--file", str(tmp_path / "nope.db"))
    with pytest.raises(CommandError, match="No client database"):
        call_command("memorygraph_bridge", "--client", "nobody", "--file", str(tmp_path / "nope.db"))


def test_a_synced_client_database_takes_the_laptop_file_through_its_outbox(laptop, turso_server, user):
    from memories.forms import ClientDatabaseForm
    from memories.sync.primary import Primary
    from memories.sync.replica import ReplicaSync
    from memories.sync.services import synced_client_save

    path, problem, solution = laptop
    form = ClientDatabaseForm(
        {
            "slug": "shared", "name": "Shared", "mode": "synced", "source": "new",
            "remote_url": turso_server.url, "sync_interval": "1",
        }
    )
    assert form.is_valid(), form.errors
    client = synced_client_save(client=form.save(commit=False), schema_at_primary=form.schema_at_primary)
    sync = ReplicaSync(client)
    try:
        assert not sync.run().error
        handle = registry.handle_for(client)
        report = bridge(handle, path)
        assert report.to_client == {"memories": 2, "relationships": 1, "deleted": 0}
        assert not sync.run().error
        rows = Primary(turso_server.url).pipeline(
            [("SELECT id FROM nodes", ()), ("SELECT id FROM relationships", ())]
        )
        assert {r[0] for r in rows[0]} == {problem, solution} and len(rows[1]) == 1
        assert not bridge(handle, path).changed
    finally:
        sync.close()
