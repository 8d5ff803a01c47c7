"""graphs/builders.py on small hand-made graphs: plain dicts in, no database."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphs import builders
from memories.format import REL_CATEGORY


def node(id, type="general", title=None, importance=0.5, summary=""):
    return {"id": id, "title": title or f"Memory {id}", "type": type, "summary": summary,
            "importance": importance, "created_at": "2026-01-01T00:00:00+00:00"}


def edge(id, u, v, rel, *, category=None, strength=0.8, current=True):
    return {"id": id, "from_id": u, "to_id": v, "rel_type": rel,
            "category": category or REL_CATEGORY[rel], "strength": strength, "current": current}


def story(extra_nodes=(), extra_edges=()):
    """error CAUSES problem, solution SOLVES problem, fix ADDRESSES error, plus loose ends."""
    nodes = [node("e", "error"), node("p", "problem"), node("s", "solution"), node("f", "fix"),
             node("t", "technology"), node("p2", "problem", importance=0.9), node("lone", "general")]
    edges = [edge("r1", "e", "p", "CAUSES"), edge("r2", "s", "p", "SOLVES"), edge("r3", "f", "e", "ADDRESSES"),
             edge("r4", "p", "t", "OCCURS_IN"), edge("r5", "p2", "t", "OCCURS_IN")]
    return builders.build_graph(nodes + list(extra_nodes), edges + list(extra_edges))


def test_build_graph_keeps_attrs_keys_and_drops_dangling_edges():
    G = builders.build_graph(
        [node("a", "problem", "A"), node("b", "solution", "B")],
        [edge("x", "b", "a", "SOLVES", strength=None), edge("y", "b", "a", "RELATED_TO"),
         edge("z", "b", "missing", "SOLVES")],
    )
    assert G.nodes["a"]["title"] == "A" and "id" not in G.nodes["a"]
    assert sorted(G.edges(keys=True)) == [("b", "a", "x"), ("b", "a", "y")]
    assert G.edges["b", "a", "x"]["rel_type"] == "SOLVES" and G.edges["b", "a", "x"]["strength"] is None
    assert "from_id" not in G.edges["b", "a", "x"]


def test_rank_and_communities_on_empty_and_single_node_graphs():
    assert builders.rank_and_communities(builders.build_graph([], [])) == ({}, {})
    pagerank, community = builders.rank_and_communities(builders.build_graph([node("a")], []))
    assert pagerank == {"a": pytest.approx(1.0)} and community == {"a": -1}


def test_pagerank_follows_solves_direction_and_symmetric_edges_count_both_ways():
    G = builders.build_graph([node("s", "solution"), node("p", "problem")], [edge("r", "s", "p", "SOLVES")])
    pagerank, _ = builders.rank_and_communities(G)
    assert pagerank["p"] > pagerank["s"]
    G = builders.build_graph([node("a"), node("b")], [edge("r", "a", "b", "SIMILAR_TO")])
    pagerank, _ = builders.rank_and_communities(G)
    assert pagerank["a"] == pytest.approx(pagerank["b"])


def test_communities_numbered_by_size_with_isolated_nodes_at_minus_one():
    nodes = [node(n) for n in ("x1", "x2", "lone", "a1", "a2", "a3", "a4")]
    edges = [edge("e1", "x1", "x2", "RELATED_TO"),
             edge("e2", "a1", "a2", "DEPENDS_ON"), edge("e3", "a2", "a3", "DEPENDS_ON"),
             edge("e4", "a3", "a1", "DEPENDS_ON"), edge("e5", "a4", "a1", "FOLLOWS")]
    G = builders.build_graph(nodes, edges)
    pagerank, community = builders.rank_and_communities(G, seed=3)
    assert community["lone"] == -1
    assert {community[n] for n in ("a1", "a2", "a3", "a4")} == {0}
    assert community["x1"] == community["x2"] == 1
    assert sum(pagerank.values()) == pytest.approx(1.0)
    assert builders.rank_and_communities(G, seed=3) == (pagerank, community)


def test_overview_keeps_most_central_nodes_and_reports_stats():
    G = story()
    pagerank, community = builders.rank_and_communities(G)
    H, stats = builders.overview(G, pagerank=pagerank, communities=community, limit=3)
    top = sorted(G, key=lambda n: -pagerank[n])[:3]
    assert list(H) == top
    assert stats == {"total": 7, "shown": 3, "isolated": 1, "communities": len(set(community.values()) - {-1})}
    assert all(H.nodes[n]["pagerank"] == pagerank[n] and H.nodes[n]["community"] == community[n] for n in H)
    assert set(H.edges(keys=True)) == {(u, v, k) for u, v, k in G.edges(keys=True) if u in top and v in top}
    assert "pagerank" not in G.nodes[top[0]], "annotating the view must not touch G"


def test_subgraph_keeps_given_order_when_truncating():
    G = story()
    H, total = builders.subgraph(G, ["s", "nope", "p", "s", "e", "f"], limit=2)
    assert list(H) == ["s", "p"] and total == 4
    assert list(H.edges(keys=True)) == [("s", "p", "r2")]


def test_shortest_path_ignores_direction_but_keeps_it_on_edges():
    G = story()
    H = builders.shortest_path(G, "f", "s")
    assert H.graph["path"] == ["f", "e", "p", "s"]
    assert sorted(H.edges(keys=True)) == [("e", "p", "r1"), ("f", "e", "r3"), ("s", "p", "r2")]
    assert builders.shortest_path(G, "f", "lone") is None
    assert list(builders.shortest_path(G, "p", "p")) == ["p"]
    with pytest.raises(KeyError):
        builders.shortest_path(G, "f", "ghost")


def test_shortest_path_in_a_cycle_takes_the_short_way_round():
    nodes = [node(n) for n in "abcde"]
    edges = [edge(f"r{i}", u, v, "FOLLOWS") for i, (u, v) in enumerate(zip("abcde", "bcdea"))]
    H = builders.shortest_path(builders.build_graph(nodes, edges), "a", "e")
    assert H.graph["path"] == ["a", "e"] and list(H.edges(keys=True)) == [("e", "a", "r4")]


def test_chains_keep_mixed_type_components_of_causal_and_solution_edges():
    G = story(
        [node("q1", "problem"), node("q2", "problem"), node("e9", "error"), node("s9", "solution")],
        [edge("c1", "q1", "q2", "LEADS_TO"), edge("c2", "s9", "e9", "SOLVES"), edge("c3", "e9", "q1", "RELATED_TO")],
    )
    H = builders.chains(G, limit=10)
    assert set(H) == {"e", "p", "s", "f", "e9", "s9"}, "q1-q2 has one type; RELATED_TO does not join chains"
    assert list(H)[:4] == ["e", "p", "s", "f"], "largest chain first"
    assert set(H.edges(keys=True)) == {("e", "p", "r1"), ("s", "p", "r2"), ("f", "e", "r3"), ("s9", "e9", "c2")}
    assert H.graph["total"] == 6
    assert set(builders.chains(G, limit=5)) == {"e", "p", "s", "f"}, "a chain that does not fit is skipped"


def test_chains_cut_the_largest_chain_to_a_connected_piece():
    H = builders.chains(story(), limit=2)
    assert len(H) == 2 and H.number_of_edges() == 1


def test_unsolved_needs_a_current_incoming_solves_or_addresses():
    nodes = [node("p1", "problem", importance=0.2), node("p2", "problem", importance=0.9),
             node("p3", "problem"), node("e1", "error"), node("s", "solution"), node("t", "technology")]
    edges = [edge("a", "s", "p1", "SOLVES"),
             edge("b", "s", "p2", "SOLVES", current=False),
             edge("c", "p3", "s", "SOLVES"),
             edge("d", "e1", "t", "OCCURS_IN")]
    H = builders.unsolved(builders.build_graph(nodes, edges), limit=10)
    assert H.graph["total"] == 3
    assert list(H)[:3] == ["p2", "p3", "e1"], "most important first"
    assert set(H) == {"p2", "p3", "e1", "s", "t"}
    assert {k for _, _, k in H.edges(keys=True)} == {"b", "c", "d"}
    assert list(builders.unsolved(builders.build_graph(nodes, edges), limit=1)) == ["p2"]


def test_contradictions_and_superseded_take_their_edges_with_both_ends():
    nodes = [node(n) for n in "abcdef"]
    edges = [edge("x", "a", "b", "CONTRADICTS"), edge("y", "c", "d", "REPLACES"),
             edge("z", "e", "f", "DEPRECATED_BY"), edge("w", "a", "c", "RELATED_TO")]
    G = builders.build_graph(nodes, edges)
    assert list(builders.contradictions(G, limit=10).edges(keys=True)) == [("a", "b", "x")]
    H = builders.superseded(G, limit=10)
    assert list(H) == ["c", "d", "e", "f"] and H.number_of_edges() == 2
    H = builders.superseded(G, limit=3)
    assert list(H) == ["c", "d"] and H.graph["total"] == 4


def test_builders_handle_the_empty_graph():
    G = builders.build_graph([], [])
    for view in (builders.chains, builders.unsolved, builders.contradictions, builders.superseded):
        assert len(view(G, limit=10)) == 0
    H, stats = builders.overview(G, pagerank={}, communities={}, limit=10)
    assert stats == {"total": 0, "shown": 0, "isolated": 0, "communities": 0}
    assert builders.layout(H) == {}


def test_layout_is_deterministic_and_scaled():
    G = story()
    first = builders.layout(G, seed=4)
    assert first == builders.layout(G, seed=4)
    assert set(first) == set(G)
    assert all(-1000.5 <= c <= 1000.5 for xy in first.values() for c in xy)
    assert max(abs(c) for xy in first.values() for c in xy) > 900
    assert all(isinstance(c, float) for xy in first.values() for c in xy)
    assert builders.layout(builders.build_graph([node("a")], [])) == {"a": (0.0, 0.0)}


def test_layout_packs_disconnected_pieces_apart():
    nodes = [node(n) for n in ("a", "b", "c", "x", "y", "lone")]
    edges = [edge("r1", "a", "b", "FOLLOWS"), edge("r2", "b", "c", "FOLLOWS"), edge("r3", "x", "y", "RELATED_TO")]
    positions = builders.layout(builders.build_graph(nodes, edges))

    def box(ids):
        xs, ys = [positions[n][0] for n in ids], [positions[n][1] for n in ids]
        return min(xs), max(xs), min(ys), max(ys)

    pieces = [box("abc"), box("xy"), box(["lone"])]
    for i, (x0, x1, y0, y1) in enumerate(pieces):
        for u0, u1, v0, v1 in pieces[i + 1:]:
            assert x1 < u0 or u1 < x0 or y1 < v0 or v1 < y0, "pieces must not overlap"


HASH_SEED_PROBE = """
import json
from graphs import builders
ids = [f"m{r}-{c}" for r in range(6) for c in range(6)]
nodes = [{"id": i, "title": i, "type": ("error", "problem", "solution", "fix")[n % 4], "summary": "",
          "importance": 0.5, "created_at": ""} for n, i in enumerate(ids)] + [
         {"id": "lone", "title": "lone", "type": "general", "summary": "", "importance": 0.5, "created_at": ""}]
