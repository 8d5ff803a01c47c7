"""Pure networkx builders: plain node/edge dicts in, ``MultiDiGraph`` views out.

The only module that knows networkx algorithms. Nothing here touches a database: selectors
hand over dicts, the renderers (render.py, svg.py, exports.py) take the graphs built here.
Every builder returns a new graph whose node order is meaningful (most relevant first) and
whose node attribute dicts are copies, so annotating a view never changes ``G``.
"""
import math

import networkx as nx

from memories.format import REL_CATEGORY, RESOLVING_TYPES, SYMMETRIC_TYPES, UNRESOLVABLE_TYPES

CHAIN_TYPES = ("error", "problem", "solution", "fix")
CHAIN_CATEGORIES = ("causal", "solution")
DEFAULT_STRENGTH = 0.5


def build_graph(nodes, edges):
    """A ``MultiDiGraph`` of memories: node attrs are the node dict minus ``id``; edge key is
    the edge id and edge attrs the edge dict minus ``from_id``/``to_id``. Edges whose ends
    are not among ``nodes`` are dropped (a filtered selection may cut them off)."""
    G = nx.MultiDiGraph()
    for node in nodes:
        G.add_node(node["id"], **{k: v for k, v in node.items() if k != "id"})
    for edge in edges:
        u, v = edge["from_id"], edge["to_id"]
        if u in G and v in G:
            G.add_edge(u, v, key=edge["id"], **{k: w for k, w in edge.items() if k not in ("from_id", "to_id")})
    return G


def _weighted(G):
    """G collapsed to a simple weighted DiGraph: parallel edges add up their strengths.

    Symmetric types are stored as one row in an arbitrary direction, so they count both ways:
    otherwise which end gains rank would depend on which agent wrote the edge.
    """
    D = nx.DiGraph()
    D.add_nodes_from(G)
    for u, v, data in G.edges(data=True):
        weight = data.get("strength")
        weight = DEFAULT_STRENGTH if weight is None else float(weight)
        pairs = [(u, v), (v, u)] if data.get("rel_type") in SYMMETRIC_TYPES and u != v else [(u, v)]
        for a, b in pairs:
            D.add_edge(a, b, weight=D.get_edge_data(a, b, {}).get("weight", 0.0) + weight)
    return D


def rank_and_communities(G, *, seed=1):
    """``(pagerank, community)``, both keyed by node id.

    PageRank runs on the weighted simple DiGraph (strength, 0.5 when unset). Communities are
    Louvain (seeded) on the undirected simple graph, numbered 0, 1, ... by decreasing size,
    ties broken by node order. A node with no edge at all is in no community and gets -1,
    so the community count is not inflated by loose memories. Empty and one-node graphs
    are fine.
    """
    D = _weighted(G)
    pagerank = nx.pagerank(D, weight="weight") if len(D) else {}
    # Louvain iterates sets of nodes; with integer nodes their order, and so the result,
    # does not change with PYTHONHASHSEED from one process to the next.
    ids = list(G)
    index = {n: i for i, n in enumerate(ids)}
    U = nx.Graph()
    U.add_nodes_from(range(len(ids)))
    for u, v, w in D.edges(data="weight"):
        a, b = index[u], index[v]
        U.add_edge(a, b, weight=U.get_edge_data(a, b, {}).get("weight", 0.0) + w)
    isolated = set(nx.isolates(G))
    groups = [sorted(c) for c in nx.community.louvain_communities(U, weight="weight", seed=seed)]
    groups = sorted((c for c in groups if ids[c[0]] not in isolated), key=lambda c: (-len(c), c[0]))
    community = {n: -1 for n in isolated}
    for number, group in enumerate(groups):
        community.update((ids[i], number) for i in group)
    return pagerank, community


def _skeleton(G, nodes=None):
    """The undirected simple graph of G (or of a connected piece ``nodes``), built rather than
    viewed: networkx's undirected and subgraph views iterate sets, whose order changes with
    PYTHONHASHSEED, and layouts and tie-breaks would then differ between processes."""
    S = nx.Graph()
    S.add_nodes_from(G if nodes is None else nodes)
    S.add_edges_from((u, v) for u, v in G.edges(nodes) if u != v and u in S and v in S)
    return S


