"""PageRank by power iteration on a scipy sparse matrix: networkx's own algorithm
(``networkx.pagerank`` runs ``_pagerank_scipy``), over arrays instead of a networkx graph,
so that the worker holds no second copy of a 100,000-memory graph and can start from the
previous ranks after a change (a few iterations instead of dozens)."""
import numpy as np
import scipy.sparse

from memories.format import SYMMETRIC_TYPES

from ..builders import DEFAULT_STRENGTH

ALPHA = 0.85
NX_TOL = 1.0e-6  # networkx's default: stop when an iteration moves the ranks by < N * tol in all
STEP_TOL = 1.0e-10  # after a change: from a start this close, iterating to near-exact is cheap
MAX_ITER = 100


def weighted_pairs(state, ids):
    """``(rows, cols, weights)`` index arrays of the weighted DiGraph PageRank sees
    (graphs.builders._weighted): strength, 0.5 when unset; symmetric types both ways;
    parallel edges add up (the sparse matrix sums duplicates)."""
    index = {n: i for i, n in enumerate(ids)}
    rows, cols, weights = [], [], []
    get, row, col, weight = index.get, rows.append, cols.append, weights.append
    for u, v, rel_type, _, strength in state.edges.values():
        a, b = get(u), get(v)
        if a is None or b is None:
            continue
        w = DEFAULT_STRENGTH if strength is None else float(strength)
        row(a)
        col(b)
        weight(w)
        if a != b and rel_type in SYMMETRIC_TYPES:
            row(b)
            col(a)
            weight(w)
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(weights, dtype=float)


def pagerank(ids, pairs, *, start=None, tol=NX_TOL, max_iter=MAX_ITER):
    """``{id: rank}`` for the memories ``ids`` and the weighted ``pairs``; ``start`` (a dict,
    missing ids start at 0, as networkx's ``nstart``) or the uniform vector. With ``tol`` =
    NX_TOL and no start this is networkx's result; unlike networkx, it returns the last
    iterate rather than failing when ``max_iter`` is reached (the next step goes on from it)."""
    n = len(ids)
    if n == 0:
        return {}
    rows, cols, weights = pairs
    A = scipy.sparse.coo_array((weights, (rows, cols)), shape=(n, n)).tocsr()
    S = A.sum(axis=1)
    S[S != 0] = 1.0 / S[S != 0]
    A = (scipy.sparse.dia_array((S.T, 0), shape=A.shape).tocsr() @ A).tocsr()
    x = np.repeat(1.0 / n, n)
    if start:
        x0 = np.array([start.get(i, 0.0) for i in ids], dtype=float)
        if x0.sum() > 0:
            x = x0 / x0.sum()
    p = np.repeat(1.0 / n, n)
    dangling = np.where(S == 0)[0]
    for _ in range(max_iter):
        last = x
        x = ALPHA * (x @ A + sum(x[dangling]) * p) + (1 - ALPHA) * p
        if np.absolute(x - last).sum() < n * tol:
            break
    return dict(zip(ids, map(float, x)))
