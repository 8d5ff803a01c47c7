"""The read model follows the canonical file: rebuild, our writes, and other writers' commits."""
import json
import sqlite3
import uuid

import pytest

from memories import selectors
from memories.search.engine import memory_search
from memories.selectors import Filters

pytestmark = pytest.mark.django_db


def server_write(path, sql, params=()):
    """Write like the memorygraph server: its own connection, rollback journal, commit per write."""
    conn = sqlite3.connect(path, timeout=5)
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def node_props(memory_id, title, **extra):
    return json.dumps({"id": memory_id, "type": "error", "title": title, "content": "body", "tags": ["zeta"],
                       "importance": 0.5, "confidence": 0.8, "usage_count": 0,
                       "created_at": "2026-01-02T03:04:05.000001+00:00",
                       "updated_at": "2026-01-02T03:04:05.000001+00:00", **extra})


def test_rebuild_matches_canonical_counts(handle):
    conn = sqlite3.connect(handle.client.path)
    nodes = conn.execute("SELECT count(*) FROM nodes WHERE label = 'Memory'").fetchone()[0]
    edges = conn.execute("SELECT count(*) FROM relationships").fetchone()[0]
    counts = selectors.graph_counts(rm=handle.readmodel)
    assert counts["memories"] == nodes and counts["relationships"] == edges
    page = selectors.memory_list(rm=handle.readmodel, filters=Filters())
    assert page.total == nodes
    assert sum(page.facets["band"].values()) == nodes


def test_other_writers_are_picked_up_without_restart(handle):
    path = handle.client.path
    new_id = str(uuid.uuid4())
    server_write(path, "INSERT INTO nodes (id, label, properties) VALUES (?, 'Memory', ?)",
                 (new_id, node_props(new_id, "Zanzibar outage in PgBouncer")))
    handle.ensure_fresh()
    hits = memory_search(rm=handle.readmodel, text="zanzibar", filters=Filters())["page_data"]
    assert [h["id"] for h in hits.items] == [new_id]

    server_write(path, "UPDATE nodes SET properties = ?, updated_at = CURRENT_TIMESTAMP WHERE id = ?",
                 (node_props(new_id, "Quokka outage", updated_at="2026-01-02T03:04:06.000001+00:00"), new_id))
    handle.ensure_fresh()
    assert memory_search(rm=handle.readmodel, text="zanzibar", filters=Filters())["page_data"].total == 0
    assert selectors.memory_detail(rm=handle.readmodel, memory_id=new_id)["title"] == "Quokka outage"

    server_write(path, "DELETE FROM nodes WHERE id = ?", (new_id,))
    handle.ensure_fresh()
    assert selectors.memory_detail(rm=handle.readmodel, memory_id=new_id) is None
    assert memory_search(rm=handle.readmodel, text="quokka", filters=Filters())["page_data"].total == 0
    assert "zeta" not in {t["tag"] for t in selectors.tag_index(rm=handle.readmodel)["tags"]}


def test_edges_written_elsewhere_appear_and_disappear(handle):
    conn = sqlite3.connect(handle.client.path)
    a, b = [r[0] for r in conn.execute("SELECT id FROM nodes LIMIT 2").fetchall()]
    conn.close()
    rel_id = str(uuid.uuid4())
    server_write(
        handle.client.path, "INSERT INTO relationships (id, from_id, to_id, rel_type, properties) "
        "VALUES (?, ?, ?, 'CONFIRMS', ?)",
        (rel_id, a, b, json.dumps({"id": rel_id, "strength": 0.5, "context": '{"text": "seen twice"}'})),
    )
    handle.ensure_fresh()
    edges = selectors.memory_detail(rm=handle.readmodel, memory_id=a)["outgoing"]["CONFIRMS"]
    assert edges[0]["other_id"] == b and edges[0]["context"] == "seen twice"
    server_write(
        handle.client.path, "UPDATE relationships SET valid_until = '2026-02-01' WHERE id = ?", (rel_id,)
    )
    handle.ensure_fresh()
    assert not selectors.memory_detail(rm=handle.readmodel, memory_id=a)["outgoing"]["CONFIRMS"][0]["current"]
    server_write(handle.client.path, "DELETE FROM relationships WHERE id = ?", (rel_id,))
    handle.ensure_fresh()
    assert "CONFIRMS" not in selectors.memory_detail(rm=handle.readmodel, memory_id=a)["outgoing"]


def test_malformed_properties_do_not_break_indexing(handle):
    bad = str(uuid.uuid4())
    server_write(
        handle.client.path, "INSERT INTO nodes (id, label, properties) VALUES (?, 'Memory', 'not json')",
        (bad,),
    )
    server_write(
        handle.client.path, "INSERT INTO nodes (id, label, properties) VALUES (?, 'Entity', '{}')",
        (str(uuid.uuid4()),),
    )
    handle.ensure_fresh()
    assert selectors.memory_detail(rm=handle.readmodel, memory_id=bad)["title"] == "(untitled)"


