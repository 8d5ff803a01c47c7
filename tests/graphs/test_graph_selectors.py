"""graphs/selectors.py: the shortest path, a bidirectional breadth-first search over the edge table."""
import random

import networkx as nx
import pytest

from graphs import selectors
from memories.devdata.loader import load_graph
from memories.store.canonical import CanonicalStore
from memories.store.readmodel import ReadModel


@pytest.fixture
def read_model(tmp_path):
    """read_model(n, pairs): a real read model of memories m0..m<n-1> and RELATED_TO/FOLLOWS edges,
    written as the read model applies other writers' changes."""
    load_graph(str(tmp_path / "empty.db"), [], [])
    empty = CanonicalStore(tmp_path / "empty.db")
    made = []

    def make(n, pairs):
        rm = ReadModel(tmp_path / f"index-{len(made)}.sqlite3")
        made.append(rm)
        rm.rebuild(empty)
        with rm.write() as conn:
            ReadModel.apply_memories(conn, [(f"m{i}", {"type": "general", "title": f"Memory {i}"}, "1")
                                            for i in range(n)])
            ReadModel.apply_edges(conn, [{"id": f"r{k}", "from_id": f"m{u}", "to_id": f"m{v}", "version": "1",
                                          "rel_type": ("RELATED_TO", "FOLLOWS")[k % 2], "props": {}}
                                         for k, (u, v) in enumerate(pairs)])
        return rm

    yield make
    for rm in made:
        rm.close()
    empty.close()


def test_shortest_path_lengths_equal_networkx_on_random_graphs(read_model):
    rng = random.Random(11)
    checked = connected = 0
    for _ in range(50):
        n = rng.randint(2, 40)
        drawn = ((rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(0, 2 * n)))
        pairs = {(u, v) for u, v in drawn if u != v}
        rm = read_model(n, sorted(pairs))
        U = nx.Graph()
        U.add_nodes_from(range(n))
        U.add_edges_from(pairs)
        for _ in range(4):
            a, b = rng.randrange(n), rng.randrange(n)
            path, searched, bound = selectors.shortest_path(rm=rm, source=f"m{a}", target=f"m{b}",
                                                            max_steps=n)
            checked += 1
            if nx.has_path(U, a, b):
                connected += 1
                assert bound is None and path[0] == f"m{a}" and path[-1] == f"m{b}"
                assert len(path) - 1 == nx.shortest_path_length(U, a, b)
                steps = list(zip(path, path[1:]))
                assert all(U.has_edge(int(u[1:]), int(v[1:])) for u, v in steps), "a path of real edges"
            else:
                assert path is None and bound is None
            assert searched <= n
    assert checked == 200 and 50 < connected < 200


def test_shortest_path_takes_edges_either_way_and_ignores_ended_ones(read_model):
    rm = read_model(5, [(1, 0), (1, 2), (3, 2), (0, 4)])
    assert selectors.shortest_path(rm=rm, source="m0", target="m3")[0] == ["m0", "m1", "m2", "m3"]
    assert selectors.shortest_path(rm=rm, source="m2", target="m2") == (["m2"], 1, None)
    rm.conn.execute("UPDATE edge SET current = 0 WHERE id = 'r1'")
    assert selectors.shortest_path(rm=rm, source="m0", target="m3")[:1] == (None,)
    with pytest.raises(LookupError, match="ghost"):
        selectors.shortest_path(rm=rm, source="m0", target="ghost")


def test_shortest_path_stops_at_its_bounds(read_model):
    line = read_model(12, [(i, i + 1) for i in range(11)])
    assert len(selectors.shortest_path(rm=line, source="m0", target="m8")[0]) == 9
    path, searched, bound = selectors.shortest_path(rm=line, source="m0", target="m9")
    assert path is None and bound == "steps" and searched == 10
    # Two hubs of 30 leaves each, joined through a far leaf: the search reaches 60 memories first.
    pairs = [(0, i) for i in range(2, 32)] + [(1, i) for i in range(32, 62)] + [(31, 62), (62, 61)]
    hubs = read_model(63, pairs)
    assert len(selectors.shortest_path(rm=hubs, source="m0", target="m1")[0]) == 5
    path, searched, bound = selectors.shortest_path(rm=hubs, source="m0", target="m1", max_visited=40)
    assert path is None and bound == "visited" and searched > 40
