"""Pure networkx builders: plain node/edge dicts in, ``MultiDiGraph`` views and analytics out.

The only module that knows networkx algorithms. Nothing here touches a database: selectors
hand over dicts, the renderers (render.py, svg.py, exports.py) take the graphs built here,
and the worker (graphs/analytics/) runs the whole-graph algorithms here and stores their
results. A view's node order is meaningful (most relevant first).
"""
import math

import networkx as nx

from memories.format import REL_CATEGORY, RESOLVING_TYPES, SYMMETRIC_TYPES, UNRESOLVABLE_TYPES

CHAIN_TYPES = ("error", "problem", "solution", "fix")
CHAIN_CATEGORIES = ("causal", "solution")
DEFAULT_STRENGTH = 0.5
VIEW_REL_TYPES = {"contradictions": ("CONTRADICTS",), "superseded": ("REPLACES", "DEPRECATED_BY")}


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
            G.add_edge(u, v, key=edge["id"],
                       **{k: w for k, w in edge.items() if k not in ("from_id", "to_id")})
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


def rank_and_communities(G, *, seed=1, nstart=None):
    """``(pagerank, community)``, both keyed by node id.

    PageRank runs on the weighted simple DiGraph (strength, 0.5 when unset), starting from
    ``nstart`` (earlier ranks by node id; nodes it lacks start at 0) when given: after a
    small change it converges in a few iterations instead of dozens. Communities are
    Louvain (seeded) on the undirected simple graph, numbered 0, 1, ... by decreasing size,
    ties broken by node order. A node with no edge at all is in no community and gets -1,
    so the community count is not inflated by loose memories. Empty and one-node graphs
    are fine.
    """
    D = _weighted(G)
    start = {n: nstart[n] for n in D if nstart.get(n, 0) > 0} if nstart else {}
    pagerank = nx.pagerank(D, weight="weight", nstart=start or None) if len(D) else {}
    return pagerank, communities(list(G), D.edges(data="weight"), set(nx.isolates(G)), seed=seed)


def communities(ids, weighted, isolated, *, seed=1):
    """``{id: community}``: Louvain (seeded) on the undirected simple graph of the ``weighted``
    ``(u, v, weight)`` pairs, numbered 0, 1, ... by decreasing size, ties broken by the order
    of ``ids``; the ``isolated`` ones (no edge at all) get -1. The result depends on the order
    of ``ids`` and ``weighted``: the worker (graphs/analytics/) passes them in the order
    ``rank_and_communities`` sees them, so both give the same communities."""
    # Louvain iterates sets of nodes; with integer nodes their order, and so the result,
    # does not change with PYTHONHASHSEED from one process to the next.
    index = {n: i for i, n in enumerate(ids)}
    U = nx.Graph()
    U.add_nodes_from(range(len(ids)))
    for u, v, w in weighted:
        a, b = index[u], index[v]
        U.add_edge(a, b, weight=U.get_edge_data(a, b, {}).get("weight", 0.0) + w)
    groups = [sorted(c) for c in nx.community.louvain_communities(U, weight="weight", seed=seed)]
    groups = sorted((c for c in groups if ids[c[0]] not in isolated), key=lambda c: (-len(c), c[0]))
    community = {n: -1 for n in isolated}
    for number, group in enumerate(groups):
        community.update((ids[i], number) for i in group)
    return community


def _skeleton(G, nodes=None):
    """The undirected simple graph of G (or of a connected piece ``nodes``), built rather than
    viewed: networkx's undirected and subgraph views iterate sets, whose order changes with
    PYTHONHASHSEED, and layouts and tie-breaks would then differ between processes."""
    S = nx.Graph()
    S.add_nodes_from(G if nodes is None else nodes)
    S.add_edges_from((u, v) for u, v in G.edges(nodes) if u != v and u in S and v in S)
    return S


