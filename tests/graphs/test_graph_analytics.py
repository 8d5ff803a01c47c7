"""graphs/analytics: what the worker computes into the read model, and what web workers read back."""
import io
import json
import sqlite3
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import networkx as nx
import pytest
from django.core.management import call_command

from graphs.analytics import schedule, services, sql
from graphs.analytics import selectors as analytics
from graphs.analytics.services import analytics_refresh, analytics_run, analytics_run_if_due
from memories import services as memory_services
from memories import tagging
from memories.devdata.loader import load_graph
from memories.format import SYMMETRIC_TYPES
from memories.management.commands.kb_sync import AnalyticsThread
from memories.selectors import age_text
from memories.store.registry import handle_for
from tests.support.clients import register_client

pytestmark = pytest.mark.django_db

# What graphs/builders.py's whole-graph views (chains, unsolved, contradictions, superseded)
# chose on the demo graph before they moved to the worker, per view and limit: the members,
# the edges drawn and the total; and the overview's figures.
EXPECTED = json.loads(Path(__file__).with_name("graph_views_demo.json").read_text())


def _rows(rm, query):
    return rm.conn.execute(query).fetchall()


def _weighted_digraph(rm):
    """The demo graph as PageRank should see it, built here from the edge table on its own."""
    D = nx.DiGraph()
    D.add_nodes_from(i for (i,) in _rows(rm, "SELECT id FROM memory"))
    edges = _rows(rm, "SELECT from_id, to_id, rel_type, strength FROM edge WHERE current = 1")
    for u, v, rel, strength in edges:
        weight = 0.5 if strength is None else strength
        for a, b in [(u, v), (v, u)] if rel in SYMMETRIC_TYPES and u != v else [(u, v)]:
            D.add_edge(a, b, weight=D.get_edge_data(a, b, {}).get("weight", 0.0) + weight)
    return D


def _new_edge(handle, user, rel_type="RELATED_TO"):
    """A relationship between two memories not related yet: a change of the graph itself."""
    a, b = _rows(handle.readmodel, "SELECT id FROM memory ORDER BY id LIMIT 2")
    memory_services.relationship_create(handle=handle, actor=user, from_id=a[0], to_id=b[0],
                                        rel_type=rel_type)


def test_ranks_match_networkx_pagerank_and_degrees(handle):
    rm = handle.readmodel
    result = analytics_run(rm=rm)
    assert result["memories"] == 294 and not result["retagged"]
    expected = nx.pagerank(_weighted_digraph(rm), weight="weight")
    stored = dict(_rows(rm, "SELECT memory_id, pagerank FROM graph_rank"))
    assert stored == pytest.approx(expected, abs=1e-9)
    ordered = [m for (m,) in _rows(rm, "SELECT memory_id FROM graph_rank ORDER BY position")]
    assert [expected[m] for m in ordered] == sorted(expected.values(), reverse=True)
    M = nx.MultiDiGraph(_rows(rm, "SELECT from_id, to_id FROM edge WHERE current = 1"))
    for memory_id, *degrees in _rows(rm, "SELECT memory_id, degree_in, degree_out, degree FROM graph_rank"):
        if memory_id in M:
            assert tuple(degrees) == (M.in_degree(memory_id), M.out_degree(memory_id), M.degree(memory_id))
        else:
            assert tuple(degrees) == (0, 0, 0)


def test_communities_are_a_partition_numbered_by_size(handle):
    rm = handle.readmodel
    analytics_run(rm=rm)
    rows = _rows(rm, "SELECT memory_id, community, degree FROM graph_rank")
    assert sorted(r[0] for r in rows) == sorted(i for (i,) in _rows(rm, "SELECT id FROM memory")), \
        "every memory in exactly one community"
    assert all((community == -1) == (degree == 0) for _, community, degree in rows), "-1: isolated ones only"
    sizes = Counter(community for _, community, _ in rows if community >= 0)
    assert sorted(sizes) == list(range(len(sizes)))
    assert [sizes[c] for c in sorted(sizes)] == sorted(sizes.values(), reverse=True)
    detail = analytics.sets(rm)["ranks"].detail
    assert detail["communities"] == len(sizes) == EXPECTED["overview:stats"]["communities"]
    assert detail["isolated"] == sum(1 for r in rows if r[1] == -1) == EXPECTED["overview:stats"]["isolated"]


