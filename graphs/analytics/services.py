"""Compute a read model's whole-graph analytics and store them in it: the worker's job.

Two kinds of run, each replacing every stored row set in one write transaction, so readers see
the old sets or the new ones, never a mix:

- the full run (``analytics_run``): a fresh snapshot (``state.load``), PageRank from the
  uniform start, Louvain communities, the causal views from the whole graph; debounced
  (``schedule.analytics_due``);
- the step (``analytics_step``), within about a second of a change: the worker's GraphState
  reads only the rows the change log names, PageRank goes on from the previous ranks, a new
  memory joins its neighbours' community, degrees and the causal views are recomputed exactly
  around what changed (``views``).

When a full run finds the graph as its last one left it (edits of titles, content, tags), the
sets are only retagged.
"""
import json
import logging
import sqlite3
import time

from django.conf import settings

from memories.store.canonical import StoreError
from memories.store.registry import handle_for

from . import sql
from . import state as graph_state
from .ranks import isolated_of, rank_rows, ranks_full, ranks_step
from .schedule import analytics_due
from .selectors import VIEWS, sets
from .views import members, views_full, views_update

log = logging.getLogger("memories.graphs")

# The GraphState of each read model this process keeps analytics for (the worker's), by path.
STATES = {}


def analytics_run(*, rm, now=None):
    """The full run: compute and store the analytics of the read model ``rm`` (whatever the
    debounce says). ``now`` (wall-clock seconds; default the current time) is when the snapshot
    is taken. Returns a summary: generation, memories, edges, seconds, and ``retagged`` when the
    graph had not changed since the last full run, whose sets were then moved to this generation.
    """
    started = time.time() if now is None else now
    clock = time.perf_counter()
    _log_ensure(rm)
    STATES.pop(rm.path, None)  # never two copies of the graph at once
    state = graph_state.load(rm.conn)
    fingerprint = state.fingerprint()
    stored = sets(rm)
    summary = {"generation": state.generation, "memories": len(state.nodes), "edges": len(state.edges)}
    ranks = stored.get("ranks")
    if ranks and ranks.detail.get("fingerprint") == fingerprint and set(VIEWS) <= set(stored):
        # This run counts as the last full run (for the debounce), and this state as the sets' own.
        full = {**last_full_record(ranks), "started_at": started, "generation": state.generation}
        detail = json.dumps({**ranks.detail, "full": full, "state": state.token})

        def retag(conn):
            conn.execute(sql.SETS_RETAG, (state.generation, started, started + time.perf_counter() - clock))
            conn.execute(sql.RANKS_DETAIL, (detail,))
            conn.execute(sql.DIRTY_CLEAR, (state.seq,))
        _transaction(rm, retag)
        STATES[rm.path] = state
        return {**summary, "seconds": round(time.perf_counter() - clock, 2), "retagged": True}
    ranks_full(state)
    state.views = views_full(state)
    seconds = round(time.perf_counter() - clock, 2)
    detail = _store(rm, state, started=started, seconds=seconds,
                    full={"fingerprint": fingerprint, "started_at": started, "seconds": seconds,
                          "generation": state.generation})
    STATES[rm.path] = state
    return {**summary, "seconds": round(time.perf_counter() - clock, 2), "retagged": False,
            "communities": detail["communities"]}


