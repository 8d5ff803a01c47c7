"""PageRank, communities and degrees of a GraphState: from scratch (``ranks_full``), or after a
change (``ranks_step``): PageRank iterated on from the previous ranks to near-exact, a new
memory put in the community most of its neighbours are in; Louvain only in the full run."""
from memories.format import SYMMETRIC_TYPES

from .. import builders
from .pagerank import NX_TOL, STEP_TOL, pagerank, weighted_pairs


def ranks_full(state):
    """Converged PageRank from the uniform start (networkx's result) and Louvain communities."""
    ids = state.order()
    state.pagerank = pagerank(ids, weighted_pairs(state, ids), tol=NX_TOL)
    state.community = builders.communities(ids, _louvain_pairs(state, ids), isolated_of(state, ids))


def ranks_step(state, touched):
    """After the memories ``touched`` changed (or their edges): PageRank from the stored ranks,
    and communities for the touched memories that need one."""
    ids = state.order()
    state.pagerank = pagerank(ids, weighted_pairs(state, ids), start=state.pagerank, tol=STEP_TOL)
    for n in touched:
        if n not in state.nodes:
            state.community.pop(n, None)
        elif not state.neighbours(n) - {n} and not _has_loop(state, n):
            state.community[n] = -1
    # Twice: a memory whose neighbours were all new gets theirs once they have one.
    for _ in range(2):
        for n in sorted((n for n in touched if n in state.nodes), key=lambda n: state.nodes[n][0]):
            if state.community.get(n, -1) < 0 and (state.neighbours(n) or _has_loop(state, n)):
                state.community[n] = _majority(state, n)


def rank_rows(state):
    """graph_rank rows, most central first (ties in memory order), and the set's detail."""
    ids, pagerank, community, inc, out = state.order(), state.pagerank, state.community, state.inc, state.out
    ranked = sorted(ids, key=pagerank.__getitem__, reverse=True)  # stable: ties stay in memory order
    rows = []
    for position, n in enumerate(ranked):
        d_in, d_out = len(inc[n]) if n in inc else 0, len(out[n]) if n in out else 0
        rows.append((n, position, pagerank[n], community[n], d_in, d_out, d_in + d_out))
    groups = set(state.community.values())
    detail = {"isolated": sum(1 for n in ids if state.community[n] < 0), "communities": len(groups - {-1})}
    return rows, detail


def _has_loop(state, n):
    return any(state.edges[e][1] == n for e in state.out.get(n, ()))


def isolated_of(state, ids=None):
    """Memories with no edge at all (in a graph: a self-loop is an edge)."""
    return {n for n in (state.nodes if ids is None else ids) if not state.graph_edges(state.out.get(n, ()))
            and not state.graph_edges(state.inc.get(n, ()))}


def _majority(state, n):
    """The community most of ``n``'s neighbours are in (ties: the lowest number); a new one
    when none of them is in any."""
    counts = {}
    for m in state.neighbours(n) - {n}:
        c = state.community.get(m, -1)
        if c >= 0:
            counts[c] = counts.get(c, 0) + 1
    if counts:
        return min(counts, key=lambda c: (-counts[c], c))
    return max(state.community.values(), default=-1) + 1


def _louvain_pairs(state, ids):
    """``(u, v, weight)`` of the weighted DiGraph in the order graphs.builders._weighted makes
    its edges (so Louvain, which depends on that order, gives rank_and_communities' result)."""
    succ = {n: {} for n in ids}
    for e in state.g_ordered(state.graph_edges(state.edges), every=True):
        u, v, rel_type, _, strength = state.edges[e]
        w = builders.DEFAULT_STRENGTH if strength is None else float(strength)
        for a, b in [(u, v), (v, u)] if rel_type in SYMMETRIC_TYPES and u != v else [(u, v)]:
            succ[a][b] = succ[a].get(b, 0.0) + w
    return [(a, b, w) for a in ids for b, w in succ[a].items()]