@pytest.mark.parametrize("view", analytics.VIEWS)
def test_causal_views_show_what_the_whole_graph_builders_chose(web, handle, view):
    analytics_run(rm=handle.readmodel)
    for limit in (300, 40, 7, 1):
        data = web.get(f"/c/acme/graph/?view={view}&limit={limit}&format=json").json()
        expected = EXPECTED[f"{view}:{limit}"]
        assert sorted(n["id"] for n in data["nodes"]) == expected["nodes"], (view, limit)
        assert sorted(e["key"] for e in data["edges"]) == expected["edges"], (view, limit)
        assert data["total"] == expected["total"]


def test_unsolved_members_say_which_are_the_problems(handle):
    rm = handle.readmodel
    analytics_run(rm=rm)
    roles = _rows(rm, "SELECT role, count(*) FROM graph_member WHERE view = 'unsolved' GROUP BY role")
    assert dict(roles)["open"] == EXPECTED["unsolved:300"]["total"] and dict(roles)["context"] > 0
    open_ids = {i for (i,) in _rows(rm, "SELECT memory_id FROM graph_member "
                                        "WHERE view = 'unsolved' AND role = 'open'")}
    unresolved = {i for (i,) in _rows(rm, "SELECT id FROM memory WHERE type IN ('problem', 'error') "
                                           "AND id NOT IN (SELECT to_id FROM edge WHERE current = 1 "
                                           "AND rel_type IN ('SOLVES', 'ADDRESSES'))")}
    assert open_ids == unresolved


def test_overview_reads_the_most_central_memories(web, handle):
    analytics_run(rm=handle.readmodel)
    data = web.get("/c/acme/graph/?limit=20&format=json").json()
    ranks = dict(_rows(handle.readmodel, "SELECT memory_id, pagerank FROM graph_rank"))
    top = sorted(ranks, key=lambda m: -ranks[m])[:20]
    assert {n["id"] for n in data["nodes"]} == set(top)
    assert all(n["pagerank"] == ranks[n["id"]] and n["community"] >= 0 for n in data["nodes"])
    assert data["stats"] == {**EXPECTED["overview:stats"], "shown": 20}
    assert data["ranks"]["freshness"] == "ranks up to date" and data["ranks"]["current"]


def test_the_overview_outlives_writes_elsewhere_but_not_edits_of_its_memories(web, handle, user, monkeypatch):
    """A write to a memory outside the overview keeps the computed view (each web worker built it
    again after every write), while its freshness is told anew; an edit or deletion of one of its
    memories shows at once, and the next step's ranks replace it."""
    from graphs import compute as graph_compute

    analytics_run(rm=handle.readmodel)
    built = []
    real = graph_compute._stored
    monkeypatch.setattr(graph_compute, "_stored", lambda *a, **k: built.append(1) or real(*a, **k))

    def overview():
        return web.get("/c/acme/graph/?limit=20&format=json").json()

    first = overview()
    assert len(built) == 1 and overview() == first and len(built) == 1
    shown = {n["id"] for n in first["nodes"]}
    ids = [i for (i,) in _rows(handle.readmodel, "SELECT id FROM memory ORDER BY id")]
    outside = next(i for i in ids if i not in shown)
    memory_services.memory_update(handle=handle, actor=user, memory_id=outside, fields={
        **_fields(handle, outside), "title": "Edited outside the overview"})
    later = overview()
    assert len(built) == 1, "kept across a write elsewhere"
    assert later["ranks"]["current"] is False and later["ranks"]["freshness"].startswith("ranks as of")
    inside = first["nodes"][0]["id"]
    memory_services.memory_update(handle=handle, actor=user, memory_id=inside, fields={
        **_fields(handle, inside), "title": "Edited inside the overview"})
    edited = overview()
    assert len(built) == 2
    assert next(n for n in edited["nodes"] if n["id"] == inside)["title"] == "Edited inside the overview"
    memory_services.memory_delete(handle=handle, actor=user, memory_id=inside)
    assert inside not in {n["id"] for n in overview()["nodes"]} and len(built) == 3
    analytics_refresh(handle.client, interval=3600)  # the step after these changes
    assert overview()["ranks"]["current"] and len(built) == 4


def _fields(handle, memory_id):
    row = handle.readmodel.conn.execute("SELECT type, title, content, importance FROM memory WHERE id = ?",
                                        (memory_id,)).fetchone()
    return {"type": row["type"], "title": row["title"], "content": row["content"] or "x", "tags": [],
            "importance": row["importance"]}


