"""Assemble one graph view from its URL state: selectors and stored analytics -> builders.

Returns a networkx graph of at most ``limit`` nodes plus what the page says about it
("showing N of M", how fresh the ranks are). Neighbourhoods, result graphs and shortest
paths are walked in the read model and render at once; the overview and the causal views
read what the worker stored (``graphs.analytics``) and answer "computing" until its first
run. Nothing here holds the whole graph.
"""
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from memories.search.engine import search_ids
from memories.search.query import parse_query
from memories.selectors import selection_ids
from memories.store import cache

from . import builders, selectors
from .analytics import selectors as analytics

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
    # The stored ranks (None before the worker's first run) and the read model's generation
    # when the view was read: together they say how fresh the ranks are.
    rank_set: object = None
    generation: str = ""
    # Views of stored analytics are kept (memories.store.cache) until the data or the analytics
    # change, and their rendered parts with them: remember(key, compute).
    parts: dict = field(default_factory=dict)
    # One thread computes a part while the others asking for it wait (a cached view is shared by
    # the process's threads: after a miss each would otherwise build the same payload and twin).
    lock: object = field(default_factory=threading.RLock, repr=False, compare=False)

    def remember(self, key, compute):
        with self.lock:
            if key not in self.parts:
                self.parts[key] = compute()
            return self.parts[key]

    @property
    def shown(self):
        return self.graph.number_of_nodes() if self.graph is not None else 0

    @property
    def freshness(self):
        return analytics.freshness(self.rank_set, generation=self.generation, now=time.time())

    @property
    def ranks_status(self):
        """The JSON twin's account of the ranks."""
        status = {"freshness": self.freshness, "current": False, "computed_at": None}
        if self.rank_set is not None:
            computed = datetime.fromtimestamp(self.rank_set.computed_at, UTC)
            status.update(current=self.rank_set.generation == self.generation,
                          computed_at=computed.isoformat(timespec="seconds"))
        return status


def compute(handle, data, *, filters=None, q=""):
    """The GraphView for cleaned GraphForm data (filters and q: the results view's selection)."""
    view, limit, rm = data["view"], data["limit"], handle.readmodel
    if view in ("neighbourhood", "results", "path"):
        result = _walked(rm, data, filters, q)
        with analytics.snapshot(rm):
            result.rank_set, result.generation = analytics.sets(rm).get("ranks"), rm.changed_at()
            result.ranks, result.communities = analytics.ranks_of(rm=rm, ids=list(result.graph))
        return result
    with analytics.snapshot(rm):
        stored, generation = analytics.sets(rm), rm.changed_at()
        wanted = stored.get("ranks" if view == "overview" else view)
        if "ranks" not in stored or wanted is None:
            return GraphView(computing=True, title=TITLES[view], generation=generation)
        if view == "overview":
            # Kept across writes to other memories: the view is the stored ranks' top memories,
            # so it changes when the worker's next step stores new ranks (any change of the graph
            # is followed by one, KB_ANALYTICS_STEP_INTERVAL) or when one of those memories is
            # edited or deleted (the probe of their versions). Measured at 100,000 memories while
            # agents wrote: every write made each web worker build the overview again.
            token = (wanted.computed_at, analytics.top_versions(rm=rm, limit=limit))
            result = cache.cached_by(rm, ("graph", view, limit), token,
                                     lambda: _stored(rm, view, limit, stored, generation))
            return replace(result, generation=generation)
        return cache.cached(rm, ("graph", view, limit, wanted.computed_at),
                            lambda: _stored(rm, view, limit, stored, generation))


def _walked(rm, data, filters, q):
    view, limit = data["view"], data["limit"]
    if view == "neighbourhood":
        nodes, edges, total = selectors.neighbourhood(
            rm=rm, center=data["memory"], depth=data["depth"], types=tuple(data["node_type"]),
            categories=tuple(data["category"]), limit=limit, expand=data["expand"])
        if not nodes:
            raise LookupError(f"No memory with id {data['memory']}.")
        center = next(n for n in nodes if n["id"] == data["memory"])
        H = builders.build_graph(nodes, edges)
        H.nodes[center["id"]]["center"] = True  # the drawing marks where the view starts
        return GraphView(H, total,
                         f"Around “{center['title']}”, depth {data['depth']}")
    if view == "results":
        parsed = parse_query(q) if q else None
        if parsed is not None:
            ids = search_ids(rm=rm, parsed=parsed, filters=filters, limit=limit)
        else:
            ids = selection_ids(rm=rm, filters=filters)[:limit]
        nodes, edges, total = selectors.around(rm=rm, ids=ids, limit=limit)
        label = f"“{q}”" if q else "the selection"
        return GraphView(builders.build_graph(nodes, edges), total,
                         f"Results for {label} and their neighbours", stats={"hits": len(ids)})
    return _path(rm, data["source"], data["target"])


def _path(rm, source, target):
    path, searched, bound = selectors.shortest_path(rm=rm, source=source, target=target)
    ids = path or list(dict.fromkeys((source, target)))
    found = selectors.nodes_by_ids(rm=rm, ids=ids)
    H = builders.build_graph([found[n] for n in ids if n in found],
                             selectors.edges_among(rm=rm, ids=ids) if path else [])
    if source in H:
        H.nodes[source]["center"] = True
    stats = {"connected": path is not None, "searched": searched}
    if path:
        # A shortest path has no chords, so the edges among its memories are exactly its steps.
        H.graph["path"] = path
    elif bound == "steps":
        stats["message"] = (f"no path within {selectors.PATH_MAX_STEPS} steps "
                            f"(searched {searched:,} memories)")
    elif bound == "visited":
        stats["message"] = (f"no path found: searched {searched:,} memories, the most one search "
                            f"may visit is {selectors.PATH_MAX_VISITED:,}")
    return GraphView(H, len(H), "Shortest path", stats=stats)


def _stored(rm, view, limit, stored, generation):
    """A whole-graph view from the stored analytics: the overview's most central memories,
    or a causal view's members cut to ``limit`` in their stored priority order."""
    rank_set = stored["ranks"]
    if view == "overview":
        nodes = analytics.top(rm=rm, limit=limit)
        H = builders.build_graph(nodes, selectors.edges_among(rm=rm, ids=[n["id"] for n in nodes]))
        stats = {"total": rank_set.total, "shown": len(H), "isolated": rank_set.detail["isolated"],
                 "communities": rank_set.detail["communities"]}
        return GraphView(H, rank_set.total, TITLES[view], stats=stats, rank_set=rank_set,
                         generation=generation, ranks={n["id"]: n["pagerank"] for n in nodes},
                         communities={n["id"]: n["community"] for n in nodes})
    roles = {}
    groups = analytics.member_groups(rm=rm, view=view, roles=roles)
    try:
        ids = builders.cut(groups, limit=limit, split_first=view == "chains")
    finally:
        groups.close()
    found = selectors.nodes_by_ids(rm=rm, ids=ids)
    focus = {n for n in ids if roles.get(n) == "open"}
    edges = builders.view_edges(view, selectors.edges_among(rm=rm, ids=ids), focus=focus)
    H = builders.build_graph([found[n] for n in ids if n in found], edges)
    for n in H:
        if n in roles:
            H.nodes[n]["role"] = roles[n]  # unsolved: 'open' problems and their 'context'
    ranks, communities = analytics.ranks_of(rm=rm, ids=ids)
    return GraphView(H, stored[view].total, TITLES[view], rank_set=rank_set, generation=generation,
                     ranks=ranks, communities=communities)