edges = [{"id": f"h{r}{c}", "from_id": f"m{r}-{c}", "to_id": f"m{r}-{c + 1}", "rel_type": "CAUSES",
          "category": "causal", "strength": None, "current": True} for r in range(6) for c in range(5)]
edges += [{"id": f"v{r}{c}", "from_id": f"m{r + 1}-{c}", "to_id": f"m{r}-{c}", "rel_type": "SOLVES",
           "category": "solution", "strength": 0.9, "current": True} for r in range(5) for c in range(6)]
G = builders.build_graph(nodes, edges)
print(json.dumps([builders.rank_and_communities(G), builders.layout(G),
                  builders.shortest_path(G, "m0-0", "m5-5").graph["path"], list(builders.chains(G, limit=7))]))
"""


def test_results_do_not_change_with_the_hash_seed():
    """Set iteration order changes between processes; ranks, layouts and tie-breaks must not."""
    root = Path(__file__).resolve().parent.parent
    outputs = {
        subprocess.run([sys.executable, "-c", HASH_SEED_PROBE], cwd=root, env={**os.environ, "PYTHONHASHSEED": seed},
                       capture_output=True, text=True, check=True).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
    (_, community), _, path, chain = json.loads(outputs.pop())
    assert community["lone"] == -1 and len(path) == 11 and len(chain) == 7
