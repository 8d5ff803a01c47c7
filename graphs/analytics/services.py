"""Compute a read model's whole-graph analytics and store them in it: the worker's job.

One run reads a snapshot of the graph (one read transaction), runs the algorithms of
``graphs.builders`` on it, and replaces every stored row set in one write transaction, so
readers see the old sets or the new ones, never a mix. It is incremental where that is
cheap: when no memory's type or importance and no current edge changed (edits of titles,
content, tags), the sets are only retagged; otherwise PageRank starts from the stored ranks.
"""
import hashlib
import json
import logging
import time

from django.conf import settings

from memories.connector import StoreError
from memories.registry import handle_for

from .. import builders
from . import sql
from .selectors import VIEWS, sets

log = logging.getLogger("memories.graphs")


def analytics_run(*, rm, now=None):
    """Compute and store the analytics of the read model ``rm`` (whatever the debounce says).

    ``now`` (wall-clock seconds; default the current time) is when the snapshot is taken.
    Returns a summary: generation, memories, edges, seconds, and ``retagged`` when the graph
    had not changed since the stored sets, which were then only moved to this generation.
    """
    started = time.time() if now is None else now
    clock = time.perf_counter()
    snap = _snapshot(rm)
    stored = sets(rm)
    summary = {"generation": snap["generation"], "memories": len(snap["nodes"]), "edges": len(snap["edges"])}
    ranks = stored.get("ranks")
    if ranks and ranks.detail.get("fingerprint") == snap["fingerprint"] and set(VIEWS) <= set(stored):
        _transaction(rm, lambda conn: conn.execute(
            sql.SETS_RETAG, (snap["generation"], started, started + time.perf_counter() - clock)))
        return {**summary, "seconds": round(time.perf_counter() - clock, 2), "retagged": True}
    G = builders.build_graph(snap["nodes"], snap["edges"])
    pagerank, community = builders.rank_and_communities(G, nstart=snap["prior"])
    ranked = sorted(G, key=lambda n: -pagerank[n])
    position = {n: i for i, n in enumerate(ranked)}
    rank_rows = [(n, position[n], pagerank[n], community[n], d_in, d_out, d_in + d_out)
                 for n, d_in, d_out in snap["degrees"] if n in G]
    members, totals = _members(G)
    seconds = round(time.perf_counter() - clock, 2)
    detail = {"fingerprint": snap["fingerprint"], "isolated": sum(1 for c in community.values() if c < 0),
              "communities": len({c for c in community.values() if c >= 0})}
    tag = (snap["generation"], started, started + seconds, seconds)
    set_rows = [("ranks", *tag, len(G), json.dumps(detail))]
    set_rows += [(view, *tag, totals[view], "{}") for view in VIEWS]

    def write(conn):
        conn.execute(sql.RANKS_CLEAR)
        conn.executemany(sql.RANK_INSERT, rank_rows)
        conn.execute(sql.MEMBERS_CLEAR)
        conn.executemany(sql.MEMBER_INSERT, members)
        conn.execute(sql.SETS_CLEAR)
        conn.executemany(sql.SET_INSERT, set_rows)

    _transaction(rm, write)
    return {**summary, "seconds": round(time.perf_counter() - clock, 2), "retagged": False,
            "communities": detail["communities"]}


# KB_ANALYTICS_INTERVAL "auto": wait AUTO_FACTOR times as long as the last computation took, so
# the worker computes at most about half the time while writes keep coming, and a small graph's
# ranks follow within seconds (measured: kb_bench_load); within these bounds.
AUTO_FACTOR, AUTO_MIN_S, AUTO_MAX_S = 2.0, 1.0, 30.0


def debounce_seconds(interval, ranks):
    """Seconds between the starts of two computations while writes keep coming."""
    if interval != "auto":
        return float(interval)
    return min(AUTO_MAX_S, max(AUTO_MIN_S, AUTO_FACTOR * ranks.seconds))


