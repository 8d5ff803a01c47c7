"""graphs.render.vis_payload builds vis-network's node and edge dicts itself (30 ms of CPU less
for the 300-node overview at 100,000 memories): they must stay, key for key, what pyvis 0.3.2
made of the same arguments, which is what the page's vendored vis-network was written against.
pyvis is kept as this test's oracle: the payload of the code before, rebuilt here with it."""
import json
import random

import pytest
from pyvis.network import Network

from graphs import builders, render
from memories.format import MEMORY_TYPES, REL_CATEGORY
from tests.support.graph_samples import NASTY, edge, node, sample


def with_pyvis(H, *, size_by="degree", positions=None, url_for=None):
    """vis_payload as it was written on pyvis (commit 2bf0485)."""
    net = Network(directed=True)
    positions = positions if positions is not None else render.path_positions(H)
    sizes = {n: render.PATH_SIZE for n in H} if H.graph.get("path") else render.degree_sizes(H, by=size_by)
    labelled = set(
        sorted(H, key=lambda n: (-float(H.nodes[n].get("pagerank") or 0), -H.degree(n)))[: render.LABELLED]
    )
    labelled.update(n for n, d in H.nodes(data=True) if d.get("center") or d.get("role") == "open")
    for n, data in H.nodes(data=True):
        extra = {}
        if data.get("center"):
            extra["center"] = True
        if data.get("role"):
            extra["role"] = data["role"]
        if "community" in data:
            extra.update(
                community=data["community"], community_color=render.community_colour(data["community"])
            )
        if positions is not None:
            x, y = positions[n]
            extra.update(x=float(x), y=float(y), physics=False)
        if url_for is not None:
            extra["url"] = url_for(n)
        net.add_node(
            n, label=render.node_label(data.get("title") or n), color=render.type_colour(data.get("type")),
            shape=render.type_shape(data.get("type")), size=sizes[n], title=render.hover_text(data),
            type=data.get("type"), important=n in labelled, **extra,
        )
    for u, v, key, data in H.edges(keys=True, data=True):
        rel_type, current = data.get("rel_type"), data.get("current", True)
        net.add_edge(
            u, v, id=key, title=str(rel_type) if current else f"{rel_type} (no longer current)",
            color=render.category_colour(data.get("category")), dashes=not current,
            width=render.edge_width(data.get("strength")), rel_type=rel_type, category=data.get("category"),
            arrows="to" if render.is_directed(rel_type) else {"to": {"enabled": False}},
        )
    net.options = dict(
        render.BASE_OPTIONS, physics={"enabled": False} if positions is not None else render.PHYSICS
    )
    nodes, edges, _heading, _height, _width, options = net.get_network_data()
    return {"nodes": nodes, "edges": edges, "options": json.loads(options), "legend": render.legend(H)}


def random_graph(seed, n=60):
    rng = random.Random(seed)
    types, rels = list(MEMORY_TYPES), list(REL_CATEGORY)
    nodes = [
        node(f"m{i}", rng.choice(types), rng.choice([f"Memory {i}", NASTY, "", "x" * 90])) for i in range(n)
    ]
    edges = [
        edge(
            f"e{i}", f"m{rng.randrange(n)}", f"m{rng.randrange(n)}", rng.choice(rels),
            strength=rng.choice([None, 0.1, 0.9]), current=rng.random() > 0.2,
        )
        for i in range(3 * n)
    ]
    H = builders.build_graph(nodes, [e for e in edges if e["from_id"] != e["to_id"]])
    for i, n_id in enumerate(H):
        if rng.random() < 0.5:
            H.nodes[n_id].update(pagerank=rng.random(), community=rng.randrange(8))
        if i == 0:
            H.nodes[n_id]["center"] = True
        if rng.random() < 0.1:
            H.nodes[n_id]["role"] = rng.choice(["open", "problem", "solution"])
    return H


def canonical(payload):
    return json.loads(json.dumps(payload, sort_keys=True))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("pinned", [False, True])
def test_the_payload_is_what_pyvis_made_of_the_same_graph(seed, pinned):
    H = random_graph(seed)
    positions = builders.layout(H) if pinned else None
    urls = (lambda memory_id: f"/c/acme/m/{memory_id}/") if seed % 2 else None
    for size_by in ("degree", "pagerank"):
        ours = render.vis_payload(H, size_by=size_by, positions=positions, url_for=urls)
        theirs = with_pyvis(H, size_by=size_by, positions=positions, url_for=urls)
        assert canonical(ours) == canonical(theirs)


def test_a_path_and_the_sample_are_what_pyvis_made():
    H = sample()
    assert canonical(render.vis_payload(H)) == canonical(with_pyvis(H))
    H.graph["path"] = ["s", "p", "t"]
    H.remove_nodes_from(["e", "u"])
    assert canonical(render.vis_payload(H)) == canonical(with_pyvis(H))