def analytics_step(*, rm, now=None):
    """The step: bring the stored sets up to the read model's changes since they were stored,
    from the worker's GraphState (loaded from a snapshot the first time). None when nothing
    changed, or when there is no full run to go on from (``analytics_run`` first)."""
    started = time.time() if now is None else now
    clock = time.perf_counter()
    ranks = sets(rm).get("ranks")
    if ranks is None or not _log_ready(rm):
        return None
    state = STATES.get(rm.path)
    conn = rm.conn
    conn.execute("BEGIN")
    try:
        if state is None or state.stale(conn, built_at=rm.meta("built_at"), ranks=ranks):
            STATES.pop(rm.path, None)
            state = graph_state.load(conn)
            touched, touched_edges = set(state.nodes), set(state.edges)
        else:
            touched, touched_edges = state.apply(graph_state.changes(conn, state))
    finally:
        conn.execute("COMMIT")
    if state.views is None:  # a state a retagging full run loaded
        state.views = views_full(state)
    STATES[rm.path] = state
    if not touched and not touched_edges:
        if ranks.generation == state.generation:
            return None
        _transaction(rm, lambda c: c.execute(sql.SETS_RETAG, (
            state.generation, started, started + time.perf_counter() - clock)))
        return {"generation": state.generation, "memories": len(state.nodes), "edges": len(state.edges),
                "seconds": round(time.perf_counter() - clock, 2), "retagged": True, "step": True}
    ranks_step(state, touched)
    views_update(state, state.views, touched, touched_edges)
    seconds = round(time.perf_counter() - clock, 2)
    _store(rm, state, started=started, seconds=seconds, full=last_full_record(ranks))
    return {"generation": state.generation, "memories": len(state.nodes), "edges": len(state.edges),
            "seconds": round(time.perf_counter() - clock, 2), "retagged": False, "step": True,
            "touched": len(touched)}


def analytics_run_if_due(*, rm, interval=None, now=None):
    """``analytics_run`` when ``analytics_due`` (interval: default ``KB_ANALYTICS_INTERVAL``), else None."""
    interval = settings.KB_ANALYTICS_INTERVAL if interval is None else interval
    if not analytics_due(rm=rm, interval=interval, now=now):
        return None
    return analytics_run(rm=rm, now=now)


def analytics_refresh(client, *, interval=None, fulls=None, pace=None):
    """The worker's tick for one client database: bring a local database's read model up to
    date with its canonical file (the sync worker does that for synced ones after each pull),
    step its analytics after changes (when ``pace``, a schedule.StepPace, says a step is due;
    always without one), and run the full run when due: in ``fulls``' child process
    (background.FullRuns) when given, adopted at a later tick, otherwise here and now. The very
    first run, and the first after a rebuild, is always here and now. Returns the summary of
    what ran (None: nothing, or no index yet)."""
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
    interval = settings.KB_ANALYTICS_INTERVAL if interval is None else interval
    step = None
    # A finished full run is adopted only by a state that has caught up with its snapshot.
    if pace is None or pace.due(rm.path) or (fulls is not None and fulls.finished(rm.path)):
        began = time.monotonic()
        step = analytics_step(rm=rm)
        if pace is not None and step is not None:
            pace.stepped(rm.path, began, time.monotonic() - began)
    result = None
    if fulls is None or "ranks" not in sets(rm):
        result = analytics_run_if_due(rm=rm, interval=interval)
    elif not _log_ready(rm):  # a rebuild dropped the log: writes since are seen by a full run only
        result = analytics_run(rm=rm)
    elif (done := fulls.collect(rm.path)) is not None:
        result = analytics_adopt(rm=rm, full=done[0], started=done[1]) if done[0] else None
    elif not fulls.busy() and analytics_due(rm=rm, interval=interval):
        fulls.submit(rm.path, time.time())
    if result:
        log.info("%s: analytics of %d memories %s in %.2f s", client.slug, result["memories"],
                 "retagged" if result.get("retagged") else "computed", result["seconds"])
    elif step:
        log.debug("%s: analytics step for %s memories in %.2f s", client.slug, step.get("touched", 0),
                  step["seconds"])
    return result or step