def analytics_due(*, rm, interval, now=None):
    """Whether to recompute: the read model changed since the stored sets were computed, and
    the last run started at least ``interval`` seconds ago (``"auto"``: see debounce_seconds).
    So while writes keep coming the analytics are recomputed at most once per interval, and
    the first change after a quiet spell is computed at once."""
    ranks = sets(rm).get("ranks")
    if ranks is None:
        return True
    if ranks.generation == rm.changed_at():
        return False
    return (time.time() if now is None else now) - ranks.started_at >= debounce_seconds(interval, ranks)


def analytics_run_if_due(*, rm, interval=None, now=None):
    """``analytics_run`` when ``analytics_due`` (interval: default ``KB_ANALYTICS_INTERVAL``), else None."""
    interval = settings.KB_ANALYTICS_INTERVAL if interval is None else interval
    if not analytics_due(rm=rm, interval=interval, now=now):
        return None
    return analytics_run(rm=rm, now=now)


def analytics_refresh(client, *, interval=None):
    """The worker's tick for one client database: bring a local database's read model up to
    date with its canonical file (the sync worker does that for synced ones after each pull),
    then recompute its analytics if due. None when nothing was due or it has no index yet."""
    handle = handle_for(client)
    try:
        if client.synced:
            rm = handle.readmodel
            if not rm.is_built(client.path):
                return None
        else:
            rm = handle.ensure_fresh()
    except StoreError as exc:
        log.debug("%s: no analytics: %s", client.slug, exc)  # the site shows the error itself
        return None
    result = analytics_run_if_due(rm=rm, interval=interval)
    if result:
        log.info("%s: analytics of %d memories %s in %.2f s", client.slug, result["memories"],
                 "retagged" if result["retagged"] else "computed", result["seconds"])
    return result


def _snapshot(rm):
    """The graph as of one read transaction, its fingerprint, degrees and the stored ranks."""
    conn = rm.conn
    conn.execute("BEGIN")
    try:
        row = conn.execute(sql.GENERATION).fetchone()
        nodes = [{"id": i, "type": t, "importance": imp} for i, t, imp in conn.execute(sql.SNAPSHOT_NODES)]
        edges = [{"id": i, "from_id": u, "to_id": v, "rel_type": rel, "category": cat, "strength": s}
                 for i, u, v, rel, cat, s in conn.execute(sql.SNAPSHOT_EDGES)]
        degrees = conn.execute(sql.DEGREES).fetchall()
        prior = dict(conn.execute(sql.PRIOR_RANKS).fetchall())
    finally:
        conn.execute("COMMIT")
    digest = hashlib.blake2b(digest_size=16)
    for item in nodes:
        digest.update(repr(tuple(item.values())).encode())
    for item in edges:
        digest.update(repr(tuple(item.values())).encode())
    return {"generation": row[0] if row else "", "nodes": nodes, "edges": edges, "degrees": degrees,
            "prior": prior, "fingerprint": digest.hexdigest()}


def _members(G):
    """``(rows, totals)``: graph_member rows of every whole-graph view, and each view's total."""
    rows, totals = [], {}

    def add(view, groups, role=lambda n: "member"):
        position = 0
        for grp, group in enumerate(groups):
            for n in dict.fromkeys(group):
                rows.append((view, position, grp, n, role(n)))
                position += 1

    pieces = builders.chain_pieces(G)
    add("chains", pieces)
    totals["chains"] = sum(map(len, pieces))
    open_, context = builders.unsolved_order(G)
    focus = set(open_)
    add("unsolved", ([n] for n in open_ + context), lambda n: "open" if n in focus else "context")
    totals["unsolved"] = len(open_)
    for view in ("contradictions", "superseded"):
        pairs = builders.typed_edges(G, builders.VIEW_REL_TYPES[view])
        add(view, pairs)
        totals[view] = len({n for pair in pairs for n in pair})
    return rows, totals


def _transaction(rm, work):
    """work(conn) in one IMMEDIATE transaction that does not stamp meta.changed_at: analytics
    are derived from the read model's generation and must not move it."""
    conn = rm.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        work(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