def test_a_computation_replaces_the_sets_in_one_transaction(handle, user, monkeypatch):
    rm = handle.readmodel
    analytics_run(rm=rm)
    tables = ("graph_rank", "graph_member", "graph_set")
    before = {t: _rows(rm, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables}
    _new_edge(handle, user)
    reader = sqlite3.connect(rm.path)
    seen = []
    real = services._transaction

    def peeking(rm_, work):
        def work_then_peek(conn):
            work(conn)
            seen.append(reader.execute("SELECT DISTINCT generation FROM graph_set").fetchall())
        real(rm_, work_then_peek)

    monkeypatch.setattr(services, "_transaction", peeking)
    analytics_run(rm=rm)
    assert seen == [[(before["graph_set"][0][1],)]], "a reader sees the old sets until the commit"
    assert analytics.sets(rm)["ranks"].generation == rm.changed_at()
    after = {t: _rows(rm, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables}
    _new_edge(handle, user, "DEPENDS_ON")
    monkeypatch.setattr(sql, "SET_INSERT", "INSERT INTO graph_set (name) VALUES (?)")
    with pytest.raises(sqlite3.Error):
        analytics_run(rm=rm)
    assert {t: _rows(rm, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables} == after, "nothing half-written"
    assert not rm.conn.in_transaction
    reader.close()


def test_edits_that_leave_the_graph_alone_only_retag_it(handle, user):
    rm = handle.readmodel
    analytics_run(rm=rm)
    ranks = _rows(rm, "SELECT * FROM graph_rank ORDER BY memory_id")
    memory_id = ranks[0][0]
    tagging.tag_add(handle=handle, actor=user, memory_id=memory_id, tag="retagged")
    result = analytics_run(rm=rm)
    assert result["retagged"] and analytics.sets(rm)["chains"].generation == rm.changed_at()
    assert _rows(rm, "SELECT * FROM graph_rank ORDER BY memory_id") == ranks
    _new_edge(handle, user)
    result = analytics_run(rm=rm)
    assert not result["retagged"], "a new relationship changes the graph"
    warm = dict(_rows(rm, "SELECT memory_id, pagerank FROM graph_rank"))
    # networkx stops when an iteration changes the ranks by less than 1e-6 per memory in all;
    # from either start that leaves each rank within about 1e-4 of the exact one here.
    assert warm == pytest.approx(nx.pagerank(_weighted_digraph(rm), weight="weight"), abs=1e-4), \
        "started from the old ranks, as good as a cold start"


def test_recomputation_is_debounced_while_writes_keep_coming(handle, user):
    rm, t0 = handle.readmodel, 1_000_000.0
    assert analytics_run_if_due(rm=rm, interval=30, now=t0), "nothing stored yet: at once"
    assert analytics_run_if_due(rm=rm, interval=30, now=t0 + 1) is None, "nothing changed"
    _new_edge(handle, user)
    assert analytics_run_if_due(rm=rm, interval=30, now=t0 + 5) is None
    _new_edge(handle, user, "DEPENDS_ON")
    assert analytics_run_if_due(rm=rm, interval=30, now=t0 + 10) is None
    result = analytics_run_if_due(rm=rm, interval=30, now=t0 + 30)
    assert result and result["generation"] == rm.changed_at(), "one run for both writes"
    assert analytics_run_if_due(rm=rm, interval=30, now=t0 + 45) is None


def test_the_first_change_after_a_quiet_spell_is_computed_at_once(handle, user, settings):
    rm, t0 = handle.readmodel, 1_000_000.0
    settings.KB_ANALYTICS_INTERVAL = 30
    analytics_run_if_due(rm=rm, now=t0)
    _new_edge(handle, user)
    result = analytics_run_if_due(rm=rm, now=t0 + 600)
    assert result and not result["retagged"] and result["generation"] == rm.changed_at()


def test_freshness_says_how_old_the_ranks_are():
    ranks = analytics.RowSet("ranks", "5", 1000.0, 1002.0, 2.0, 10)
    assert analytics.freshness(None, generation="5", now=0) == "ranks are being computed"
    assert analytics.freshness(ranks, generation="5", now=99_999) == "ranks up to date"
    assert analytics.freshness(ranks, generation="6", now=1040) == "ranks as of 40 s ago"
    assert analytics.freshness(ranks, generation="6", now=1000 + 600) == "ranks as of 10 min ago"
    assert analytics.freshness(ranks, generation="6", now=1000 + 7200) == "ranks as of 2 h ago"
    assert analytics.freshness(ranks, generation="6", now=1000 + 3 * 86400) == "ranks as of 3 days ago"


def test_pages_say_how_fresh_the_ranks_are(web, handle, user):
    memory_id = _rows(handle.readmodel, "SELECT id FROM memory LIMIT 1")[0][0]
    url = f"/c/acme/graph/?memory={memory_id}"
    assert b"ranks are being computed" in web.get(url).content
    analytics_run(rm=handle.readmodel, now=time.time() - 40)
    assert b"ranks up to date" in web.get(url).content
    _new_edge(handle, user)
    # 40 s, or a little more when the run and the requests since took seconds (a loaded machine).
    started = analytics.sets(handle.readmodel)["ranks"].started_at
    before = time.time() - started
    page, data = web.get(url).content, web.get(url + "&format=json").json()
    said = {f"ranks as of {age_text(age)} ago" for age in range(int(before), int(time.time() - started) + 2)}
    assert 40 <= before < 50 and any(text.encode() in page for text in said)
    assert data["ranks"]["freshness"] in said


def test_before_the_first_run_only_whole_graph_views_wait(web, handle):
    memory_id, other = _rows(handle.readmodel, "SELECT from_id, to_id FROM edge LIMIT 1")[0]
    for view in ("overview", *analytics.VIEWS):
        data = web.get(f"/c/acme/graph/?view={view}&format=json").json()
        assert data == {"status": "computing", "view": view}
        page = web.get(f"/c/acme/graph/?view={view}")
        assert page.status_code == 202 and b"Ranks are being computed" in page.content
    for url in (f"/c/acme/graph/?memory={memory_id}&depth=2&size=pagerank",
                "/c/acme/graph/?view=results&q=redis",
                f"/c/acme/graph/?view=path&source={memory_id}&target={other}"):
        assert web.get(url).status_code == 200, url
        data = web.get(url + "&format=json").json()
        assert data["nodes"] and data["ranks"]["computed_at"] is None


def test_no_graph_view_starts_a_thread(web, handle):
    memory_id, other = _rows(handle.readmodel, "SELECT from_id, to_id FROM edge LIMIT 1")[0]
    urls = [f"/c/acme/graph/?memory={memory_id}&depth=3", "/c/acme/graph/?view=results&q=redis",
            f"/c/acme/graph/?view=path&source={memory_id}&target={other}", "/c/acme/graph/",
            *(f"/c/acme/graph/?view={view}" for view in analytics.VIEWS)]
    urls += [f"{u}&format={fmt}" if "?" in u else f"{u}?format={fmt}"
             for u in list(urls) for fmt in ("json", "svg", "graphml", "gexf", "nodelink")]
    before = set(threading.enumerate())
    for _ in range(2):  # before the first computation, then after it
        for url in urls:
            assert web.get(url).status_code in (200, 202), url
            assert set(threading.enumerate()) == before, url
        analytics_run(rm=handle.readmodel)


def test_the_path_view_says_when_its_bound_was_hit(web, tmp_path, user):
    memories = [{"id": f"m{i}", "type": "general", "title": f"Step {i}", "content": "-", "tags": [],
                 "importance": 0.5, "confidence": 0.8, "created_at": datetime(2026, 1, 1)}
                for i in range(11)]
    steps = [{"id": f"r{i}", "from_id": f"m{i}", "to_id": f"m{i + 1}", "type": "FOLLOWS", "strength": 0.5,
              "confidence": 0.8} for i in range(10)]
    load_graph(str(tmp_path / "line.db"), memories, steps)
    register_client("line", tmp_path / "line.db")
    found = web.get("/c/line/graph/?view=path&source=m0&target=m8&format=json").json()
    assert found["graph"]["path"] == [f"m{i}" for i in range(9)] and found["stats"]["connected"]
    too_far = web.get("/c/line/graph/?view=path&source=m0&target=m10")
    assert b"no path within 8 steps (searched 10 memories)" in too_far.content
    data = web.get("/c/line/graph/?view=path&source=m0&target=m10&format=json").json()
    assert {n["id"] for n in data["nodes"]} == {"m0", "m10"} and data["stats"]["connected"] is False


def test_the_worker_picks_up_other_writers_changes_of_a_local_database(client_db, memory_file):
    result = analytics_refresh(client_db, interval=0)
    assert result["memories"] == 294
    assert analytics_refresh(client_db, interval=0) is None, "nothing changed"
    new = {"id": "from-the-server", "type": "problem", "title": "Written by the memorygraph server",
           "content": "-", "tags": [], "importance": 0.9, "confidence": 0.8,
           "created_at": datetime(2026, 1, 1)}
    load_graph(str(memory_file), [new], [])
    result = analytics_refresh(client_db, interval=0)
    assert result["memories"] == 295


def test_kb_analytics_computes_once(client_db):
    out = io.StringIO()
    call_command("kb_analytics", client="acme", stdout=out)
    assert "acme: analytics of 294 memories" in out.getvalue()
    call_command("kb_analytics", client="acme", stdout=out)
    assert "retagged" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_worker_thread_computes_every_active_database(client_db):
    stop = threading.Event()
    thread = AnalyticsThread(stop)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while "ranks" not in analytics.sets(handle_for(client_db).readmodel) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "ranks" in analytics.sets(handle_for(client_db).readmodel)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_the_auto_interval_waits_twice_the_last_computation(handle, user, settings):
    """KB_ANALYTICS_INTERVAL=auto: twice the last computation's seconds, within 1-30 s."""
    from dataclasses import replace

    rm, t0 = handle.readmodel, 1_000_000.0
    settings.KB_ANALYTICS_INTERVAL = "auto"
    analytics_run_if_due(rm=rm, now=t0)
    ranks = analytics.sets(rm)["ranks"]
    assert schedule.debounce_seconds("auto", replace(ranks, seconds=0.1)) == 1.0, "the floor"
    assert schedule.debounce_seconds("auto", replace(ranks, seconds=4.0)) == 8.0
    assert schedule.debounce_seconds("auto", replace(ranks, seconds=54.0)) == 30.0, "the ceiling"
    assert schedule.debounce_seconds(30, ranks) == 30.0
    wait = schedule.debounce_seconds("auto", ranks)
    _new_edge(handle, user)
    assert analytics_run_if_due(rm=rm, now=t0 + wait - 0.01) is None
    assert analytics_run_if_due(rm=rm, now=t0 + wait)


def test_steps_are_paced_while_writes_keep_coming(client_db, handle, user):
    """KB_ANALYTICS_STEP_INTERVAL: a step right after another waits its turn, and then takes in
    every change made meanwhile; after a quiet spell the next step comes at once."""
    pace = schedule.StepPace("auto")
    assert pace.wait_seconds(0.1) == pytest.approx(0.5) and pace.wait_seconds(10) == schedule.STEP_MAX_S
    assert schedule.StepPace(3).wait_seconds(0.01) == 3.0
    analytics_refresh(client_db, interval=3600)  # the first full run
    rm = handle.readmodel
    pace = schedule.StepPace(3600)
    _new_edge(handle, user)
    first = analytics_refresh(client_db, interval=3600, pace=pace)
    assert first["step"] and first["touched"] >= 2
    generation = analytics.sets(rm)["ranks"].generation
    _new_edge(handle, user, rel_type="CAUSES")
    assert analytics_refresh(client_db, interval=3600, pace=pace) is None, "not due yet"
    assert analytics.sets(rm)["ranks"].generation == generation
    started, seconds = pace.last[rm.path]
    # (started + 3600) - started can come out a hair under 3600 in floating point: a step later.
    assert not pace.due(rm.path, now=started + 3599) and pace.due(rm.path, now=started + 3600.001)
    pace.last[rm.path] = (started - 3600, seconds)  # the interval has passed
    later = analytics_refresh(client_db, interval=3600, pace=pace)
    assert later["step"] and analytics.sets(rm)["ranks"].generation == rm.changed_at()


def test_the_change_log_stays_bounded_without_a_worker_and_a_state_behind_it_reloads(handle):
    """With no worker emptying it, the log keeps at most about sql.DIRTY_KEEP rows; a state that
    had not read the rows dropped loads a fresh snapshot instead of stepping over the gap."""
    from types import SimpleNamespace

    analytics_run(rm=handle.readmodel)  # the worker installed the log and read it up to here
    state, rm = services.STATES[handle.readmodel.path], handle.readmodel
    with rm.write() as conn:
        conn.executemany("INSERT INTO graph_dirty (kind, id) VALUES ('m', ?)",
                         ((f"gone-{n}",) for n in range(sql.DIRTY_KEEP + 2_500)))
    count = rm.conn.execute("SELECT count(*) FROM graph_dirty").fetchone()[0]
    dropped = int(rm.meta(sql.DIRTY_DROPPED))
    assert sql.DIRTY_KEEP <= count < sql.DIRTY_KEEP + 1000
    assert dropped > state.seq
    assert rm.conn.execute("SELECT min(seq) FROM graph_dirty").fetchone()[0] == dropped + 1
    # Leave a few rows after the mark, so that only the mark, not the log's length, decides.
    with rm.write() as conn:
        conn.execute("DELETE FROM graph_dirty WHERE seq > ?", (dropped + 10,))
    ranks, built_at = SimpleNamespace(detail={"state": state.token}), rm.meta("built_at")
    state.seq = dropped - 5
    assert state.stale(rm.conn, built_at=built_at, ranks=ranks)
    state.seq = dropped
    assert not state.stale(rm.conn, built_at=built_at, ranks=ranks)