def _category(data):
    return data.get("category") or REL_CATEGORY.get(data.get("rel_type"))


# The whole-graph views. The worker computes each view's members once per change, in the
# priority order that decides what a limited view keeps (``chain_pieces``, ``unsolved_order``,
# ``typed_edges``); web workers read them back from the read model and cut them with ``cut``.

def chain_pieces(G):
    """Causal chains error -> problem -> solution -> fix, as lists of node ids.

    Nodes of the four chain types joined by edges of the causal or solution categories; a
    weakly connected piece counts as a chain when it holds at least two of the types.
    Largest chains first (ties: node order); each in breadth-first order from its
    best-connected node, so that cutting a chain keeps a connected piece of it.
    """
    C = nx.MultiDiGraph()
    C.add_nodes_from(n for n, t in G.nodes(data="type") if t in CHAIN_TYPES)
    C.add_edges_from((u, v, k) for u, v, k, d in G.edges(keys=True, data=True)
                     if u in C and v in C and _category(d) in CHAIN_CATEGORIES)
    order = {n: i for i, n in enumerate(G)}
    pieces = [sorted(c, key=order.__getitem__) for c in nx.weakly_connected_components(C)
              if len({G.nodes[n]["type"] for n in c}) >= 2]
    pieces.sort(key=lambda c: (-len(c), order[c[0]]))
    walked = []
    for piece in pieces:
        hub = max(piece, key=lambda n: (C.degree(n), -order[n]))
        walked.append(list(nx.bfs_tree(_skeleton(C, piece), hub)))
    return walked


def unsolved_order(G):
    """``(open, context)``: problems and errors with no incoming current SOLVES or ADDRESSES
    edge (the server's "unresolved"), most important first (ties: node order), then their
    neighbours in either direction, taken problem by problem, each once."""
    def solved(n):
        return any(d.get("rel_type") in RESOLVING_TYPES and d.get("current", True)
                   for _, _, d in G.in_edges(n, data=True))

    order = {n: i for i, n in enumerate(G)}
    open_ = [n for n, t in G.nodes(data="type") if t in UNRESOLVABLE_TYPES and not solved(n)]
    open_.sort(key=lambda n: (-(G.nodes[n].get("importance") or 0.0), order[n]))
    kept = dict.fromkeys(open_)
    for n in open_:
        for m in list(G.predecessors(n)) + list(G.successors(n)):
            kept.setdefault(m)
    return open_, list(kept)[len(open_):]


def typed_edges(G, rel_types):
    """``(u, v)`` of every edge of ``rel_types``, in edge order."""
    return [(u, v) for u, v, rel in G.edges(data="rel_type") if rel in rel_types]


def cut(groups, *, limit, split_first=False):
    """The node ids a view keeps: whole groups, in priority order, while they fit in
    ``limit`` (a group costs its nodes not kept yet); a group that does not fit is skipped,
    except, with ``split_first``, when nothing is kept yet: then its first ``limit`` nodes.
    ``groups`` is read only until the view is full, so it may be a lazy query."""
    kept = {}
    for group in groups:
        new = [n for n in dict.fromkeys(group) if n not in kept]
        if len(kept) + len(new) <= limit:
            kept.update(dict.fromkeys(new))
        elif split_first and not kept:
            kept.update(dict.fromkeys(new[:limit]))
        if len(kept) >= limit:
            break
    return list(kept)


def view_edges(view, edges, *, focus=frozenset()):
    """The edges a whole-graph view draws among its nodes: chains their causal and solution
    edges, unsolved those touching an unsolved node (``focus``), contradictions and
    superseded the edges of their types."""
    if view == "chains":
        return [e for e in edges if _category(e) in CHAIN_CATEGORIES]
    if view == "unsolved":
        return [e for e in edges if e["from_id"] in focus or e["to_id"] in focus]
    return [e for e in edges if e["rel_type"] in VIEW_REL_TYPES[view]]


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
