"""The members of the causal views (chains, unsolved, contradictions, superseded), kept from a
GraphState: computed once from the whole graph (``views_full``), then, after a change,
recomputed only around the memories and edges it touched (``views_update``). Each is local:
a chain is a connected piece of the chain graph, whether a problem is open depends on its
incoming edges, a typed view is a list of edges. The result equals what graphs.builders
computes from the whole graph (tests/graphs/test_graph_incremental.py checks it), because each
piece is walked by the same builder, and everything is put in the same order.
"""
from memories.format import RESOLVING_TYPES, UNRESOLVABLE_TYPES

from .. import builders

TYPED_VIEWS = ("contradictions", "superseded")


class Views:
    def __init__(self):
        self.pieces = {}  # key (the piece's first memory by rid) -> (sort key, walk)
        self.piece_of = {}  # memory id -> key of the chain piece it is in
        self.open = set()  # problems and errors with no incoming SOLVES/ADDRESSES
        self.typed = {view: set() for view in TYPED_VIEWS}  # edge ids of each typed view
        self.rows = {}  # view -> (graph_member rows, total), as last computed
        self.dirty = {"chains", "unsolved", *TYPED_VIEWS}  # views whose rows must be computed again


def views_full(state):
    views = Views()
    return views_update(state, views, set(state.nodes), set(state.edges))


def views_update(state, views, touched, touched_edges):
    """Bring ``views`` in step with ``state`` after the memories ``touched`` (ends of the
    edges ``touched_edges`` included) and the edges ``touched_edges`` changed, and mark the
    views whose rows that changes: a view's rows depend only on its members, their edges and
    their neighbours, and a change of any of those touches a member."""
    if _chains(state, views, touched):
        views.dirty.add("chains")
    was_open = touched & views.open
    for n in touched:
        views.open.discard(n)
        if _is_open(state, n):
            views.open.add(n)
    if was_open or touched & views.open:
        views.dirty.add("unsolved")
    for view in TYPED_VIEWS:
        wanted, typed = builders.VIEW_REL_TYPES[view], views.typed[view]
        changed = bool(touched_edges & typed)
        for e in touched_edges:
            typed.discard(e)
            if e in state.edges and state.edges[e][2] in wanted:
                typed.add(e)
                changed = True
        if changed or any(state.edges[e][0] in touched or state.edges[e][1] in touched for e in typed):
            views.dirty.add(view)
    return views


def members(state, views):
    """``(rows, totals)``: graph_member rows of every view, and each view's total; only the
    views marked dirty are computed again."""
    for view in list(views.dirty):
        views.rows[view] = _view_rows(state, views, view)
    views.dirty.clear()
    rows = [row for view in ("chains", "unsolved", *TYPED_VIEWS) for row in views.rows[view][0]]
    return rows, {view: total for view, (_, total) in views.rows.items()}


def _view_rows(state, views, view):
    rows = []

    def add(groups, role=lambda n: "member"):
        position = 0
        for grp, group in enumerate(groups):
            for n in dict.fromkeys(group):
                rows.append((view, position, grp, n, role(n)))
                position += 1

    if view == "chains":
        pieces = [walk for _, walk in sorted(views.pieces.values())]
        add(pieces)
        return rows, sum(map(len, pieces))
    if view == "unsolved":
        open_ = sorted(views.open, key=lambda n: (-(state.nodes[n][2] or 0.0), state.nodes[n][0]))
        kept = dict.fromkeys(open_)
        for n in open_:
            ends = _ordered_ends(state, state.inc.get(n, ()), 0)
            ends += _ordered_ends(state, state.out.get(n, ()), 1)
            for m in ends:
                kept.setdefault(m)
        focus = set(open_)
        add(([n] for n in kept), lambda n: "open" if n in focus else "context")
        return rows, len(open_)
    pairs = [state.edges[e][:2] for e in state.g_ordered(state.graph_edges(views.typed[view]))]
    add(pairs)
    return rows, len({n for pair in pairs for n in pair})