def _with_edges(G, ids, edges=None):
    """A new MultiDiGraph on ``ids`` (in that order) with copies of their attributes and of the
    given ``(u, v, key)`` edges among them (default: every edge of G among them)."""
    H = nx.MultiDiGraph()
    H.add_nodes_from((n, dict(G.nodes[n])) for n in ids)
    edges = G.edges(keys=True) if edges is None else edges
    H.add_edges_from((u, v, k, dict(G.edges[u, v, k])) for u, v, k in edges if u in H and v in H)
    return H


def overview(G, *, pagerank, communities, limit):
    """``(H, stats)``: the ``limit`` nodes of highest PageRank (ties: node order) with the
    edges among them, most central first; H's nodes carry ``pagerank`` and ``community``.
    ``stats``: total (nodes in G), shown, isolated (degree 0 in G), communities (in G)."""
    ranked = sorted(G, key=lambda n: -pagerank.get(n, 0.0))[:limit]
    H = _with_edges(G, ranked)
    for n, data in H.nodes(data=True):
        data["pagerank"] = pagerank.get(n, 0.0)
        data["community"] = communities.get(n, -1)
    stats = {"total": len(G), "shown": len(H), "isolated": sum(1 for _ in nx.isolates(G)),
             "communities": len({c for c in communities.values() if c >= 0})}
    return H, stats


def subgraph(G, ids, *, limit):
    """``(H, total)``: the subgraph induced by ``ids``; when more than ``limit`` of them are in
    G, the first ``limit`` in the given order win. ``total`` counts distinct ids in G."""
    present = [n for n in dict.fromkeys(ids) if n in G]
    return _with_edges(G, present[:limit]), len(present)


def shortest_path(G, source, target):
    """A shortest path between two memories, walking edges in either direction.

    Returns H (the path's nodes in path order and every edge between consecutive ones, in
    its stored direction; ``H.graph["path"]`` is the id list), or None when they are not
    connected. Raises KeyError naming a missing node.
    """
    for n in (source, target):
        if n not in G:
            raise KeyError(n)
    try:
        path = nx.shortest_path(_skeleton(G), source, target)
    except nx.NetworkXNoPath:
        return None
    # A shortest path has no chords, so the induced subgraph is exactly the path's edges.
    H = _with_edges(G, path)
    H.graph["path"] = path
    return H


def _category(data):
    return data.get("category") or REL_CATEGORY.get(data.get("rel_type"))


def chains(G, *, limit):
    """Causal chains error -> problem -> solution -> fix.

    Nodes of the four chain types joined by edges of the causal or solution categories (only
    those edges are kept); a weakly connected piece counts as a chain when it holds at least
    two of the types. Largest chains first; a chain that does not fit in what is left of
    ``limit`` is skipped, except the largest, which is cut to a connected piece.
    ``H.graph["total"]`` is the node count of all chains.
    """
    C = nx.MultiDiGraph()
    C.add_nodes_from(n for n, t in G.nodes(data="type") if t in CHAIN_TYPES)
    C.add_edges_from((u, v, k) for u, v, k, d in G.edges(keys=True, data=True)
                     if u in C and v in C and _category(d) in CHAIN_CATEGORIES)
    order = {n: i for i, n in enumerate(G)}
    pieces = [sorted(c, key=order.__getitem__) for c in nx.weakly_connected_components(C)
              if len({G.nodes[n]["type"] for n in c}) >= 2]
    pieces.sort(key=lambda c: (-len(c), order[c[0]]))
    kept = []
    for piece in pieces:
        if len(kept) + len(piece) <= limit:
            kept.extend(piece)
        elif not kept:
            # Breadth-first from its best-connected node keeps the cut piece connected.
            hub = max(piece, key=lambda n: (C.degree(n), -order[n]))
            kept.extend(list(nx.bfs_tree(_skeleton(C, piece), hub))[:limit])
    H = _with_edges(G, kept, C.edges(keys=True))
    H.graph["total"] = sum(map(len, pieces))
    return H


