"""graphs/builders.py on small hand-made graphs: plain dicts in, no database."""
import json
import os
import subprocess
import sys

import pytest

from graphs import builders
from memories.format import REL_CATEGORY
from tests.support.paths import ROOT


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
    edges = [
        edge("r1", "e", "p", "CAUSES"), edge("r2", "s", "p", "SOLVES"), edge("r3", "f", "e", "ADDRESSES"),
        edge("r4", "p", "t", "OCCURS_IN"), edge("r5", "p2", "t", "OCCURS_IN"),
    ]
    return builders.build_graph(nodes + list(extra_nodes), edges + list(extra_edges))


def test_build_graph_keeps_attrs_keys_and_drops_dangling_edges():
    G = builders.build_graph(
        [node("a", "problem", "A"), node("b", "solution", "B")],
        [
            edge("x", "b", "a", "SOLVES", strength=None), edge("y", "b", "a", "RELATED_TO"),
            edge("z", "b", "missing", "SOLVES"),
        ],
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
    edges = [
        edge("e1", "x1", "x2", "RELATED_TO"), edge("e2", "a1", "a2", "DEPENDS_ON"),
        edge("e3", "a2", "a3", "DEPENDS_ON"), edge("e4", "a3", "a1", "DEPENDS_ON"),
        edge("e5", "a4", "a1", "FOLLOWS"),
    ]
    G = builders.build_graph(nodes, edges)
    pagerank, community = builders.rank_and_communities(G, seed=3)
    assert community["lone"] == -1
    assert {community[n] for n in ("a1", "a2", "a3", "a4")} == {0}
    assert community["x1"] == community["x2"] == 1
    assert sum(pagerank.values()) == pytest.approx(1.0)
    assert builders.rank_and_communities(G, seed=3) == (pagerank, community)


def test_pagerank_warm_start_converges_to_the_same_ranks():
    G = story()
    cold, _ = builders.rank_and_communities(G)
    warm, _ = builders.rank_and_communities(G, nstart={**cold, "ghost": 0.3, "lone": 0.0})
    assert warm == pytest.approx(cold, abs=1e-5), "within networkx's tolerance (1e-6 per memory)"


def view(G, name, limit):
    """What a web worker draws of a whole-graph view: the groups the worker stores, cut to
    limit in their order, with the view's edges among the memories kept."""
    focus = set()
    if name == "chains":
        groups = builders.chain_pieces(G)
    elif name == "unsolved":
        open_, context = builders.unsolved_order(G)
        groups, focus = [[n] for n in open_ + context], set(open_)
    else:
        groups = builders.typed_edges(G, builders.VIEW_REL_TYPES[name])
    ids = builders.cut(groups, limit=limit, split_first=name == "chains")
    edges = [
        {"id": k, "from_id": u, "to_id": v, **d} for u, v, k, d in G.edges(keys=True, data=True)
        if u in ids and v in ids
    ]
    nodes = [{"id": n, **G.nodes[n]} for n in ids]
    return builders.build_graph(nodes, builders.view_edges(name, edges, focus=focus))


def test_cut_keeps_whole_groups_in_order_while_they_fit():
    groups = [["a", "b", "c"], ["d", "e"], ["b", "f"], ["g"]]
    assert builders.cut(groups, limit=10) == ["a", "b", "c", "d", "e", "f", "g"]
    assert builders.cut(groups, limit=4) == ["a", "b", "c", "f"], "a group costs only its new memories"
    assert builders.cut(groups, limit=2) == ["d", "e"], "a group that does not fit is skipped"
    assert builders.cut(groups, limit=2, split_first=True) == ["a", "b"]
    assert builders.cut(iter([["x", "x"], ["y"]]), limit=1) == ["x"]

    def lazy():
        yield ["a"]
        raise AssertionError("read past a full view")

    assert builders.cut(lazy(), limit=1) == ["a"]


def test_chains_keep_mixed_type_components_of_causal_and_solution_edges():
    G = story(
        [node("q1", "problem"), node("q2", "problem"), node("e9", "error"), node("s9", "solution")],
        [
            edge("c1", "q1", "q2", "LEADS_TO"), edge("c2", "s9", "e9", "SOLVES"),
            edge("c3", "e9", "q1", "RELATED_TO"),
        ],
    )
    pieces = builders.chain_pieces(G)
    assert [set(p) for p in pieces] == [{"e", "p", "s", "f"}, {"e9", "s9"}], (
        "largest first; q1-q2 has one type; RELATED_TO does not join chains"
    )
    assert pieces[0][0] in ("e", "p"), "walked from its best-connected memory"
    H = view(G, "chains", 10)
    assert set(H.edges(keys=True)) == {
        ("e", "p", "r1"), ("s", "p", "r2"), ("f", "e", "r3"), ("s9", "e9", "c2"),
    }
    assert sum(map(len, pieces)) == 6
    assert set(view(G, "chains", 5)) == {"e", "p", "s", "f"}, "a chain that does not fit is skipped"


def test_chains_cut_the_largest_chain_to_a_connected_piece():
    H = view(story(), "chains", 2)
    assert len(H) == 2 and H.number_of_edges() == 1


def test_unsolved_needs_a_current_incoming_solves_or_addresses():
    nodes = [
        node("p1", "problem", importance=0.2), node("p2", "problem", importance=0.9), node("p3", "problem"),
        node("e1", "error"), node("s", "solution"), node("t", "technology"),
    ]
    edges = [
        edge("a", "s", "p1", "SOLVES"), edge("b", "s", "p2", "SOLVES", current=False),
        edge("c", "p3", "s", "SOLVES"), edge("d", "e1", "t", "OCCURS_IN"),
    ]
    G = builders.build_graph(nodes, edges)
    open_, context = builders.unsolved_order(G)
    assert open_ == ["p2", "p3", "e1"], "most important first"
    assert context == ["s", "t"]
    H = view(G, "unsolved", 10)
    assert {k for _, _, k in H.edges(keys=True)} == {"b", "c", "d"}, "only edges touching an unsolved memory"
    assert list(view(G, "unsolved", 1)) == ["p2"]


def test_contradictions_and_superseded_take_their_edges_with_both_ends():
    nodes = [node(n) for n in "abcdef"]
    edges = [
        edge("x", "a", "b", "CONTRADICTS"), edge("y", "c", "d", "REPLACES"),
        edge("z", "e", "f", "DEPRECATED_BY"), edge("w", "a", "c", "RELATED_TO"),
    ]
    G = builders.build_graph(nodes, edges)
    assert builders.typed_edges(G, ("CONTRADICTS",)) == [("a", "b")]
    assert list(view(G, "contradictions", 10).edges(keys=True)) == [("a", "b", "x")]
    H = view(G, "superseded", 10)
    assert list(H) == ["c", "d", "e", "f"] and H.number_of_edges() == 2
    assert list(view(G, "superseded", 3)) == ["c", "d"]


def test_builders_handle_the_empty_graph():
    G = builders.build_graph([], [])
    assert builders.chain_pieces(G) == [] and builders.unsolved_order(G) == ([], [])
    assert builders.typed_edges(G, ("CONTRADICTS",)) == [] and builders.cut([], limit=10) == []
    assert builders.layout(G) == {}


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
    edges = [
        edge("r1", "a", "b", "FOLLOWS"), edge("r2", "b", "c", "FOLLOWS"), edge("r3", "x", "y", "RELATED_TO"),
    ]
    positions = builders.layout(builders.build_graph(nodes, edges))

    def box(ids):
        xs, ys = [positions[n][0] for n in ids], [positions[n][1] for n in ids]
        return min(xs), max(xs), min(ys), max(ys)

    pieces = [box("abc"), box("xy"), box(["lone"])]
    for i, (x0, x1, y0, y1) in enumerate(pieces):
        for u0, u1, v0, v1 in pieces[i + 1 :]:
            assert x1 < u0 or u1 < x0 or y1 < v0 or v1 < y0, "pieces must not overlap"


HASH_SEED_PROBE = """
import json
from graphs import builders
ids = [f"m{r}-{c}" for r in range(6) for c in range(6)]
nodes = [{"id": i, "title": i, "type": ("error", "problem", "solution", "fix")[n % 4], "summary": "",
          "importance": 0.5, "created_at": ""} for n, i in enumerate(ids)] + [
         {"id": "lone", "title": "lone", "type": "general", "summary": "", "importance": 0.5,
          "created_at": ""}]
edges = [{"id": f"h{r}{c}", "from_id": f"m{r}-{c}", "to_id": f"m{r}-{c + 1}", "rel_type": "CAUSES",
          "category": "causal", "strength": None, "current": True} for r in range(6) for c in range(5)]
edges += [{"id": f"v{r}{c}", "from_id": f"m{r + 1}-{c}", "to_id": f"m{r}-{c}", "rel_type": "SOLVES",
           "category": "solution", "strength": 0.9, "current": True} for r in range(5) for c in range(6)]
G = builders.build_graph(nodes, edges)
print(json.dumps([builders.rank_and_communities(G), builders.layout(G),
                  builders.chain_pieces(G), builders.unsolved_order(G)]))
"""


def test_results_do_not_change_with_the_hash_seed():
    """Set iteration order changes between processes; ranks, layouts and tie-breaks must not."""
    outputs = {
        subprocess.run(
            [sys.executable, "-c", HASH_SEED_PROBE], cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True, text=True, check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
    (_, community), _, pieces, _ = json.loads(outputs.pop())
    assert community["lone"] == -1 and [len(p) for p in pieces] == [36]
