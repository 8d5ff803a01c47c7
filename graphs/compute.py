"""Assemble one graph view from its URL state: selectors or the whole-graph state -> builders.

Returns a networkx graph of at most ``limit`` nodes plus what the page says about it
("showing N of M"). Neighbourhoods and result graphs come straight from the read model;
overview, paths and the causal views need the whole graph (``analytics.graph_state``).
"""
from dataclasses import dataclass, field

from memories.query import parse_query
from memories.search import search_ids
from memories.selectors import selection_ids

from . import analytics, builders, selectors

# Whole-graph views wait this long for a first build before answering "computing".
WAIT_SECONDS = 3.0

TITLES = {
    "overview": "Overview: the most central memories",
    "chains": "Causal chains: error → problem → solution → fix",
    "unsolved": "Problems with no solution",
    "contradictions": "Contradictions",
    "superseded": "Superseded memories",
}


@dataclass
class GraphView:
    graph: object = None
    total: int = 0
    title: str = ""
    computing: bool = False
    stats: dict = field(default_factory=dict)
    ranks: dict = field(default_factory=dict)
    communities: dict = field(default_factory=dict)
    # Views of the whole-graph state are the same for every request until it changes, so
    # their rendered parts are kept with it: memo(key, compute).
    memo: object = None

    def remember(self, key, compute):
        return self.memo(key, compute) if self.memo else compute()

    @property
    def shown(self):
        return self.graph.number_of_nodes() if self.graph is not None else 0


def compute(handle, data, *, filters=None, q=""):
    """The GraphView for cleaned GraphForm data (filters and q: the results view's selection)."""
    view, limit, rm = data["view"], data["limit"], handle.readmodel
    if view == "neighbourhood":
        nodes, edges, total = selectors.neighbourhood(
            rm=rm, center=data["memory"], depth=data["depth"], types=tuple(data["node_type"]),
            categories=tuple(data["category"]), limit=limit, expand=data["expand"])
        if not nodes:
            raise LookupError(f"No memory with id {data['memory']}.")
        center = next(n for n in nodes if n["id"] == data["memory"])
        return _with_ranks(handle, GraphView(builders.build_graph(nodes, edges), total,
                                             f"Around “{center['title']}”, depth {data['depth']}"))
    if view == "results":
        parsed = parse_query(q) if q else None
        if parsed is not None:
            ids = search_ids(rm=rm, parsed=parsed, filters=filters, limit=limit)
        else:
            ids = selection_ids(rm=rm, filters=filters)[:limit]
        nodes, edges, total = selectors.around(rm=rm, ids=ids, limit=limit)
        label = f"“{q}”" if q else "the selection"
        return _with_ranks(handle, GraphView(builders.build_graph(nodes, edges), total,
                                             f"Results for {label} and their neighbours", stats={"hits": len(ids)}))
    state = analytics.graph_state(handle, wait=WAIT_SECONDS)
    if state is None:
        return GraphView(computing=True, title=TITLES.get(view, "Path"))
    G = state.graph
    if view == "overview":
        H, stats = state.memo(("overview", limit), lambda: builders.overview(
            G, pagerank=state.pagerank, communities=state.communities, limit=limit))
        return GraphView(H, stats["total"], TITLES[view], stats=stats, ranks=state.pagerank,
                         communities=state.communities, memo=_memo(state, view, limit))
    if view == "path":
        try:
            H = builders.shortest_path(G, data["source"], data["target"])
        except KeyError as exc:
            raise LookupError(f"No memory with id {exc.args[0]}.") from exc
        result = GraphView(H, H.number_of_nodes() if H is not None else 0, "Shortest path",
                           ranks=state.pagerank, communities=state.communities)
        result.stats["connected"] = H is not None
        return result
    # Built unlimited once, to know M for "showing N of M", then cut in the builder's priority order.
    full = state.memo((view,), lambda: getattr(builders, view)(G, limit=G.number_of_nodes()))
    H, total = builders.subgraph(full, list(full.nodes), limit=limit)
    return GraphView(H, total, TITLES[view], ranks=state.pagerank, communities=state.communities,
                     memo=_memo(state, view, limit))


def _memo(state, *view_key):
    return lambda key, compute: state.memo((*view_key, *key), compute)


def _with_ranks(handle, result):
    """Attach PageRank/communities when a whole-graph state is already at hand (never waits)."""
    state = analytics.graph_state(handle)
    if state is not None:
        result.ranks, result.communities = state.pagerank, state.communities
    return result