def unsolved(G, *, limit):
    """Problems and errors with no incoming current SOLVES or ADDRESSES edge (the server's
    "unresolved"), most important first, then their neighbours in either direction while
    ``limit`` allows. Only edges touching an unsolved node are kept.
    ``H.graph["total"]`` is the number of unsolved nodes."""
    def solved(n):
        return any(d.get("rel_type") in RESOLVING_TYPES and d.get("current", True)
                   for _, _, d in G.in_edges(n, data=True))

    order = {n: i for i, n in enumerate(G)}
    open_ = [n for n, t in G.nodes(data="type") if t in UNRESOLVABLE_TYPES and not solved(n)]
    open_.sort(key=lambda n: (-(G.nodes[n].get("importance") or 0.0), order[n]))
    kept = dict.fromkeys(open_[:limit])
    for n in open_[:limit]:
        for m in list(G.predecessors(n)) + list(G.successors(n)):
            if len(kept) >= limit:
                break
            kept.setdefault(m)
    focus = set(open_)
    edges = [(u, v, k) for u, v, k in G.edges(keys=True) if u in focus or v in focus]
    H = _with_edges(G, kept, edges)
    H.graph["total"] = len(open_)
    return H


def _edges_of_types(G, rel_types, limit):
    """Every edge of ``rel_types`` with its two ends, in edge order, while both ends fit."""
    matching = [(u, v, k) for u, v, k, rel in G.edges(keys=True, data="rel_type") if rel in rel_types]
    kept, edges = {}, []
    for u, v, k in matching:
        if len(kept | dict.fromkeys((u, v))) <= limit:
            kept |= dict.fromkeys((u, v))
            edges.append((u, v, k))
    H = _with_edges(G, kept, edges)
    H.graph["total"] = len({n for u, v, _ in matching for n in (u, v)})
    return H


def contradictions(G, *, limit):
    """Every CONTRADICTS edge and its two ends (at most ``limit`` nodes)."""
    return _edges_of_types(G, {"CONTRADICTS"}, limit)


def superseded(G, *, limit):
    """Every REPLACES or DEPRECATED_BY edge and its two ends (at most ``limit`` nodes)."""
    return _edges_of_types(G, {"REPLACES", "DEPRECATED_BY"}, limit)


def layout(H, *, seed=1):
    """Deterministic positions ``{id: (x, y)}`` within [-1000, 1000] (y grows downwards).

    Each connected piece gets its own spring layout on the undirected simple skeleton
    (direction and multiplicity say nothing about closeness), sized by the square root of
    its node count, and the pieces are packed in rows, largest first. A single layout of a
    fragmented view flings small pieces and loose nodes to the rim and shrinks the rest;
    pieces are also cheaper, as the force model is quadratic. Big pieces get fewer
    iterations to keep a request within seconds.
    """
    S = _skeleton(H)
    order = {n: i for i, n in enumerate(S)}
    pieces = sorted((sorted(c, key=order.__getitem__) for c in nx.connected_components(S)),
                    key=lambda c: (-len(c), order[c[0]]))
    row_width = 2.5 * math.sqrt(len(S))
    x = y = row_height = 0.0
    packed = {}
    for piece in pieces:
        radius = math.sqrt(len(piece)) - 0.5
        size = 2 * radius + 1
        if x and x + size > row_width:
            x, y, row_height = 0.0, y + row_height, 0.0
        iterations = 50 if len(piece) <= 500 else 25 if len(piece) <= 1000 else 15
        local = nx.spring_layout(_skeleton(S, piece), seed=seed, iterations=iterations, scale=radius)
        packed.update((n, (x + size / 2 + px, y + size / 2 + py)) for n, (px, py) in local.items())
        x, row_height = x + size, max(row_height, size)
    scaled = nx.rescale_layout_dict(packed, scale=1000)
    return {n: (round(float(px), 2), round(float(py), 2)) for n, (px, py) in scaled.items()}