def analytics_adopt(*, rm, full, started):
    """Store a full run computed elsewhere (background.full_compute, begun at ``started``): its
    ranks and communities replace the GraphState's, then a step brings them up to the changes
    made since its snapshot (memories new since then find their community again). None when it
    no longer applies (the read model was rebuilt meanwhile) or the state is behind it."""
    clock = time.perf_counter()
    state = STATES.get(rm.path)
    if state is None or state.views is None or state.built_at != full["built_at"] or state.seq < full["seq"]:
        return None
    state.pagerank = {n: full["pagerank"].get(n, state.pagerank.get(n, 0.0)) for n in state.nodes}
    state.community = {n: full["community"].get(n, -1) for n in state.nodes}
    # Memories new since the snapshot, and those that gained their first edge or lost their last.
    isolated = isolated_of(state)
    moved = {n for n in state.nodes if (state.community[n] < 0) != (n in isolated)}
    if state.seq > full["seq"] or moved:
        ranks_step(state, moved)
    record = {"fingerprint": full["fingerprint"], "started_at": started, "seconds": full["seconds"],
              "generation": full["generation"]}
    tagged = started if state.seq == full["seq"] else time.time()
    detail = _store(rm, state, started=tagged, seconds=full["seconds"], full=record)
    return {"generation": full["generation"], "memories": full["memories"], "edges": full["edges"],
            "seconds": full["seconds"], "adopt_seconds": round(time.perf_counter() - clock, 2),
            "retagged": False, "communities": detail["communities"], "background": True}


def _store(rm, state, *, started, seconds, full):
    """Replace every stored set by ``state``'s, tagged with its generation; the change log's rows
    it reflects go. Returns the ranks' detail.

    After the first write of a state only what moved is written (a rank by more than RANK_EPS,
    a position, a community, a degree; a view whose members changed): a step after one new memory
    then writes a few thousand rows at 100,000 memories instead of all of them, so it holds the
    read model's write lock, which the site's writes wait for, a fraction of the time."""
    rank_rows_, detail = rank_rows(state)
    detail.update(fingerprint=full["fingerprint"], full=full, state=state.token)
    rows, totals = members(state, state.views)
    same_members = rows == state.stored_members
    stored = state.stored_ranks
    if stored is None:
        moved, gone = rank_rows_, None
    else:
        moved = [r for r in rank_rows_ if _moved(stored.get(r[0]), r)]
        gone = [(n,) for n in stored if n not in state.nodes]
    tag = (state.generation, started, started + seconds, seconds)
    set_rows = [("ranks", *tag, len(state.nodes), json.dumps(detail))]
    set_rows += [(view, *tag, totals[view], "{}") for view in VIEWS]

    def write(conn):
        if gone is None:
            conn.execute(sql.RANKS_CLEAR)
            conn.executemany(sql.RANK_INSERT, moved)
        else:
            conn.executemany(sql.RANK_DELETE, gone)
            conn.executemany(sql.RANK_UPSERT, moved)
        if not same_members:
            conn.execute(sql.MEMBERS_CLEAR)
            conn.executemany(sql.MEMBER_INSERT, rows)
        conn.execute(sql.SETS_CLEAR)
        conn.executemany(sql.SET_INSERT, set_rows)
        conn.execute(sql.DIRTY_CLEAR, (state.seq,))

    _transaction(rm, write)
    state.stored_members = rows
    if stored is None:
        state.stored_ranks = {r[0]: r for r in moved}
    else:
        for (n,) in gone:
            del stored[n]
        stored.update((r[0], r) for r in moved)
    return detail


# A rank is written again when it moved by more than this (the stored ranks stay this close to
# the state's; the tests' tolerances are 1e-9 after a full run and 1e-7 after steps).
RANK_EPS = 1e-11


def _moved(old, new):
    return old is None or old[1] != new[1] or abs(old[2] - new[2]) > RANK_EPS or old[3:] != new[3:]


def last_full_record(ranks):
    """The record of the last full run in the ranks' detail (sets stored before steps existed
    have none: their own run was one)."""
    if ranks.detail.get("full"):
        return ranks.detail["full"]
    return {"fingerprint": ranks.detail.get("fingerprint"), "started_at": ranks.started_at,
            "seconds": ranks.seconds, "generation": ranks.generation}


def _log_ready(rm):
    try:
        return graph_state.log_ready(rm.conn)
    except sqlite3.OperationalError:  # no memory table yet
        return False


def _log_ensure(rm):
    """The change log and its triggers, created when missing (after a rebuild dropped them)."""
    if not _log_ready(rm):
        _transaction(rm, graph_state.log_install)


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