def test_unresolved_means_no_incoming_solves_or_addresses(handle):
    page = selectors.memory_list(rm=handle.readmodel, filters=Filters(unresolved=True), limit=500)
    assert page.items
    for item in page.items:
        assert item["type"] in ("problem", "error")
        incoming = selectors.memory_detail(rm=handle.readmodel, memory_id=item["id"])["incoming"]
        assert not {"SOLVES", "ADDRESSES"} & incoming.keys()


def test_keyset_pages_cover_everything_once(handle):
    for sort in ("newest", "oldest", "updated", "importance", "title"):
        seen, cursor = [], None
        while True:
            page = selectors.memory_list(
                rm=handle.readmodel, filters=Filters(), sort=sort, cursor=cursor, limit=40
            )
            seen += [i["id"] for i in page.items]
            if not page.next_cursor:
                break
            cursor = selectors.decode_cursor(page.next_cursor)
        assert len(seen) == len(set(seen)) == page.total, sort


def test_pointing_a_client_at_another_file_rebuilds_its_read_model(handle, empty_file, settings):
    from memories.store import registry

    settings.KB_MEMORY_DB = str(empty_file)
    default = registry.ensure_default_client()
    assert default.path == str(empty_file)
    handle.client.path = str(empty_file)
    handle.client.save()
    registry.close_all()
    fresh = registry.handle_for(handle.client)
    fresh.ensure_fresh()
    assert selectors.graph_counts(rm=fresh.readmodel)["memories"] == 0


RESOLVED_ANEW = ("SELECT count(*) FROM memory m WHERE m.type IN ('problem', 'error') AND EXISTS ("
                 "SELECT 1 FROM edge e WHERE e.to_id = m.id AND e.rel_type IN ('SOLVES', 'ADDRESSES') "
                 "AND e.current = 1)")


def test_the_unresolved_count_is_kept_exact_through_every_kind_of_change(handle):
    """The header's unresolved count comes from facet_count's 'resolved' row, kept by triggers:
    after each of these changes by another writer (a memory's second and last solution, one
    expired, a type changed, a problem deleted before its edge) it equals a count made anew, and
    the list filtered to unresolved memories."""
    path, rm = handle.client.path, handle.readmodel
    conn = sqlite3.connect(path)
    fix = conn.execute("SELECT id FROM nodes WHERE label = 'Memory' LIMIT 1").fetchone()[0]
    conn.close()
    problem = str(uuid.uuid4())
    solutions = [str(uuid.uuid4()) for _ in range(2)]

    def check():
        handle.ensure_fresh()
        counts = selectors.graph_counts(rm=rm)
        expected = rm.conn.execute("SELECT coalesce(sum(n), 0) FROM facet_count WHERE facet = 'type' "
                                   "AND value IN ('problem', 'error')").fetchone()[0]
        expected -= rm.conn.execute(RESOLVED_ANEW).fetchone()[0]
        assert counts["unresolved"] == expected
        assert selectors.memory_list(rm=rm, filters=Filters(unresolved=True)).total == expected
        return counts["unresolved"]

    start = check()
    server_write(path, "INSERT INTO nodes (id, label, properties) VALUES (?, 'Memory', ?)",
                 (problem, node_props(problem, "Pool starvation")))
    assert check() == start + 1
    for rel_id in solutions:
        server_write(path, "INSERT INTO relationships (id, from_id, to_id, rel_type, properties) "
                     "VALUES (?, ?, ?, 'SOLVES', ?)", (rel_id, fix, problem, json.dumps({"id": rel_id})))
        assert check() == start
    server_write(path, "DELETE FROM relationships WHERE id = ?", (solutions[0],))
    assert check() == start, "still solved by the other"
    server_write(path, "UPDATE relationships SET valid_until = '2026-02-01' WHERE id = ?", (solutions[1],))
    assert check() == start + 1, "an expired solution solves nothing"
    server_write(path, "UPDATE relationships SET valid_until = NULL WHERE id = ?", (solutions[1],))
    assert check() == start
    server_write(path, "UPDATE nodes SET properties = ?, updated_at = CURRENT_TIMESTAMP WHERE id = ?",
                 (node_props(problem, "Pool starvation", type="solution",
                             updated_at="2026-01-02T03:04:06.000001+00:00"), problem))
    assert check() == start
    server_write(path, "UPDATE nodes SET properties = ?, updated_at = CURRENT_TIMESTAMP WHERE id = ?",
                 (node_props(problem, "Pool starvation", updated_at="2026-01-02T03:04:07.000001+00:00"),
                  problem))
    assert check() == start
    server_write(path, "DELETE FROM nodes WHERE id = ?", (problem,))  # its edge stays a moment
    assert check() == start
    server_write(path, "DELETE FROM relationships WHERE id = ?", (solutions[1],))
    assert check() == start
    handle.rebuild()
    assert check() == start