def _is_open(state, n):
    node = state.nodes.get(n)
    if node is None or node[1] not in UNRESOLVABLE_TYPES:
        return False
    return not any(state.edges[e][2] in RESOLVING_TYPES for e in state.graph_edges(state.inc.get(n, ())))


def _ordered_ends(state, edge_ids, end):
    """The other ends of ``edge_ids`` (``end`` 0: sources, 1: targets), each once, in the order
    a MultiDiGraph built by edge id lists a memory's predecessors or successors."""
    ends = {}
    for e in sorted(state.graph_edges(edge_ids)):
        ends.setdefault(state.edges[e][end])
    return list(ends)


def _is_chain_node(state, n):
    node = state.nodes.get(n)
    return node is not None and node[1] in builders.CHAIN_TYPES


def _chain_neighbours(state, n):
    for adjacency, end in ((state.out, 1), (state.inc, 0)):
        for e in state.graph_edges(adjacency.get(n, ())):
            other = state.edges[e][end]
            if _is_chain_node(state, other) and state.category(e) in builders.CHAIN_CATEGORIES:
                yield other


def _chains(state, views, touched):
    """Recompute the chain pieces that hold a touched memory (before or after the change);
    whether any piece went or came."""
    start = {n for n in touched if _is_chain_node(state, n)}
    old = {views.piece_of[n] for n in touched if n in views.piece_of}
    changed = bool(old)
    for key in old:
        start.update(_drop_piece(views, key))
    seen = set()
    for n in sorted(start):
        if n in seen or not _is_chain_node(state, n):
            continue
        component, queue = {n}, [n]
        while queue:
            for m in _chain_neighbours(state, queue.pop()):
                if m not in component:
                    component.add(m)
                    queue.append(m)
        seen |= component
        for key in {views.piece_of[m] for m in component if m in views.piece_of}:
            _drop_piece(views, key)
            changed = True
        if len({state.nodes[m][1] for m in component}) >= 2:
            _add_piece(state, views, component)
            changed = True
    return changed


def _drop_piece(views, key):
    _, walk = views.pieces.pop(key)
    for m in walk:
        views.piece_of.pop(m, None)
    return walk


def _add_piece(state, views, component):
    walk = _walk(state, component)
    key = min(component, key=lambda m: state.nodes[m][0])
    views.pieces[key] = ((-len(walk), state.nodes[key][0]), walk)
    for m in walk:
        views.piece_of[m] = key


def _walk(state, component):
    """One chain piece in the order graphs.builders.chain_pieces walks it in the whole graph:
    breadth-first from its best-connected memory (ties: the first by rid) over the undirected
    skeleton, whose neighbour lists are in the order networkx builds them from a MultiDiGraph
    made by edge id (a memory's successors by their first edge). Done here rather than by
    building networkx graphs, which cost most of a step when the piece is large."""
    order = sorted(component, key=lambda m: state.nodes[m][0])
    degree = dict.fromkeys(order, 0)
    adjacent = {m: {} for m in order}
    for u in order:
        first, chained = {}, set()
        for e in state.out.get(u, ()):
            v = state.edges[e][1]
            if v not in component:
                continue
            if v not in first or e < first[v]:
                first[v] = e
            if state.category(e) in builders.CHAIN_CATEGORIES:
                chained.add(v)
                degree[u] += 1
                degree[v] += 1
        for v in sorted(chained, key=first.__getitem__):
            if v != u:
                adjacent[u].setdefault(v)
                adjacent[v].setdefault(u)
    rank = {m: i for i, m in enumerate(order)}
    hub = max(order, key=lambda m: (degree[m], -rank[m]))
    walk, seen, level = [hub], {hub}, [hub]
    while level:
        following = []
        for parent in level:
            for child in adjacent[parent]:
                if child not in seen:
                    seen.add(child)
                    walk.append(child)
                    following.append(child)
        level = following
    return walk
