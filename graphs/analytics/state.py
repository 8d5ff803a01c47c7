"""The worker's in-memory copy of one read model's graph, and the change log that keeps it current.

``GraphState`` holds what the analytics need and nothing more: each memory's rid, type and
importance, each current edge's ends, type, category and strength, and the edge ids at each
memory. It is loaded from one read snapshot (``load``) and then kept in step with the rows
named by ``graph_dirty``, a log filled by triggers on the read model's ``memory`` and
``edge`` tables (``changes``). A rebuild drops those tables and so their triggers: the worker
finds the triggers gone (``log_ready``), creates them again and reloads from a snapshot.
"""
import hashlib
import secrets
from collections import defaultdict

from memories.format import REL_CATEGORY

from . import sql

CHUNK = 4000  # ids per IN (...): SQLite's default limit on bound parameters is 32766
# A change naming more rows than this share of the graph is read as a fresh snapshot instead.
RELOAD_SHARE = 0.2


class GraphState:
    """One snapshot's graph plus the analytics derived from it (see ``graphs.analytics.views``)."""

    def __init__(self):
        self.nodes = {}  # id -> (rid, type, importance)
        self.edges = {}  # edge id -> (from_id, to_id, rel_type, category, strength)
        self.out = defaultdict(set)  # memory id -> ids of its current outgoing edges
        self.inc = defaultdict(set)  # memory id -> ids of its current incoming edges
        self.generation = ""
        self.seq = 0  # the last graph_dirty row this state reflects
        self.built_at = None  # meta.built_at of the read model it was loaded from
        self.pagerank = {}  # id -> rank, as last stored
        self.community = {}  # id -> community, as last stored
        self.views = None  # graphs.analytics.views.Views, once computed
        self.stored_members = None  # the graph_member rows this state last wrote
        self.stored_ranks = None  # id -> the graph_rank row as stored, once this state wrote them
        self._order = None  # order(), until a memory comes or goes
        self.token = secrets.token_hex(8)  # names the sets this state wrote (graph_set detail)

    # Changes -------------------------------------------------------------------------------

    def put_node(self, memory_id, rid, type_, importance):
        old = self.nodes.get(memory_id)
        if old is None or old[0] != rid:
            self._order = None
        self.nodes[memory_id] = (rid, type_, importance)

    def drop_node(self, memory_id):
        if self.nodes.pop(memory_id, None) is not None:
            self._order = None

    def put_edge(self, edge_id, from_id, to_id, rel_type, category, strength):
        self.drop_edge(edge_id)
        self.edges[edge_id] = (from_id, to_id, rel_type, category, strength)
        self.out[from_id].add(edge_id)
        self.inc[to_id].add(edge_id)

    def drop_edge(self, edge_id):
        old = self.edges.pop(edge_id, None)
        if old is not None:
            for adjacency, end in ((self.out, old[0]), (self.inc, old[1])):
                adjacency[end].discard(edge_id)
                if not adjacency[end]:
                    del adjacency[end]
        return old

    def apply(self, changed):
        """Apply the rows ``changes`` read; returns the memories and edges touched."""
        seq, memories, removed, edges, removed_edges, generation = changed
        touched = {row[0] for row in memories} | set(removed)
        touched_edges = {row[0] for row in edges} | set(removed_edges)
        for memory_id in removed:
            self.drop_node(memory_id)
        for memory_id, rid, type_, importance in memories:
            self.put_node(memory_id, rid, type_, importance)
        for edge_id in removed_edges:
            old = self.drop_edge(edge_id)
            if old:
                touched.update(old[:2])
        for edge_id, from_id, to_id, *rest in edges:
            old = self.drop_edge(edge_id)
            if old:
                touched.update(old[:2])
            self.put_edge(edge_id, from_id, to_id, *rest)
            touched.update((from_id, to_id))
        # A memory that appeared or went changes which of its edges are in the graph.
        for memory_id in list(touched):
            for e in self.out.get(memory_id, set()) | self.inc.get(memory_id, set()):
                touched.update(self.edges[e][:2])
        self.seq, self.generation = seq, generation
        return touched, touched_edges

    def stale(self, conn, *, built_at, ranks):
        """Whether to load a fresh snapshot rather than step from the log: the read model was
        rebuilt, the log restarted or dropped rows not read yet (its bound, sql.DIRTY_KEEP), the
        stored sets were written from another state (``kb_analytics`` in another process: it
        emptied the log up to its snapshot), or the log names more rows than a snapshot costs."""
        if ranks.detail.get("state") != self.token or self.built_at != built_at:
            return True
        last = conn.execute(sql.DIRTY_MAX).fetchone()[0] or 0
        dropped = int((conn.execute(sql.DIRTY_DROPPED_GET).fetchone() or (0,))[0] or 0)
        pending = conn.execute(sql.DIRTY_COUNT, (self.seq,)).fetchone()[0]
        return self.seq > last or self.seq < dropped or pending > max(1000, RELOAD_SHARE * len(self.nodes))

    # Reads ---------------------------------------------------------------------------------

    def order(self):
        """Memory ids in rid order: the order of the full snapshot (it breaks the algorithms' ties)."""
        if self._order is None:
            self._order = sorted(self.nodes, key=lambda n: self.nodes[n][0])
        return self._order

    def graph_edges(self, edge_ids):
        """Those of ``edge_ids`` whose two ends are memories (a graph drops the others)."""
        return [e for e in edge_ids if self.edges[e][0] in self.nodes and self.edges[e][1] in self.nodes]

    def degrees(self, memory_id):
        """(in, out): every current edge counts, whether or not its other end is a memory (as before)."""
        return len(self.inc.get(memory_id, ())), len(self.out.get(memory_id, ()))

    def neighbours(self, memory_id):
        """Memories joined to ``memory_id`` by a current edge, either way."""
        found = set()
        for e in self.graph_edges(self.out.get(memory_id, ())):
            found.add(self.edges[e][1])
        for e in self.graph_edges(self.inc.get(memory_id, ())):
            found.add(self.edges[e][0])
        return found

    def category(self, edge_id):
        edge = self.edges[edge_id]
        return edge[3] or REL_CATEGORY.get(edge[2])

    def g_ordered(self, edge_ids, *, every=False):
        """``edge_ids`` (of edges between memories) in the order a MultiDiGraph built from the
        snapshot iterates them (graphs.builders.build_graph adds edges by id): by the rid of the
        source, then by the first edge to each target, then by id. ``every``: they are all the
        graph's edges, so the first edge of each pair is among them."""
        first = {}
        if every:
            for e in edge_ids:
                pair = self.edges[e][:2]
                if pair not in first or e < first[pair]:
                    first[pair] = e
        else:
            for e in edge_ids:
                u, v = pair = self.edges[e][:2]
                if pair not in first:
                    first[pair] = min(x for x in self.graph_edges(self.out[u]) if self.edges[x][1] == v)
        return sorted(edge_ids, key=lambda e: (self.nodes[self.edges[e][0]][0], first[self.edges[e][:2]], e))

    def fingerprint(self):
        """A digest of everything the analytics depend on: equal digests, equal results."""
        digest = hashlib.blake2b(digest_size=16)
        for n in self.order():
            digest.update(repr((n, *self.nodes[n][1:])).encode())
        for e in sorted(self.edges):
            digest.update(repr((e, *self.edges[e])).encode())
        return digest.hexdigest()


def log_ready(conn):
    """Whether the change log's triggers are on the read model's tables."""
    found = conn.execute(sql.DIRTY_TRIGGERS_FOUND).fetchone()[0]
    return found == len(sql.DIRTY_TRIGGERS)


def log_install(conn):
    """Create the change log and its triggers (inside the caller's write transaction)."""
    conn.execute(sql.DIRTY_TABLE)
    for statement in sql.DIRTY_TRIGGERS:
        conn.execute(statement)


def load(conn):
    """A GraphState of the read model as of one read transaction (the caller's, or its own)."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        state = GraphState()
        row = conn.execute(sql.GENERATION).fetchone()
        state.generation = row[0] if row else ""
        state.built_at = (conn.execute(sql.BUILT_AT).fetchone() or (None,))[0]
        state.seq = conn.execute(sql.DIRTY_MAX).fetchone()[0] or 0
        for memory_id, rid, type_, importance in conn.execute(sql.STATE_NODES):
            state.put_node(memory_id, rid, type_, importance)
        for edge_id, *rest in conn.execute(sql.STATE_EDGES):
            state.put_edge(edge_id, *rest)
        for memory_id, rank, group in conn.execute(sql.STORED_RANKS):
            state.pagerank[memory_id], state.community[memory_id] = rank, group
    finally:
        if own:
            conn.execute("COMMIT")
    return state


def changes(conn, state):
    """Read the rows the log names since ``state.seq`` (inside the caller's read transaction):
    ``(seq, memory_rows, removed_memories, edge_rows, removed_edges, generation)``."""
    row = conn.execute(sql.GENERATION).fetchone()
    generation = row[0] if row else ""
    logged = conn.execute(sql.DIRTY_SINCE, (state.seq,)).fetchall()
    seq = max((s for s, _, _ in logged), default=state.seq)
    memory_ids = list(dict.fromkeys(i for _, kind, i in logged if kind == "m"))
    edge_ids = list(dict.fromkeys(i for _, kind, i in logged if kind == "e"))
    memories = _by_ids(conn, sql.state_nodes_of, memory_ids)
    edges = _by_ids(conn, sql.state_edges_of, edge_ids)
    present = {r[0] for r in memories}
    present_edges = {r[0] for r in edges}
    return (seq, memories, [i for i in memory_ids if i not in present], edges,
            [i for i in edge_ids if i not in present_edges], generation)


def _by_ids(conn, query, ids):
    rows = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        rows += conn.execute(query(len(chunk)), chunk).fetchall()
    return rows
